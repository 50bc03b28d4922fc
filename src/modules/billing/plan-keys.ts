import { BILLING_PLANS, type BillingPlan } from '../organisations/plans.ts';

/** A training key: redeeming it moves an organisation to `plan` (or, with Stripe, a promo code). */
export interface PlanKey {
  plan: BillingPlan;
  key: string;
}

/** Printable, no separators or spaces: a key survives a shell, a URL and a JSON string as is. */
const KEY_FORMAT = /^[A-Za-z0-9_-]{8,100}$/;

/**
 * `BILLING_PLAN_KEYS`: comma-separated `plan=key` pairs, e.g. `scale=TRAIN-SCALE-2026`. Throws a
 * sentence naming the bad entry (config.ts turns it into a ConfigError).
 */
export function parsePlanKeys(raw: string): PlanKey[] {
  const keys: PlanKey[] = [];
  for (const entry of raw.split(',').map((e) => e.trim())) {
    if (entry === '') continue;
    const eq = entry.indexOf('=');
    const plan = entry.slice(0, eq).trim();
    const key = entry.slice(eq + 1).trim();
    if (eq === -1) throw new Error(`${JSON.stringify(entry)} is not plan=key`);
    if (!BILLING_PLANS.includes(plan as BillingPlan)) {
      throw new Error(`${JSON.stringify(plan)} is not a plan (${BILLING_PLANS.join(', ')})`);
    }
    if (plan === 'free') throw new Error('a key cannot name the free plan');
    if (!KEY_FORMAT.test(key)) {
      throw new Error(
        `the key for ${plan} must be 8 to 100 letters, digits, "-" or "_" (got ${key.length} characters)`,
      );
    }
    if (keys.some((k) => k.key === key)) throw new Error('a key is listed twice');
    keys.push({ plan: plan as BillingPlan, key });
  }
  return keys;
}
