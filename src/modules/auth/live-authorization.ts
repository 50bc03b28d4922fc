import { and, isNotNull } from 'drizzle-orm';
import { anyOf } from '../../db/any-of.ts';
import type { Db } from '../../db/client.ts';
import { sessions, users } from '../../db/schema.ts';
import type { Clock } from '../../lib/clock.ts';
import type { AuthenticatedSession } from './session.ts';

/**
 * The re-check before a live push (usage, alerts): a stream ends when its token expired, its
 * login ended (logout, a password reset) or its user was removed or changed password. Two
 * batched reads for any number of subscribers; the answer is a predicate over their sessions.
 */
export function createLiveAuthorization(db: Db, clock: Clock) {
  return async (subscribed: AuthenticatedSession[]) => {
    const now = clock.now().getTime();
    const ids = [...new Set(subscribed.map((s) => s.userId))];
    const sessionIds = [...new Set(subscribed.flatMap((s) => (s.sessionId ? [s.sessionId] : [])))];
    const [rows, ended] = await Promise.all([
      ids.length
        ? db
            .select({ id: users.id, tokenVersion: users.tokenVersion })
            .from(users)
            .where(anyOf(users.id, ids))
        : [],
      sessionIds.length
        ? db
            .select({ id: sessions.id })
            .from(sessions)
            .where(and(anyOf(sessions.id, sessionIds), isNotNull(sessions.endedAt)))
        : [],
    ]);
    const versions = new Map(rows.map((r) => [r.id, r.tokenVersion]));
    const loggedOut = new Set(ended.map((r) => r.id));
    return (s: AuthenticatedSession) =>
      s.expiresAt.getTime() > now &&
      versions.get(s.userId) === s.tokenVersion &&
      !(s.sessionId && loggedOut.has(s.sessionId));
  };
}

export type LiveAuthorization = ReturnType<typeof createLiveAuthorization>;

/** What a lapsed subscriber is told as its stream ends. */
export const LAPSED_MESSAGE = 'Token expired or revoked; subscribe again with a new token';
