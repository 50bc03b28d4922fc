import { PLAN_LIMITS } from '../organisations/plans.ts';

/**
 * Most keys one list answer holds. Live (unrevoked) keys are bounded by the plan (at most the
 * largest plan's keys per tenant), revoked ones are kept for ever; the list orders live keys
 * first, so every live key is always in and the rest is the most recently revoked.
 */
export const MAX_KEYS_LISTED = 100;

const LARGEST_PLAN_KEYS = Math.max(
  ...Object.values(PLAN_LIMITS).map((limits) => limits.maxApiKeysPerTenant),
);
if (LARGEST_PLAN_KEYS >= MAX_KEYS_LISTED) {
  throw new Error('MAX_KEYS_LISTED must leave room for every live key of the largest plan');
}

export interface KeyListOptions {
  /** false: live keys only. Default true: live keys, then the most recently revoked. */
  includeRevoked?: boolean | null;
}

/** RQB where/orderBy/limit for a tenant's key list (the service and the nested field share it). */
export function keyListQuery({ includeRevoked }: KeyListOptions = {}) {
  return {
    where: includeRevoked === false ? { revokedAt: { isNull: true as const } } : {},
    // Live keys oldest first, then revoked keys newest revocation first: PostgreSQL sorts NULL
    // first in a descending order. Plain data, no callback: drizzle then builds the SQL of a
    // page once and reuses it while the same page is read again (patches/README.md).
    orderBy: { revokedAt: 'desc', createdAt: 'asc', id: 'asc' } as const,
    limit: MAX_KEYS_LISTED,
  };
}
