import DataLoader from 'dataloader';
import { and, desc, eq, gt, isNull, or, type SQL, sql } from 'drizzle-orm';
import type { Database, Db } from '../../db/client.ts';
import { apiKeySecrets, apiKeys, tenants } from '../../db/schema.ts';
import type { VerifyRecorder } from '../../lib/metrics.ts';
import type { KeyLookup } from './key-cache.ts';

/** The lookup's columns, in its select's order. */
type LookupRow = [
  hash: string,
  keyId: string,
  tenantId: string,
  scopes: string[],
  revoked: boolean,
  tenantActive: boolean,
  /** Epoch ms at which the secret stops working (key expiry or end of grace), or null. */
  validUntil: number | null,
];

/** At most this many secrets per statement: one bound array, a few KB of hashes. */
const MAX_BATCH = 256;

const NOT_FOUND: KeyLookup = Object.freeze({ grant: null, tenantId: undefined });

/**
 * Primary-key reads of the secrets' rows, which carry what verification needs of their key and
 * tenant (kept by triggers, see api_key_secrets in schema.ts). The lookups started in one turn of
 * the event loop go out as one statement, `hash = any($1)`: under load a statement and its round
 * trip are most of an uncached verification's cost, on both sides of the wire, and one turn adds
 * no wait (setImmediate runs right after the sockets it read). Built by drizzle once, run on the
 * driver per call (`statement`); PostgreSQL works out the refusal flags and the end instant, so
 * no timestamp is parsed on this path.
 */
export function createKeyLookup(
  db: Db,
  statement: Database['statement'],
  recorder?: Pick<VerifyRecorder, 'lookupBatch'>,
) {
  const select = (where: SQL) =>
    statement(
      db
        .select({
          hash: apiKeySecrets.hash,
          keyId: apiKeySecrets.keyId,
          tenantId: apiKeySecrets.tenantId,
          scopes: apiKeySecrets.scopes,
          revoked: sql`${apiKeySecrets.revokedAt} is not null`,
          tenantActive: sql`${apiKeySecrets.tenantStatus} = 'active'`,
          // least() skips nulls: the earlier of key expiry and grace end, or null for neither.
          validUntil: sql`floor(extract(epoch from least(${apiKeySecrets.expiresAt}, ${apiKeySecrets.graceExpiresAt})) * 1000)::float8`,
        })
        .from(apiKeySecrets)
        .where(where)
        .toSQL().sql,
    );
  // A lone lookup keeps `hash = $1`: PostgreSQL spends about twice the CPU on a one-element
  // array's `= any`, and an idle instance's lookups come one at a time.
  const one = select(eq(apiKeySecrets.hash, sql.placeholder('hash')));
  const many = select(sql`${apiKeySecrets.hash} = any(${sql.placeholder('hashes')}::text[])`);

  const loader = new DataLoader<string, KeyLookup>(
    async (hashes) => {
      recorder?.lookupBatch(hashes.length);
      const rows = (await (hashes.length === 1 ? one([hashes[0]]) : many([hashes]))) as LookupRow[];
      if (rows.length === 0) return hashes.map(() => NOT_FOUND);
      const found = new Map<string, KeyLookup>();
      for (const row of rows) found.set(row[0], toLookup(row));
      return hashes.map((hash) => found.get(hash) ?? NOT_FOUND);
    },
    // No memo: the key cache decides what is remembered, and for how long.
    { cache: false, maxBatchSize: MAX_BATCH, batchScheduleFn: (run) => setImmediate(run) },
  );
  return (hash: string): Promise<KeyLookup> => loader.load(hash);
}

function toLookup([, keyId, tenantId, scopes, revoked, tenantActive, validUntil]: LookupRow) {
  if (revoked || !tenantActive)
    return { grant: null, tenantId, refusal: revoked ? 'revoked' : 'suspended' } as const;
  return { grant: { keyId, tenantId, scopes, validUntil: validUntil ?? undefined }, tenantId };
}

/** Keys used within this long count as known to a process that has just started. */
const RECENT_USE_MS = 24 * 60 * 60_000;

/**
 * The secrets of live keys used lately (the previous secret too while a roll's grace period
 * runs), newest first: a process that has just started knows them, so a flood of unknown keys
 * from a shared address cannot hold back the collectors it has not verified yet.
 */
export async function recentlyUsedSecrets(db: Db, now: Date, limit: number): Promise<string[]> {
  if (limit <= 0) return [];
  const rows = await db
    .select({ hash: apiKeySecrets.hash })
    .from(apiKeySecrets)
    .innerJoin(apiKeys, eq(apiKeys.id, apiKeySecrets.keyId))
    .innerJoin(tenants, eq(tenants.id, apiKeys.tenantId))
    .where(
      and(
        isNull(apiKeys.revokedAt),
        eq(tenants.status, 'active'),
        gt(apiKeys.lastUsedAt, new Date(now.getTime() - RECENT_USE_MS)),
        or(isNull(apiKeySecrets.graceExpiresAt), gt(apiKeySecrets.graceExpiresAt, now)),
      ),
    )
    .orderBy(desc(apiKeys.lastUsedAt))
    .limit(limit);
  return rows.map((r) => r.hash);
}
