import { and, desc, eq, gt, isNull, or, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { apiKeySecrets, apiKeys, tenants } from '../../db/schema.ts';
import type { KeyLookup } from './key-cache.ts';

/**
 * One primary-key read of the secret's row, which carries what verification needs of its key and
 * tenant (kept by triggers, see api_key_secrets in schema.ts).
 */
export function createKeyLookup(db: Db): (hash: string) => Promise<KeyLookup> {
  const statement = db
    .select({
      id: apiKeySecrets.keyId,
      tenantId: apiKeySecrets.tenantId,
      scopes: apiKeySecrets.scopes,
      expiresAt: apiKeySecrets.expiresAt,
      revokedAt: apiKeySecrets.revokedAt,
      graceExpiresAt: apiKeySecrets.graceExpiresAt,
      tenantStatus: apiKeySecrets.tenantStatus,
    })
    .from(apiKeySecrets)
    .where(eq(apiKeySecrets.hash, sql.placeholder('hash')))
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
    // A secret replaced by a roll lives until its grace period ends (or the key expires).
    const keyEnd = row.expiresAt?.getTime();
    const graceEnd = row.graceExpiresAt?.getTime();
    return {
      grant: {
        keyId: row.id,
        tenantId: row.tenantId,
        scopes: row.scopes,
        validUntil:
          keyEnd === undefined
            ? graceEnd
            : graceEnd === undefined
              ? keyEnd
              : Math.min(keyEnd, graceEnd),
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
