import { describeError } from '../../db/errors.ts';
import type { Deps } from '../../lib/deps.ts';
import { hashApiKey, isWellFormedKey } from '../api-keys/key-format.ts';
import type { Scope } from '../api-keys/scopes.ts';
import type { PresentedCredentials } from './credentials.ts';
import { KeyCache } from './key-cache.ts';
import { createKeyLookup, recentlyUsedSecrets } from './key-lookup.ts';
import { LastUsedRecorder } from './last-used.ts';
import { UnknownKeyLimiter } from './unknown-key-limiter.ts';

export type Verdict =
  | { status: 200; tenantId: string; keyId: string }
  | { status: 401 }
  | { status: 403; scope: string }
  | { status: 429; retryAfterSeconds: number };

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
  const limiter = new UnknownKeyLimiter(
    clock,
    config.unknownKeys.perSecond,
    config.unknownKeys.burst,
  );
  const lastUsed = new LastUsedRecorder(db, logger.child({ component: 'verify' }), clock);
  const load = createKeyLookup(db);

  return {
    cache,
    limiter,
    /** The database lookup verification uses (tests drive the cache with it). */
    load,

    /**
     * `sourceOf` names the client as the proxy reports it (a rate-limit subject): database
     * lookups that find no usable key are limited per source; a cached key is answered regardless.
     */
    async verify(
      credentials: PresentedCredentials | undefined,
      scope: Scope,
      sourceOf: () => string,
    ): Promise<Verdict> {
      // Malformed or mistyped keys fail the checksum: no database lookup.
      if (!credentials || !isWellFormedKey(credentials.key)) return UNAUTHORIZED;
      const hash = hashApiKey(credentials.key);
      let grant = cache.get(hash);
      if (grant === undefined) {
        const source = sourceOf();
        // A key that worked lately is looked up whatever its client's budget: known keys are
        // never slowed, even when a flood shares their address.
        const known = cache.wasUsable(hash);
        const retryAfterSeconds = known ? 0 : limiter.take(source);
        if (retryAfterSeconds > 0) return { status: 429, retryAfterSeconds };
        ({ grant } = await cache.lookup(hash, load));
        if (grant && !known) limiter.refund(source);
      }
      const now = clock.now();
      if (!grant || (grant.validUntil !== undefined && grant.validUntil <= now.getTime()))
        return UNAUTHORIZED;
      if (credentials.tenantId !== undefined && credentials.tenantId !== grant.tenantId)
        return UNAUTHORIZED;
      if (!grant.scopes.includes(scope)) return { status: 403, scope };
      lastUsed.touch(grant.keyId, now);
      return { status: 200, tenantId: grant.tenantId, keyId: grant.keyId };
    },

    start(): Promise<void> {
      events.subscribe('key.invalidated', ({ hashes }) => cache.evictHashes(hashes));
      events.subscribe('tenant.invalidated', ({ tenantId }) => cache.evictTenant(tenantId));
      // Notifications may have been lost while the listener was down: forget everything.
      events.onReconnect(() => cache.clear());
      lastUsed.start();
      return this.preloadKnownKeys();
    },

    /**
     * Marks the keys used lately as known (their lookups skip the unknown-key budget; the
     * database still decides each one), so a restart or a new instance during a flood does
     * not hold back collectors. Oldest last, so the newest survive the bound.
     */
    async preloadKnownKeys(): Promise<void> {
      try {
        const hashes = await recentlyUsedSecrets(db, clock.now(), config.keyCache.maxEntries);
        for (const hash of hashes.reverse()) cache.markUsable(hash);
      } catch (err) {
        // Not fatal: without the list, a key's first lookup here spends its source's budget.
        logger.warn(describeError(err, { stack: false }), 'could not preload recently used keys');
      }
    },

    stop: () => lastUsed.stop(),
    flushLastUsed: () => lastUsed.flush(),
    /** Resolves when the lastUsedAt writes started so far are done. */
    lastUsedSettled: () => lastUsed.settled(),
  };
}
