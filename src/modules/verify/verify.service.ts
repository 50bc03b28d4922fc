import { describeError } from '../../db/errors.ts';
import type { Deps } from '../../lib/deps.ts';
import type { VerifyOutcome } from '../../lib/metrics.ts';
import { hashApiKey, isWellFormedKey } from '../api-keys/key-format.ts';
import type { Scope } from '../api-keys/scopes.ts';
import type { PresentedCredentials } from './credentials.ts';
import { KeyCache, type Refusal } from './key-cache.ts';
import { createKeyLookup, recentlyUsedSecrets } from './key-lookup.ts';
import { LastUsedRecorder } from './last-used.ts';
import { UnknownKeyLimiter } from './unknown-key-limiter.ts';

/** `outcome` is for the metrics only: every 401 looks the same to the client. */
export type Verdict =
  | { status: 200; outcome: 'ok'; tenantId: string; keyId: string }
  | { status: 401; outcome: Exclude<VerifyOutcome, 'ok'> }
  | { status: 403; outcome: 'missing_scope'; scope: string }
  | { status: 429; outcome: 'throttled'; retryAfterSeconds: number };

/** One shared answer per cause: the hot path allocates nothing to refuse. */
const REFUSED = {
  missing_credentials: { status: 401, outcome: 'missing_credentials' },
  malformed: { status: 401, outcome: 'malformed' },
  unknown: { status: 401, outcome: 'unknown' },
  revoked: { status: 401, outcome: 'revoked' },
  suspended: { status: 401, outcome: 'suspended' },
  expired: { status: 401, outcome: 'expired' },
  wrong_tenant: { status: 401, outcome: 'wrong_tenant' },
} as const satisfies Record<string, Verdict>;
/** Unknown keys are remembered briefly: enough to absorb a retry storm, short for a fresh key. */
const NEGATIVE_TTL_MS = 2_000;

export type VerifyService = ReturnType<typeof createVerifyService>;

/** Answers "may this key write here, and for which tenant?" for the ingestion auth proxy. */
export function createVerifyService({
  db,
  statement,
  clock,
  config,
  events,
  logger,
  metrics,
}: Deps) {
  const recorder = metrics.verify;
  const ttlMs = config.keyCache.ttlSeconds * 1000;
  const cache = new KeyCache(
    clock,
    ttlMs,
    Math.min(NEGATIVE_TTL_MS, ttlMs),
    config.keyCache.maxEntries,
  );
  metrics.keyCacheSize = () => cache.size;
  const limiter = new UnknownKeyLimiter(
    clock,
    config.unknownKeys.perSecond,
    config.unknownKeys.burst,
  );
  const lastUsed = new LastUsedRecorder(db, logger.child({ component: 'verify' }), clock);
  const load = createKeyLookup(db, statement, recorder);

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
      if (!credentials) return REFUSED.missing_credentials;
      // Malformed or mistyped keys fail the checksum: no database lookup.
      if (!isWellFormedKey(credentials.key)) return REFUSED.malformed;
      const hash = hashApiKey(credentials.key);
      let grant = cache.get(hash);
      let refusal: Refusal | undefined;
      recorder.cache(grant !== undefined);
      if (grant === undefined) {
        // A key that worked lately is looked up whatever its client's budget: known keys are
        // never slowed, even when a flood shares their address (whose source is then not needed).
        const source = cache.wasUsable(hash) ? undefined : sourceOf();
        const retryAfterSeconds = source === undefined ? 0 : limiter.take(source);
        if (retryAfterSeconds > 0) return { status: 429, outcome: 'throttled', retryAfterSeconds };
        ({ grant, refusal } = await cache.lookup(hash, load));
        if (grant && source !== undefined) limiter.refund(source);
      }
      if (!grant) return REFUSED[refusal ?? cache.refusalOf(hash) ?? 'unknown'];
      const now = clock.now();
      if (grant.validUntil !== undefined && grant.validUntil <= now.getTime())
        return REFUSED.expired;
      if (credentials.tenantId !== undefined && credentials.tenantId !== grant.tenantId)
        return REFUSED.wrong_tenant;
      if (!grant.scopes.includes(scope)) return { status: 403, outcome: 'missing_scope', scope };
      lastUsed.touch(grant.keyId, now);
      return { status: 200, outcome: 'ok', tenantId: grant.tenantId, keyId: grant.keyId };
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
