import { and, desc, eq, gte, lt, lte, or, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { auditEvents } from '../../db/schema.ts';
import type { Deps, Tx } from '../../lib/deps.ts';
import { ForbiddenError, ValidationError } from '../../lib/errors.ts';
import { parseInput } from '../../lib/validation.ts';
import type { Session } from '../auth/session.ts';
import {
  type AuditAction,
  type AuditObjectType,
  type AuditOutcome,
  auditFilterSchema,
  auditPageSchema,
  DEFAULT_AUDIT_PAGE,
  MAX_AUDIT_PAGE,
} from './audit.schemas.ts';

export type AuditEventRow = typeof auditEvents.$inferSelect;

/** Who acted and from where: a Session carries all three; a failed login has no user. */
export interface AuditActor {
  organisationId: string | null;
  userId: string | null;
  clientAddress?: string;
}

export interface AuditObject {
  type: AuditObjectType;
  id: string;
}

/**
 * Appends one event. Pass the transaction that makes the change: the event commits with it
 * and a rollback takes it away, so the log never shows a change that did not happen.
 */
export async function recordAudit(
  db: Db | Tx,
  actor: AuditActor,
  action: AuditAction,
  object: AuditObject | null,
  at: Date,
  outcome: AuditOutcome = 'success',
): Promise<void> {
  await db.insert(auditEvents).values({
    organisationId: actor.organisationId,
    actorId: actor.userId,
    action,
    objectType: object?.type ?? null,
    objectId: object?.id ?? null,
    outcome,
    sourceAddress: actor.clientAddress || null,
    at,
  });
}

/** Opaque keyset cursor: the event's time (ms) and id, the list's sort key. */
const encodeCursor = (row: Pick<AuditEventRow, 'at' | 'id'>) =>
  Buffer.from(`${row.at.getTime()}:${row.id}`).toString('base64url');

function decodeCursor(cursor: string, field: string): { at: Date; id: number } {
  const match = /^(\d{1,15}):(\d{1,18})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match) throw new ValidationError(field, `${field}: is not a cursor of this list`);
  return { at: new Date(Number(match[1])), id: Number(match[2]) };
}

export interface AuditPage {
  events: AuditEventRow[];
  cursorOf(row: AuditEventRow): string;
  hasNextPage: boolean;
}

export type AuditService = ReturnType<typeof createAuditService>;

export function createAuditService({ db }: Pick<Deps, 'db'>) {
  return {
    /**
     * The caller's organisation's events, newest first, filtered; owners and admins only.
     * Events are only ever read here: no door updates or deletes them.
     */
    async list(
      session: Session,
      filter: unknown,
      page: unknown = {},
      /** What the door calls the cursor, for its error message. */
      cursorField = 'after',
    ): Promise<AuditPage> {
      if (session.role !== 'owner' && session.role !== 'admin') {
        throw new ForbiddenError('Only owners and admins can read the audit log');
      }
      const f = parseInput(auditFilterSchema, filter ?? {});
      const { first, after } = parseInput(auditPageSchema, page ?? {});
      const size = Math.min(first ?? DEFAULT_AUDIT_PAGE, MAX_AUDIT_PAGE);
      const cursor = after ? decodeCursor(after, cursorField) : undefined;
      const rows = await db
        .select()
        .from(auditEvents)
        .where(
          and(
            eq(auditEvents.organisationId, session.organisationId),
            f.action ? eq(auditEvents.action, f.action) : undefined,
            f.actorId ? eq(auditEvents.actorId, f.actorId) : undefined,
            f.objectType ? eq(auditEvents.objectType, f.objectType) : undefined,
            f.objectId ? eq(auditEvents.objectId, f.objectId) : undefined,
            f.from ? gte(auditEvents.at, f.from) : undefined,
            f.to ? lte(auditEvents.at, f.to) : undefined,
            cursor
              ? or(
                  lt(auditEvents.at, cursor.at),
                  and(eq(auditEvents.at, cursor.at), lt(auditEvents.id, cursor.id)),
                )
              : undefined,
          ),
        )
        .orderBy(desc(auditEvents.at), desc(auditEvents.id))
        .limit(size + 1);
      return {
        events: rows.slice(0, size),
        hasNextPage: rows.length > size,
        cursorOf: encodeCursor,
      };
    },

    /**
     * Deletes at most `batch` events older than `cutoff`, oldest first, in one short
     * transaction; the only delete the table's trigger lets through (it checks the setting).
     */
    async pruneBatch(cutoff: Date, batch: number): Promise<number> {
      return db.transaction(async (tx) => {
        await tx.execute(sql`select set_config('xscaler.audit_prune', 'on', true)`);
        // Raw subquery: drizzle reads a bigint column as text in a select, which `in` refuses.
        const deleted = await tx
          .delete(auditEvents)
          .where(
            sql`${auditEvents.id} in (select id from audit_events
              where at < ${cutoff.toISOString()}::timestamptz order by at limit ${batch})`,
          )
          .returning({ id: auditEvents.id });
        return deleted.length;
      });
    },
  };
}
