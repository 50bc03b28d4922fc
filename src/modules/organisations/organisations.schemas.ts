import { z } from 'zod';
import { BILLING_PLANS } from './plans.ts';

export const changePlanSchema = z.object({
  plan: z.enum(BILLING_PLANS, 'must be one of free, scale'),
});
