import type { Clock } from '../../lib/clock.ts';
import { type TokenClaims, type TokenSettings, verifyToken } from './tokens.ts';

/** Enough for every client of a busy instance within one token lifetime; oldest dropped first. */
export const MAX_VERIFIED_TOKENS = 10_000;

type Verified = TokenClaims & { expiresAt: Date };

/**
 * verifyToken, remembering each token that passed until it expires: an API client sends the same
 * bearer token with every call, and its HMAC check through WebCrypto (a job on the thread pool,
 * a promise, jose's claim parsing) was about a twentieth of a nested read's CPU. Only a valid
 * token is kept, and it stays valid until `exp` (signature, iss, aud and alg do not change), so
 * a hit checks that alone, as jose does (the portal issues no `nbf`; one that passed stays
 * passed). An expired entry is verified again, so it fails with jose's own error. Revocation (a password change, a logout) is not a
 * property of the token: the caller still checks the user and session on every request.
 */
export function createTokenVerifier(
  settings: TokenSettings,
  clock: Clock,
  maxEntries = MAX_VERIFIED_TOKENS,
): (token: string) => Promise<Verified> {
  const verified = new Map<string, Verified>();
  return async (token) => {
    const known = verified.get(token);
    if (known) {
      // jose's test: expired once exp <= the current time in whole seconds.
      if (known.expiresAt.getTime() / 1000 > Math.floor(clock.now().getTime() / 1000)) return known;
      verified.delete(token);
    }
    const claims = await verifyToken(settings, clock, token);
    if (verified.size >= maxEntries) verified.delete(verified.keys().next().value!);
    verified.set(token, claims);
    return claims;
  };
}
