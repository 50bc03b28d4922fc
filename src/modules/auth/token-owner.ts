import { eq, type SQL, sql } from 'drizzle-orm';
import { anyOfPlaceholder } from '../../db/any-of.ts';
import type { Db } from '../../db/client.ts';
import { coalescedLookup } from '../../db/coalesced-lookup.ts';
import { sessions, users } from '../../db/schema.ts';

export interface TokenOwner {
  id: string;
  organisationId: string;
  role: (typeof users.$inferSelect)['role'];
  tokenVersion: number;
  /** Only for a token of a session (login): when that session was logged out, if it was. */
  endedAt?: Date | null;
}

/**
 * The user a verified token names, with its session when it has one: the per-request check
 * that honours password changes and logouts. Coalesced (`coalescedLookup`): the requests of one
 * event-loop turn, a dashboard's parallel reads or many users', share one statement, each
 * answered from the rows as they were read in its own turn. Every statement is built once
 * (drizzle otherwise rebuilds the SQL text and row mapper on every request).
 */
export function createTokenOwnerLookup(db: Db) {
  const columns = {
    id: users.id,
    organisationId: users.organisationId,
    role: users.role,
    tokenVersion: users.tokenVersion,
  };
  const sessionUser = (where: SQL, name: string) =>
    db
      .select({ ...columns, sessionId: sessions.id, endedAt: sessions.endedAt })
      .from(sessions)
      .innerJoin(users, eq(users.id, sessions.userId))
      .where(where)
      .prepare(name);
  const user = (where: SQL, name: string) =>
    db.select(columns).from(users).where(where).prepare(name);

  const oneSession = sessionUser(
    eq(sessions.id, sql.placeholder('sessionId')),
    'auth_token_owner_session',
  );
  const manySessions = sessionUser(
    anyOfPlaceholder(sessions.id, 'sessionIds'),
    'auth_token_owners_sessions',
  );
  const oneUser = user(eq(users.id, sql.placeholder('userId')), 'auth_token_owner');
  const manyUsers = user(anyOfPlaceholder(users.id, 'userIds'), 'auth_token_owners');

  // A session belongs to one user: looked up by its id, then checked against the token's user.
  const bySession = coalescedLookup<string, TokenOwner & { sessionId: string }>({
    one: async (sessionId) => (await oneSession.execute({ sessionId }))[0],
    many: async (sessionIds) => {
      const rows = await manySessions.execute({ sessionIds: [...sessionIds] });
      return new Map(rows.map((row) => [row.sessionId, row]));
    },
  });
  const byUser = coalescedLookup<string, TokenOwner>({
    one: async (userId) => (await oneUser.execute({ userId }))[0],
    many: async (userIds) => {
      const rows = await manyUsers.execute({ userIds: [...userIds] });
      return new Map(rows.map((row) => [row.id, row]));
    },
  });

  return async (claims: {
    userId: string;
    sessionId?: string;
  }): Promise<TokenOwner | undefined> => {
    if (!claims.sessionId) return byUser(claims.userId);
    const owner = await bySession(claims.sessionId);
    return owner?.id === claims.userId ? owner : undefined;
  };
}
