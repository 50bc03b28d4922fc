import type { OrganisationRow } from '../../db/schema.ts';
import { builder } from '../../graphql/builder.ts';
import { sessionOf } from '../../graphql/context.ts';
import { ConflictError, RateLimitedError, ValidationError } from '../../lib/errors.ts';
import { BillingPlanEnum, OrganisationRef } from '../organisations/organisations.graphql.ts';
import type { BillingStatus } from './billing.service.ts';
import { LIMIT_NAMES, type LimitUsage } from './limit-usage.ts';
import type { UsageAlert } from './usage-alerts.ts';

const LimitNameEnum = builder.enumType('LimitName', { values: LIMIT_NAMES });

const LimitUsageRef = builder.objectRef<LimitUsage>('LimitUsage').implement({
  description: 'Where the organisation stands against one limit of its plan.',
  fields: (t) => ({
    limit: t.field({ type: LimitNameEnum, resolve: (l) => l.limit }),
    used: t.exposeFloat('used'),
    max: t.exposeFloat('max'),
    percent: t.exposeFloat('percent', {
      description: 'used / max x 100; above 100 after a downgrade.',
    }),
    projected: t.exposeFloat('projected', {
      nullable: true,
      description: 'Monthly limits: the month-end value at the pace of the month so far.',
    }),
  }),
});

const UsageAlertRef = builder.objectRef<UsageAlert>('UsageAlert').implement({
  description: 'A usage sync took the organisation across 80% or 100% of a limit.',
  fields: (t) => ({
    id: t.exposeID('id'),
    limit: t.field({ type: LimitNameEnum, resolve: (a) => a.limit as LimitUsage['limit'] }),
    threshold: t.exposeInt('threshold', { description: '80 or 100 (percent).' }),
    used: t.exposeFloat('used'),
    max: t.exposeFloat('max'),
    at: t.field({ type: 'DateTime', resolve: (a) => new Date(a.at) }),
  }),
});

const BillingRef = builder.objectRef<BillingStatus>('Billing').implement({
  description: 'Stripe billing, plan keys, limits and usage alerts of the caller organisation.',
  fields: (t) => ({
    stripeConfigured: t.exposeBoolean('stripeConfigured', {
      description: 'True: plans change only through Stripe (startCheckout, the billing portal).',
    }),
    plan: t.field({ type: BillingPlanEnum, resolve: (b) => b.plan }),
    hasStripeCustomer: t.exposeBoolean('hasStripeCustomer', {
      description: 'True once a Checkout completed: billingPortalUrl can open the portal.',
    }),
    planKeysEnabled: t.exposeBoolean('planKeysEnabled'),
    limits: t.field({
      type: [LimitUsageRef],
      resolve: (_b, _args, ctx) => ctx.services.billing.limits(sessionOf(ctx)),
    }),
    alerts: t.field({
      type: [UsageAlertRef],
      description: 'The newest alerts, newest first.',
      resolve: (_b, _args, ctx) => ctx.services.usageAlerts.recent(sessionOf(ctx)),
    }),
  }),
});

const BillingUrlRef = builder
  .objectRef<{ url: string }>('BillingUrl')
  .implement({ fields: (t) => ({ url: t.exposeString('url') }) });

const RedeemedRef = builder
  .objectRef<{ organisation: OrganisationRow; checkoutUrl: string | null }>('PlanKeyRedeemed')
  .implement({
    fields: (t) => ({
      organisation: t.field({ type: OrganisationRef, resolve: (r) => r.organisation }),
      checkoutUrl: t.exposeString('checkoutUrl', {
        nullable: true,
        description:
          'With Stripe billing: Checkout with the key applied; the plan moves on payment.',
      }),
    }),
  });

builder.queryFields((t) => ({
  billing: t.field({
    type: BillingRef,
    authScopes: { authenticated: true },
    resolve: (_root, _args, ctx) => ctx.services.billing.status(sessionOf(ctx)),
  }),
}));

builder.mutationFields((t) => ({
  startCheckout: t.field({
    type: BillingUrlRef,
    description: 'Owners: a Stripe Checkout Session (subscription mode) for a paid plan.',
    authScopes: { authenticated: true },
    errors: { types: [ValidationError, ConflictError], directResult: true },
    args: { plan: t.arg({ type: BillingPlanEnum, required: true }) },
    resolve: (_root, args, ctx) => ctx.services.billing.startCheckout(sessionOf(ctx), args),
  }),
  billingPortalUrl: t.field({
    type: BillingUrlRef,
    description: "Owners: a session of Stripe's Customer Portal for the organisation.",
    authScopes: { authenticated: true },
    errors: { types: [ConflictError], directResult: true },
    resolve: (_root, _args, ctx) => ctx.services.billing.billingPortalUrl(sessionOf(ctx)),
  }),
  redeemPlanKey: t.field({
    type: RedeemedRef,
    description:
      'Owners: the guide\'s "Scale plan Stripe key". Once per key and organisation; wrong keys are throttled like logins.',
    authScopes: { authenticated: true },
    errors: { types: [ValidationError, ConflictError, RateLimitedError], directResult: true },
    args: { key: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.billing.redeemPlanKey(sessionOf(ctx), args),
  }),
}));

builder.subscriptionFields((t) => ({
  orgUsageAlert: t.field({
    type: UsageAlertRef,
    description: 'Pushed when a usage sync takes the organisation across 80% or 100% of a limit.',
    authScopes: { authenticated: true },
    subscribe: (_root, _args, ctx) => ctx.services.usageAlerts.subscribe(sessionOf(ctx)),
    resolve: (alert) => alert,
  }),
}));
