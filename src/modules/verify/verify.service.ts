import { eq, or, sql } from 'drizzle-orm';
import { apiKeys, tenants } from '../../db/schema.ts';
import type { Deps } from '../../lib/deps.ts';
import { hashApiKey, isWellFormedKey } from '../api-keys/key-format.ts';
import type { PresentedCredentials } from './credentials.ts';
import { KeyCache, type KeyGrant } from './key-cache.ts';
import { LastUsedRecorder } from './last-used.ts';

export type Verdict =
  | { status: 200; tenantId: string; keyId: string }
  | { status: 401 }
  | { status: 403; scope: string };

const UNAUTHORIZED: Verdict = { status: 401 };
/** Unknown keys are remembered briefly: enough to absorb a retry storm, short for a fresh key. */
const NEGATIVE_TTL_MS = 2_000;

export type VerifyService = ReturnType<typeof createVerifyService>;

/** Answers "may this key write here, and for which tenant?" for the ingestion auth proxy. */
export function createVerifyService({ db, clock, config, events, logger }: Deps) {
  const ttlMs = config.keyCache.ttlSeconds * 1000;
  const cache = new KeyCache(
    clock,
    ttlMs,
    Math.min(NEGATIVE_TTL_MS, ttlMs),
    config.keyCache.maxEntries,
  );
  const lastUsed = new LastUsedRecorder(db, logger);

  const lookup = db
    .select({
      id: apiKeys.id,
      tenantId: apiKeys.tenantId,
      scopes: apiKeys.scopes,
      hash: apiKeys.hash,
      expiresAt: apiKeys.expiresAt,
      revokedAt: apiKeys.revokedAt,
      previousExpiresAt: apiKeys.previousExpiresAt,
      tenantStatus: tenants.status,
    })
    .from(apiKeys)
    .innerJoin(tenants, eq(tenants.id, apiKeys.tenantId))
    .where(
      or(
        eq(apiKeys.hash, sql.placeholder('hash')),
        eq(apiKeys.previousHash, sql.placeholder('hash')),
      ),
    )
    .limit(1)
    .prepare('verify_key_lookup');

  const load = async (hash: string): Promise<KeyGrant | null> => {
    const [row] = await lookup.execute({ hash });
    if (!row || row.revokedAt || row.tenantStatus !== 'active') return null;
    const expiries = [row.expiresAt?.getTime()];
    // Matched the secret replaced by a roll: it lives until the grace period ends.
    if (row.hash !== hash) expiries.push(row.previousExpiresAt?.getTime() ?? 0);
    const defined = expiries.filter((t): t is number => t !== undefined);
    return {
      keyId: row.id,
      tenantId: row.tenantId,
      scopes: row.scopes,
      validUntil: defined.length ? Math.min(...defined) : undefined,
    };
  };

  return {
    cache,

    async verify(
      credentials: PresentedCredentials | undefined,
      scope: string | undefined,
    ): Promise<Verdict> {
      // Malformed or mistyped keys fail the checksum: no database lookup.
      if (!credentials || !isWellFormedKey(credentials.key)) return UNAUTHORIZED;
      const hash = hashApiKey(credentials.key);
      let grant = cache.get(hash);
      if (grant === undefined) {
        grant = await load(hash);
        cache.set(hash, grant);
      }
      const now = clock.now();
      if (!grant || (grant.validUntil !== undefined && grant.validUntil <= now.getTime()))
        return UNAUTHORIZED;
      if (credentials.tenantId !== undefined && credentials.tenantId !== grant.tenantId)
        return UNAUTHORIZED;
      if (scope !== undefined && !grant.scopes.includes(scope)) return { status: 403, scope };
      lastUsed.touch(grant.keyId, now);
      return { status: 200, tenantId: grant.tenantId, keyId: grant.keyId };
    },

    start(): void {
      events.subscribe('keys.invalidated', ({ hashes }) => {
        for (const hash of hashes) cache.delete(hash);
      });
      // Notifications may have been lost while the listener was down: forget everything.
      events.onReconnect(() => cache.clear());
      lastUsed.start();
    },

    stop: () => lastUsed.stop(),
    flushLastUsed: () => lastUsed.flush(),
  };
}
