import { z } from 'zod';

export const PAID_PLANS = ['scale'] as const;
export type PaidPlan = (typeof PAID_PLANS)[number];

export const checkoutSchema = z.object({
  plan: z.enum(PAID_PLANS, `must be a paid plan: ${PAID_PLANS.join(', ')}`),
});

export const redeemSchema = z.object({
  key: z
    .string('must be a string')
    .trim()
    .min(1, 'must not be empty')
    .max(200, 'must be at most 200 characters'),
});
