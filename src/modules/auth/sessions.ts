import { createHash } from 'node:crypto';
import { and, eq, isNull, lt } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { sessions, type UserRow, users } from '../../db/schema.ts';
import type { Tx } from '../../lib/deps.ts';
import { SessionExpiredError } from '../../lib/errors.ts';
import { newId, type RandomSource } from '../../lib/ids.ts';

/** `xsr_` + 256 random bits (base64url): recognisable by scanners, never stored in clear. */
const REFRESH_PREFIX = 'xsr_';
const REFRESH_PATTERN = /^xsr_[A-Za-z0-9_-]{43}$/;

export const hashRefreshToken = (token: string) => createHash('sha256').update(token).digest('hex');

export interface StartedSession {
  sessionId: string;
  refreshToken: string;
  expiresAt: Date;
}

/** Records a login; sessions past their age are cleared on the way (rows stay few). */
export async function startSession(
  db: Db | Tx,
  user: Pick<UserRow, 'id' | 'tokenVersion'>,
  now: Date,
  maxAgeSeconds: number,
  random: RandomSource,
): Promise<StartedSession> {
  const refreshToken = REFRESH_PREFIX + random(32).toString('base64url');
  const sessionId = newId('ses', random);
  const expiresAt = new Date(now.getTime() + maxAgeSeconds * 1000);
  await db.delete(sessions).where(lt(sessions.expiresAt, now));
  await db.insert(sessions).values({
    id: sessionId,
    userId: user.id,
    refreshHash: hashRefreshToken(refreshToken),
    tokenVersion: user.tokenVersion,
    createdAt: now,
    expiresAt,
  });
  return { sessionId, refreshToken, expiresAt };
}

/** The live session of a refresh token and its user; anything else is SessionExpiredError. */
export async function findLiveSession(db: Db, refreshToken: string, now: Date) {
  if (!REFRESH_PATTERN.test(refreshToken)) throw new SessionExpiredError();
  const [row] = await db
    .select({ session: sessions, user: users })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.refreshHash, hashRefreshToken(refreshToken)), isNull(sessions.endedAt)));
  if (!row || row.session.expiresAt <= now || row.session.tokenVersion !== row.user.tokenVersion) {
    throw new SessionExpiredError();
  }
  return row;
}

/** Logout: the session's refresh token and every access token issued from it stop working. */
export async function endSession(db: Db | Tx, sessionId: string, userId: string, now: Date) {
  const ended = await db
    .update(sessions)
    .set({ endedAt: now })
    .where(and(eq(sessions.id, sessionId), eq(sessions.userId, userId), isNull(sessions.endedAt)))
    .returning({ id: sessions.id });
  return ended.length > 0;
}
