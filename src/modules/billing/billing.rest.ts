import { z } from 'zod';
import { defineRoute, type RestRoute } from '../../rest/rest-router.ts';
import { timestampResponse } from '../../rest/wire.ts';
import type { Services } from '../../services.ts';
import { BILLING_PLANS } from '../organisations/plans.ts';
import { organisationResponse, presentOrganisation } from '../organisations/users.rest.ts';
import { PAID_PLANS } from './billing.schemas.ts';
import { LIMIT_NAMES, type LimitUsage } from './limit-usage.ts';
import type { UsageAlert } from './usage-alerts.ts';

export const limitResponse = z.object({
  limit: z.enum(LIMIT_NAMES),
  used: z.number(),
  max: z.number(),
  percent: z.number().meta({ description: 'used / max in percent; above 100 after a downgrade.' }),
  projected: z.number().nullable().meta({
    description: 'Monthly limits: month-end value at the pace of the month so far; else null.',
  }),
});
export const presentLimit = (l: LimitUsage): z.infer<typeof limitResponse> => ({ ...l });

const alertResponse = z.object({
  id: z.number(),
  limit: z.enum(LIMIT_NAMES),
  threshold: z.number().meta({ description: '80 or 100 (percent of the limit).' }),
  used: z.number(),
  max: z.number(),
  at: timestampResponse,
});
const presentAlert = (a: UsageAlert): z.infer<typeof alertResponse> => ({
  id: a.id,
  limit: a.limit as (typeof LIMIT_NAMES)[number],
  threshold: a.threshold,
  used: a.used,
  max: a.max,
  at: a.at,
});

const urlResponse = z.object({ url: z.string() });

export function billingRoutes({ billing, usageAlerts }: Services): RestRoute[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/billing',
      tag: 'Billing',
      summary: 'Whether Stripe billing is on, the plan, and whether the billing portal can open.',
      auth: true,
      response: z.object({
        stripe_configured: z.boolean(),
        billing_plan: z.enum(BILLING_PLANS as [string, ...string[]]),
        has_stripe_customer: z.boolean(),
        plan_keys_enabled: z.boolean(),
      }),
      handle: async ({ session }) => {
        const s = await billing.status(session);
        return {
          stripe_configured: s.stripeConfigured,
          billing_plan: s.plan,
          has_stripe_customer: s.hasStripeCustomer,
          plan_keys_enabled: s.planKeysEnabled,
        };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/billing/limits',
      tag: 'Billing',
      summary: 'Each plan limit: used, maximum, percent and (monthly ones) month-end projection.',
      auth: true,
      response: z.array(limitResponse),
      handle: async ({ session }) => (await billing.limits(session)).map(presentLimit),
    }),
    defineRoute({
      method: 'GET',
      path: '/billing/alerts',
      tag: 'Billing',
      summary: 'The newest usage alerts (80% and 100% of a limit), newest first.',
      auth: true,
      response: z.array(alertResponse),
      handle: async ({ session }) => (await usageAlerts.recent(session)).map(presentAlert),
    }),
    defineRoute({
      method: 'POST',
      path: '/billing/checkout',
      tag: 'Billing',
      summary: 'Owners: a Stripe Checkout Session (subscription) for the plan; open its url.',
      auth: true,
      body: z.strictObject({
        plan: z.enum(PAID_PLANS, `must be a paid plan: ${PAID_PLANS.join(', ')}`),
      }),
      response: urlResponse,
      errors: [409, 503],
      handle: ({ session, body }) => billing.startCheckout(session, body),
    }),
    defineRoute({
      method: 'POST',
      path: '/billing/portal',
      tag: 'Billing',
      summary: "Owners: a Stripe Customer Portal session for the organisation's subscription.",
      auth: true,
      response: urlResponse,
      errors: [409, 503],
      handle: ({ session }) => billing.billingPortalUrl(session),
    }),
    defineRoute({
      method: 'POST',
      path: '/billing/redeem',
      tag: 'Billing',
      summary:
        'Owners: redeem a plan key (the guide\'s "Scale plan Stripe key"); once per key and organisation.',
      auth: true,
      body: z.strictObject({ key: z.string('must be a string') }),
      response: z.object({
        organisation: organisationResponse,
        checkout_url: z.string().nullable().meta({
          description:
            'With Stripe billing: Checkout with the key applied; the plan moves on payment.',
        }),
      }),
      errors: [409, 429, 503],
      handle: async ({ session, body }) => {
        const r = await billing.redeemPlanKey(session, body);
        return { organisation: presentOrganisation(r.organisation), checkout_url: r.checkoutUrl };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/billing/stripe/webhook',
      tag: 'Billing',
      summary:
        'Stripe webhook endpoint: signed events (Stripe-Signature) applied at most once; unknown types are acknowledged.',
      auth: false,
      rawBody: true,
      response: z.object({
        received: z.literal(true),
        outcome: z.enum(['applied', 'duplicate', 'stale', 'ignored']),
      }),
      errors: [409],
      handle: async ({ req, body }) => {
        const signature = req.headers['stripe-signature'];
        const outcome = await billing.receiveWebhook(
          body as unknown as Buffer,
          Array.isArray(signature) ? signature[0] : signature,
        );
        return { received: true as const, outcome };
      },
    }),
  ];
}
