import { and, count, eq, isNull, ne } from 'drizzle-orm';
import {
  type ApiKeyRow,
  apiKeySecrets,
  apiKeys,
  type TenantRow,
  tenants,
} from '../../db/schema.ts';
import type { Deps } from '../../lib/deps.ts';
import { NotFoundError, PlanLimitExceededError, ValidationError } from '../../lib/errors.ts';
import { isPlausibleId, newId } from '../../lib/ids.ts';
import { parseInput } from '../../lib/validation.ts';
import { recordAudit } from '../audit/audit.service.ts';
import { requireWriter, type Session } from '../auth/session.ts';
import { lockOrganisationPlan } from '../organisations/plan-lock.ts';
import { PLAN_LIMITS } from '../organisations/plans.ts';
import type { TenantsService } from '../tenants/tenants.service.ts';
import { createApiKeySchema, rollApiKeySchema } from './api-keys.schemas.ts';
import { displayPrefix, generateApiKey, hashApiKey } from './key-format.ts';
import { type KeyListOptions, keyListQuery } from './key-listing.ts';
import { type ApiKeyStatus, apiKeyStatus } from './key-status.ts';
import { DEFAULT_SCOPES } from './scopes.ts';

/** The one response that carries the secret. */
export interface IssuedApiKey {
  key: string;
  apiKey: ApiKeyRow;
  tenant: TenantRow;
}

export type ApiKeysService = ReturnType<typeof createApiKeysService>;

export function createApiKeysService(
  { db, clock, random, events }: Deps,
  tenantsService: TenantsService,
) {
  /** A key is visible when its tenant is: same organisation, tenant not deleted. */
  const findVisible = async (session: Session, keyId: string): Promise<ApiKeyRow> => {
    if (!isPlausibleId(keyId)) throw new NotFoundError('ApiKey', keyId.slice(0, 200));
    const [row] = await db
      .select({ key: apiKeys })
      .from(apiKeys)
      .innerJoin(tenants, eq(tenants.id, apiKeys.tenantId))
      .where(
        and(
          eq(apiKeys.id, keyId),
          eq(tenants.organisationId, session.organisationId),
          ne(tenants.status, 'deleted'),
        ),
      );
    if (!row) throw new NotFoundError('ApiKey', keyId);
    return row.key;
  };

  return {
    findVisible,

    /** The key's status now (the clock is the service's, so tests move it). */
    statusOf: (
      key: Pick<ApiKeyRow, 'revokedAt' | 'expiresAt' | 'previousExpiresAt'>,
    ): ApiKeyStatus => apiKeyStatus(key, clock.now()),

    /** Live keys, then the most recently revoked, at most MAX_KEYS_LISTED (key-listing.ts). */
    async list(
      session: Session,
      tenantId: string,
      options: KeyListOptions = {},
    ): Promise<ApiKeyRow[]> {
      const tenant = await tenantsService.get(session, tenantId);
      const { where, ...query } = keyListQuery(options);
      return db.query.apiKeys.findMany({ where: { tenantId: tenant.id, ...where }, ...query });
    },

    async create(session: Session, tenantId: string, input: unknown): Promise<IssuedApiKey> {
      requireWriter(session);
      const { displayName, expiresAt, scopes } = parseInput(createApiKeySchema, input);
      const now = clock.now();
      if (expiresAt && expiresAt <= now) {
        throw new ValidationError('expiresAt', 'expiresAt: must be in the future');
      }
      const tenant = await tenantsService.get(session, tenantId);
      const key = generateApiKey(random);
      const apiKey = await db.transaction(async (tx) => {
        const plan = await lockOrganisationPlan(tx, session.organisationId);
        const max = PLAN_LIMITS[plan].maxApiKeysPerTenant;
        const [active] = await tx
          .select({ n: count() })
          .from(apiKeys)
          .where(and(eq(apiKeys.tenantId, tenant.id), isNull(apiKeys.revokedAt)));
        if ((active?.n ?? 0) >= max)
          throw new PlanLimitExceededError(plan, 'active API keys per tenant', max, active!.n);
        const hash = hashApiKey(key);
        const [row] = await tx
          .insert(apiKeys)
          .values({
            id: newId('key', random),
            tenantId: tenant.id,
            displayName,
            prefix: displayPrefix(key),
            hash,
            scopes: [...new Set(scopes ?? DEFAULT_SCOPES)],
            createdAt: now,
            createdBy: session.userId,
            expiresAt: expiresAt ?? null,
          })
          .returning();
        await tx.insert(apiKeySecrets).values({ hash, keyId: row!.id });
        await recordAudit(tx, session, 'api_key.created', { type: 'api_key', id: row!.id }, now);
        return row!;
      });
      return { key, apiKey, tenant };
    },

    /** Idempotent; every instance drops the key from its cache (NOTIFY). */
    async revoke(session: Session, keyId: string): Promise<ApiKeyRow> {
      requireWriter(session);
      const existing = await findVisible(session, keyId);
      if (existing.revokedAt) return existing;
      // The eviction commits with the revocation (a concurrent revoke that won sends its own).
      const { row, evict } = await db.transaction(async (tx) => {
        const now = clock.now();
        const [row] = await tx
          .update(apiKeys)
          .set({ revokedAt: now })
          .where(and(eq(apiKeys.id, existing.id), isNull(apiKeys.revokedAt)))
          .returning();
        if (!row) return { row, evict: undefined };
        await recordAudit(tx, session, 'api_key.revoked', { type: 'api_key', id: row.id }, now);
        const hashes = [row.hash, ...(row.previousHash ? [row.previousHash] : [])];
        return {
          row,
          evict: await events.publishInTransaction(tx, 'key.invalidated', {
            keyId: row.id,
            hashes,
          }),
        };
      });
      await evict?.();
      return row ?? (await findVisible(session, keyId));
    },

    /**
     * New secret for the same key record (shown once). The old secret keeps working for the grace
     * period, then stops; a secret replaced earlier is dropped now.
     */
    async roll(session: Session, keyId: string, input: unknown): Promise<IssuedApiKey> {
      requireWriter(session);
      const { gracePeriodSeconds } = parseInput(rollApiKeySchema, input);
      const existing = await findVisible(session, keyId);
      if (existing.revokedAt) throw new ValidationError('id', 'id: a revoked key cannot be rolled');
      const now = clock.now();
      const key = generateApiKey(random);
      const dropped = existing.previousHash ? [existing.previousHash] : [];
      const hash = hashApiKey(key);
      const graceExpiresAt = new Date(now.getTime() + gracePeriodSeconds * 1000);
      const { row, evict } = await db.transaction(async (tx) => {
        const [row] = await tx
          .update(apiKeys)
          .set({
            prefix: displayPrefix(key),
            hash,
            previousPrefix: existing.prefix,
            previousHash: existing.hash,
            previousExpiresAt: graceExpiresAt,
          })
          // Not revoked meanwhile either: a roll must not hand out a key that can never work.
          .where(
            and(
              eq(apiKeys.id, existing.id),
              eq(apiKeys.hash, existing.hash),
              isNull(apiKeys.revokedAt),
            ),
          )
          .returning();
        if (!row) return { row, evict: undefined };
        // The secret rows follow: the new one (first: its trigger share-locks the tenant before
        // this transaction holds any secret row, the order a tenant's status change takes too),
        // the earlier previous one goes, the replaced one gets its grace.
        await tx.insert(apiKeySecrets).values({ hash, keyId: row.id });
        if (dropped.length)
          await tx.delete(apiKeySecrets).where(eq(apiKeySecrets.hash, dropped[0]!));
        await tx
          .update(apiKeySecrets)
          .set({ graceExpiresAt })
          .where(eq(apiKeySecrets.hash, existing.hash));
        await recordAudit(tx, session, 'api_key.rolled', { type: 'api_key', id: row.id }, now);
        // Cached entries of the old secret carry the grace expiry only after a fresh lookup.
        const hashes = [existing.hash, ...dropped];
        return {
          row,
          evict: await events.publishInTransaction(tx, 'key.invalidated', {
            keyId: row.id,
            hashes,
          }),
        };
      });
      if (!row) throw new ValidationError('id', 'id: the key was changed concurrently; try again');
      await evict?.();
      return { key, apiKey: row, tenant: await tenantsService.get(session, row.tenantId) };
    },
  };
}
