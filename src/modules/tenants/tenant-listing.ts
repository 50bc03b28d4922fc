import { PLAN_LIMITS } from '../organisations/plans.ts';

/**
 * Most tenants one REST list answer holds: the largest plan's tenant limit, so the cap never
 * hides a live tenant (creates and downgrades keep every organisation within its plan). The
 * GraphQL `tenants` connection pages instead (at most 100 per page, see builder.ts).
 */
export const MAX_TENANTS_LISTED = Math.max(
  ...Object.values(PLAN_LIMITS).map((limits) => limits.maxTenants),
);
