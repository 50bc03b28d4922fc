import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { errors, jwtVerify, SignJWT } from 'jose';
import type { Config } from '../../config.ts';
import type { Clock } from '../../lib/clock.ts';
import { UnauthenticatedError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/logger.ts';
import { keptSecret } from './kept-secret.ts';

/** Where the development secret is kept: beside the embedded database's own files. */
export const KEPT_SECRET_FILE = 'jwt-secret';

/**
 * The HS256 secret: JWT_SECRET, or without it (config refuses that in production) a generated
 * one. On the embedded database on disk it is kept in the data folder (`PGLITE_DIR/jwt-secret`),
 * so tokens survive a restart as the data does; on PostgreSQL or in-memory PGlite it is random
 * and tokens end when the portal stops. Made once per start: by the process, or by the cluster
 * primary for all its workers.
 */
export function signingSecret(
  config: Pick<Config, 'jwt' | 'databaseUrl' | 'pgliteDir'>,
  logger: Logger,
): string {
  if (config.jwt.secret) return config.jwt.secret;
  if (!config.databaseUrl && !config.pgliteDir.startsWith('memory://')) {
    const file = join(config.pgliteDir, KEPT_SECRET_FILE);
    const { secret, created } = keptSecret(file);
    logger.warn(
      `JWT_SECRET is not set: signing with the development secret ${created ? 'made in' : 'kept in'} ${file}; set JWT_SECRET in production`,
    );
    return secret;
  }
  logger.warn('JWT_SECRET is not set: using a random secret, tokens end when the portal stops');
  return randomBytes(32).toString('hex');
}

export interface TokenSettings {
  secret: Uint8Array;
  issuer: string;
  audience: string;
  ttlSeconds: number;
}

export interface TokenClaims {
  userId: string;
  /** The user's token version when issued; a password change bumps it. */
  version: number;
  /** The login (sessions row) the token belongs to; logout ends it. */
  sessionId?: string;
}

const ALGORITHM = 'HS256';

/** A token for ttlSeconds, or until notAfter (the session's end) when that comes first. */
export async function issueToken(
  settings: TokenSettings,
  clock: Clock,
  claims: TokenClaims,
  notAfter?: Date,
) {
  const now = Math.floor(clock.now().getTime() / 1000);
  const cap = notAfter ? Math.floor(notAfter.getTime() / 1000) : Number.POSITIVE_INFINITY;
  const expiresAt = Math.min(now + settings.ttlSeconds, cap);
  const payload = claims.sessionId
    ? { ver: claims.version, sid: claims.sessionId }
    : { ver: claims.version };
  const token = await new SignJWT(payload)
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
    .setSubject(claims.userId)
    .setIssuer(settings.issuer)
    .setAudience(settings.audience)
    .setIssuedAt(now)
    .setExpirationTime(expiresAt)
    .sign(settings.secret);
  return { token, expiresAt: new Date(expiresAt * 1000) };
}

/**
 * The secret as an HMAC verification key, imported once: given the raw bytes, jose imports them
 * through WebCrypto on every verification (~45 of ~140 us per token on this machine).
 */
const verificationKeys = new WeakMap<Uint8Array, Promise<CryptoKey>>();
function verificationKey(secret: Uint8Array): Promise<CryptoKey> {
  let key = verificationKeys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey(
      'raw',
      new Uint8Array(secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['verify'],
    );
    verificationKeys.set(secret, key);
  }
  return key;
}

/** Verifies signature, algorithm, exp, iss and aud; every failure is the same UnauthenticatedError. */
export async function verifyToken(
  settings: TokenSettings,
  clock: Clock,
  token: string,
): Promise<TokenClaims & { expiresAt: Date }> {
  try {
    const { payload } = await jwtVerify(token, await verificationKey(settings.secret), {
      algorithms: [ALGORITHM],
      issuer: settings.issuer,
      audience: settings.audience,
      requiredClaims: ['exp', 'iat', 'sub'],
      currentDate: clock.now(),
    });
    if (
      typeof payload.sub !== 'string' ||
      typeof payload.ver !== 'number' ||
      !payload.exp ||
      (payload.sid !== undefined && typeof payload.sid !== 'string')
    ) {
      throw new UnauthenticatedError('Invalid token');
    }
    return {
      userId: payload.sub,
      version: payload.ver,
      sessionId: payload.sid as string | undefined,
      expiresAt: new Date(payload.exp * 1000),
    };
  } catch (err) {
    if (err instanceof errors.JWTExpired)
      throw new UnauthenticatedError('Token expired; log in again');
    throw new UnauthenticatedError('Invalid token');
  }
}
