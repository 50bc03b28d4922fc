import { and, desc, eq, gt, isNull, or, type SQL, sql } from 'drizzle-orm';
import { anyOfPlaceholder } from '../../db/any-of.ts';
import type { Database, Db } from '../../db/client.ts';
import { coalescedLookup } from '../../db/coalesced-lookup.ts';
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

const NOT_FOUND: KeyLookup = Object.freeze({ grant: null, tenantId: undefined });

/**
 * Primary-key reads of the secrets' rows, which carry what verification needs of their key and
 * tenant (kept by triggers, see api_key_secrets in schema.ts), coalesced: the cache misses of
 * one event-loop turn are one statement (`coalescedLookup`). Built by drizzle once, run on the
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
  const one = select(eq(apiKeySecrets.hash, sql.placeholder('hash')));
  const many = select(anyOfPlaceholder(apiKeySecrets.hash, 'hashes'));

  const lookup = coalescedLookup<string, KeyLookup>({
    one: async (hash) => {
      const [row] = (await one([hash])) as LookupRow[];
      return row && toLookup(row);
    },
    many: async (hashes) => {
      const rows = (await many([hashes])) as LookupRow[];
      return new Map(rows.map((row) => [row[0], toLookup(row)]));
    },
    onBatch: recorder?.lookupBatch,
  });
  return async (hash: string): Promise<KeyLookup> => (await lookup(hash)) ?? NOT_FOUND;
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
