/** What each billing plan allows. The guide fixes free = 3 tenants and scale = 20,000 series. */
export type BillingPlan = 'free' | 'scale';
export const BILLING_PLANS: readonly BillingPlan[] = ['free', 'scale'];

export interface PlanLimits {
  maxTenants: number;
  maxActiveSeries: number;
  maxApiKeysPerTenant: number;
  maxLogsGbPerMonth: number;
}

export const PLAN_LIMITS: Record<BillingPlan, PlanLimits> = {
  free: { maxTenants: 3, maxActiveSeries: 10_000, maxApiKeysPerTenant: 5, maxLogsGbPerMonth: 50 },
  scale: {
    maxTenants: 100,
    maxActiveSeries: 20_000,
    maxApiKeysPerTenant: 50,
    maxLogsGbPerMonth: 1_000,
  },
};
