import { builder } from '../../graphql/builder.ts';
import { sessionOf, transportOf } from '../../graphql/context.ts';
import { ValidationError } from '../../lib/errors.ts';
import { BillingPlanEnum, OrganisationRef } from '../organisations/organisations.graphql.ts';
import { TenantRef } from '../tenants/tenants.graphql.ts';
import {
  MAX_HISTORY_POINTS,
  type OrgUsage,
  type TenantUsage,
  toGb,
  USAGE_SYNC_STATES,
  type UsageFigures,
  type UsageSample,
  type UsageSyncStatus,
} from './usage.service.ts';

/** Fields every usage shape shares; objects implementing it inherit them. */
const UsageFiguresRef = builder.interfaceRef<UsageFigures>('UsageFigures').implement({
  fields: (t) => ({
    activeSeries: t.exposeInt('activeSeries'),
    logsGbThisMonth: t.float({
      description: 'Decimal GB ingested this UTC month.',
      resolve: (u) => toGb(u.logsBytesThisMonth),
    }),
    tracesGbThisMonth: t.float({ resolve: (u) => toGb(u.tracesBytesThisMonth) }),
    logsBytesThisMonth: t.exposeFloat('logsBytesThisMonth'),
    tracesBytesThisMonth: t.exposeFloat('tracesBytesThisMonth'),
  }),
});

export const OrgUsageRef = builder.objectRef<OrgUsage>('OrgUsage').implement({
  interfaces: [UsageFiguresRef],
  description: "The guide's org summary, as of the last usage sync.",
  fields: (t) => ({
    billingPlan: t.field({ type: BillingPlanEnum, resolve: (u) => u.billingPlan }),
    planMaxActiveSeries: t.exposeInt('planMaxActiveSeries'),
    pctUsed: t.exposeFloat('pctUsed', { description: 'activeSeries / planMaxActiveSeries x 100.' }),
    syncedAt: t.expose('syncedAt', { type: 'DateTime', nullable: true }),
  }),
});

export const TenantUsageRef = builder.objectRef<TenantUsage>('TenantUsage').implement({
  interfaces: [UsageFiguresRef],
  fields: (t) => ({
    tenantId: t.exposeID('tenantId'),
    syncedAt: t.expose('syncedAt', { type: 'DateTime', nullable: true }),
  }),
});

const UsageSampleRef = builder.objectRef<UsageSample>('UsageSample').implement({
  interfaces: [UsageFiguresRef],
  description: 'Usage as stored by one sync tick.',
  fields: (t) => ({
    at: t.expose('at', { type: 'DateTime' }),
  }),
});

const UsageSyncStateEnum = builder.enumType('UsageSyncState', {
  values: USAGE_SYNC_STATES,
  description: 'pending: no sync has succeeded yet; failing: the last tick failed.',
});

const UsageSyncStatusRef = builder.objectRef<UsageSyncStatus>('UsageSyncStatus').implement({
  description:
    'The platform-wide usage sync as an organisation sees it: timestamps and a state. Failure details stay with the operator (server log).',
  fields: (t) => ({
    state: t.field({ type: UsageSyncStateEnum, resolve: (s) => s.state }),
    sourceConfigured: t.exposeBoolean('sourceConfigured', {
      description: 'False: USAGE_PROMETHEUS_URL is not set, usage stays 0.',
    }),
    intervalSeconds: t.exposeFloat('intervalSeconds', {
      description: 'USAGE_SYNC_INTERVAL_S: a dashboard can call a sync late after a few of these.',
    }),
    lastAttemptAt: t.expose('lastAttemptAt', { type: 'DateTime', nullable: true }),
    lastSuccessAt: t.expose('lastSuccessAt', { type: 'DateTime', nullable: true }),
    lastError: t.exposeString('lastError', {
      nullable: true,
      description:
        'While the last tick failed: a generic sentence (source or storage), never the detail. Null otherwise.',
    }),
    lastErrorAt: t.expose('lastErrorAt', { type: 'DateTime', nullable: true }),
    tenantsSynced: t.exposeInt('tenantsSynced', {
      description: "The organisation's live tenants written by the last successful sync.",
    }),
  }),
});

const historyArgs = builder.args((t) => ({
  from: t.field({ type: 'DateTime', required: true }),
  to: t.field({ type: 'DateTime', required: true }),
  step: t.int({
    description: `Seconds per point (peak active series, last monthly bytes in each). Default: the sync interval, or coarser so that at most ${MAX_HISTORY_POINTS} points come back. A step of an hour or a day or more reads hourly or daily roll-ups and is rounded up to whole hours or days; a range older than a resolution keeps is answered from the next coarser one.`,
  }),
}));

builder.drizzleObjectFields(OrganisationRef, (t) => ({
  usage: t.field({
    type: OrgUsageRef,
    resolve: (_org, _args, ctx) => ctx.services.usage.orgSummary(sessionOf(ctx)),
  }),
  usageHistory: t.field({
    type: [UsageSampleRef],
    description:
      'Summed over live tenants, one point per step (at most 93 days; downsampled by the server).',
    errors: { types: [ValidationError] },
    args: historyArgs,
    resolve: (_org, args, ctx) => ctx.services.usage.orgHistory(sessionOf(ctx), args),
  }),
}));

builder.drizzleObjectFields(TenantRef, (t) => ({
  usage: t.field({
    type: TenantUsageRef,
    // Loaded with the tenant in the same statement.
    select: { columns: { id: true }, with: { usage: true } },
    resolve: (tenant) => ({
      tenantId: tenant.id,
      activeSeries: tenant.usage?.activeSeries ?? 0,
      logsBytesThisMonth: tenant.usage?.logsBytesThisMonth ?? 0,
      tracesBytesThisMonth: tenant.usage?.tracesBytesThisMonth ?? 0,
      syncedAt: tenant.usage?.syncedAt ?? null,
    }),
  }),
  usageHistory: t.field({
    type: [UsageSampleRef],
    errors: { types: [ValidationError] },
    select: { columns: { id: true } },
    args: historyArgs,
    resolve: (tenant, args, ctx) =>
      ctx.services.usage.tenantHistory(sessionOf(ctx), tenant.id, args),
  }),
}));

builder.queryFields((t) => ({
  usageSyncStatus: t.field({
    type: UsageSyncStatusRef,
    description: 'When usage was last synced, and whether the last tick failed.',
    authScopes: { authenticated: true },
    resolve: (_root, _args, ctx) => ctx.services.usage.syncStatus(sessionOf(ctx)),
  }),
}));

builder.subscriptionType({});
builder.subscriptionFields((t) => ({
  orgUsageUpdated: t.field({
    type: OrgUsageRef,
    description: 'Pushed after every usage sync. Ends when the token expires.',
    authScopes: { authenticated: true },
    subscribe: (_root, _args, ctx) =>
      ctx.services.usageFeed.subscribeOrg(sessionOf(ctx), transportOf(ctx)),
    resolve: (usage) => usage,
  }),
  tenantUsageUpdated: t.field({
    type: TenantUsageRef,
    description: "Pushed after every usage sync; another organisation's tenant is not found.",
    authScopes: { authenticated: true },
    args: { tenantId: t.arg.id({ required: true }) },
    subscribe: async (_root, args, ctx) => {
      const session = sessionOf(ctx);
      await ctx.services.tenants.get(session, String(args.tenantId));
      return ctx.services.usageFeed.subscribeTenant(
        session,
        String(args.tenantId),
        transportOf(ctx),
      );
    },
    resolve: (usage) => usage,
  }),
}));
