import { eq, or, sql } from 'drizzle-orm';
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
      return { grant: null, tenantId: row.tenantId };
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
