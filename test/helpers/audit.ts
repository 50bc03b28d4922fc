import { gt, max } from 'drizzle-orm';
import { auditEvents } from '../../src/db/schema.ts';
import type { TestServer } from './app.ts';

export type AuditRow = typeof auditEvents.$inferSelect;

/** The newest event id now: `eventsAfter(mark)` then returns exactly what came since. */
export async function auditMark(server: TestServer): Promise<number> {
  const [row] = await server.database.db.select({ id: max(auditEvents.id) }).from(auditEvents);
  return Number(row?.id ?? 0);
}

/** Events written after the mark, oldest first, read from the table (not through a door). */
export function eventsAfter(server: TestServer, mark: number): Promise<AuditRow[]> {
  return server.database.db
    .select()
    .from(auditEvents)
    .where(gt(auditEvents.id, mark))
    .orderBy(auditEvents.id);
}

/** POST /graphql as a client behind the trusted proxy: X-Forwarded-For names it. */
export async function gqlFrom<T = any>(
  server: TestServer,
  address: string,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
): Promise<{ data: T; errors?: { message: string; extensions?: { code?: string } }[] }> {
  const res = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-forwarded-for': address,
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data: T; errors?: { message: string }[] };
}
