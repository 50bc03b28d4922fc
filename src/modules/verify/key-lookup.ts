import { and, desc, eq, gt, isNull, or, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { apiKeys, tenants } from '../../db/schema.ts';
import type { KeyLookup } from './key-cache.ts';

/** One indexed statement per secret: the key whose current or previous secret has this hash. */
export function createKeyLookup(db: Db): (hash: string) => Promise<KeyLookup> {
  const statement = db
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

  return async (hash) => {
    const [row] = await statement.execute({ hash });
    if (!row) return { grant: null, tenantId: undefined };
    if (row.revokedAt || row.tenantStatus !== 'active') {
      return {
        grant: null,
        tenantId: row.tenantId,
        refusal: row.revokedAt ? 'revoked' : 'suspended',
      };
    }
    const expiries = [row.expiresAt?.getTime()];
    // Matched the secret replaced by a roll: it lives until the grace period ends.
    if (row.hash !== hash) expiries.push(row.previousExpiresAt?.getTime() ?? 0);
    const defined = expiries.filter((t): t is number => t !== undefined);
    return {
      grant: {
        keyId: row.id,
        tenantId: row.tenantId,
        scopes: row.scopes,
        validUntil: defined.length ? Math.min(...defined) : undefined,
      },
      tenantId: row.tenantId,
    };
  };
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
    .select({
      hash: apiKeys.hash,
      previousHash: apiKeys.previousHash,
      previousExpiresAt: apiKeys.previousExpiresAt,
    })
    .from(apiKeys)
    .innerJoin(tenants, eq(tenants.id, apiKeys.tenantId))
    .where(
      and(
        isNull(apiKeys.revokedAt),
        eq(tenants.status, 'active'),
        gt(apiKeys.lastUsedAt, new Date(now.getTime() - RECENT_USE_MS)),
      ),
    )
    .orderBy(desc(apiKeys.lastUsedAt))
    .limit(limit);
  return rows.flatMap((r) =>
    r.previousHash && r.previousExpiresAt && r.previousExpiresAt > now
      ? [r.hash, r.previousHash]
      : [r.hash],
  );
}
