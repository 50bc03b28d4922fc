import { z } from 'zod';
import type { Clock } from '../../lib/clock.ts';
import { formatDateTime } from '../../lib/datetime.ts';
import { defineRoute, type RestRoute } from '../../rest/rest-router.ts';
import { dateTimeWire, timestampResponse } from '../../rest/wire.ts';
import type { Services } from '../../services.ts';
import { limitResponse, presentLimit } from '../billing/billing.rest.ts';
import { BILLING_PLANS } from '../organisations/plans.ts';
import { toGb, USAGE_SYNC_STATES, type UsageSample } from './usage.service.ts';

const gb = z.number().meta({ description: 'Decimal gigabytes (10^9 bytes), month to date.' });
const syncedAt = timestampResponse.nullable().meta({
  description: 'Last successful usage sync; null before the first one.',
});

const summaryResponse = z.object({
  billing_plan: z.enum(BILLING_PLANS as [string, ...string[]]),
  org_active_series: z.number(),
  plan_max_active_series: z.number(),
  org_logs_gb_ingested_this_month: gb,
  org_traces_gb_ingested_this_month: gb,
  pct_used: z.number().meta({ description: 'Active series as a percentage of the plan maximum.' }),
  synced_at: syncedAt,
  limits: z
    .array(limitResponse)
    .meta({ description: 'Every plan limit (see GET /billing/limits).' }),
});
const tenantUsageResponse = z.object({
  tenant_id: z.string(),
  active_series: z.number(),
  logs_gb_ingested_this_month: gb,
  traces_gb_ingested_this_month: gb,
  synced_at: syncedAt,
});
const sampleResponse = z.object({
  at: timestampResponse,
  active_series: z.number(),
  logs_gb_ingested_this_month: gb,
  traces_gb_ingested_this_month: gb,
});
const syncStatusResponse = z.object({
  source_configured: z.boolean(),
  interval_seconds: z.number(),
  state: z.enum(USAGE_SYNC_STATES).meta({
    description: 'pending: no sync has succeeded yet; failing: the last tick failed.',
  }),
  last_attempt_at: timestampResponse.nullable(),
  last_success_at: timestampResponse.nullable(),
  last_error: z.string().nullable().meta({
    description: 'While failing: a generic sentence; the detail is in the server log only.',
  }),
  last_error_at: timestampResponse.nullable(),
  tenants_synced: z
    .number()
    .meta({ description: "The organisation's live tenants written by the last successful sync." }),
});

/** Defaults to the last 24 hours; the service bounds the range. */
const rangeQuery = z.strictObject({
  from: dateTimeWire.optional(),
  to: dateTimeWire.optional(),
  step: z.coerce
    .number('must be a number of seconds')
    .int('must be a whole number of seconds')
    .min(1, 'must be at least 1')
    .optional()
    .meta({
      description: 'Seconds per point; default the sync interval, coarser for long ranges.',
    }),
});

const time = (d: Date | null) => (d ? formatDateTime(d) : null);
const presentSample = (s: UsageSample): z.infer<typeof sampleResponse> => ({
  at: formatDateTime(s.at),
  active_series: s.activeSeries,
  logs_gb_ingested_this_month: toGb(s.logsBytesThisMonth),
  traces_gb_ingested_this_month: toGb(s.tracesBytesThisMonth),
});

export function dashboardRoutes({ usage, billing }: Services, clock: Clock): RestRoute[] {
  const range = (q: z.output<typeof rangeQuery>) => {
    const to = q.to ?? clock.now();
    return { from: q.from ?? new Date(to.getTime() - 86_400_000), to, step: q.step };
  };
  return [
    defineRoute({
      method: 'GET',
      path: '/dashboard/org/summary',
      tag: 'Dashboard',
      summary: 'Plan, active series against the plan maximum, logs and traces this month.',
      auth: true,
      response: summaryResponse,
      handle: async ({ session }) => {
        const [s, limits] = await Promise.all([usage.orgSummary(session), billing.limits(session)]);
        return {
          billing_plan: s.billingPlan,
          org_active_series: s.activeSeries,
          plan_max_active_series: s.planMaxActiveSeries,
          org_logs_gb_ingested_this_month: toGb(s.logsBytesThisMonth),
          org_traces_gb_ingested_this_month: toGb(s.tracesBytesThisMonth),
          pct_used: s.pctUsed,
          synced_at: time(s.syncedAt),
          limits: limits.map(presentLimit),
        } satisfies z.infer<typeof summaryResponse>;
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/dashboard/tenants/{id}/usage',
      tag: 'Dashboard',
      summary: "One tenant's current usage.",
      auth: true,
      response: tenantUsageResponse,
      handle: async ({ session, params }) => {
        const u = await usage.tenantUsage(session, params.id!);
        return {
          tenant_id: u.tenantId,
          active_series: u.activeSeries,
          logs_gb_ingested_this_month: toGb(u.logsBytesThisMonth),
          traces_gb_ingested_this_month: toGb(u.tracesBytesThisMonth),
          synced_at: time(u.syncedAt),
        } satisfies z.infer<typeof tenantUsageResponse>;
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/dashboard/org/history',
      tag: 'Dashboard',
      summary: 'Organisation usage between from and to (default: last 24 h), one point per step.',
      auth: true,
      query: rangeQuery,
      response: z.array(sampleResponse),
      handle: async ({ session, query }) => {
        return (await usage.orgHistory(session, range(query))).map(presentSample);
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/dashboard/tenants/{id}/history',
      tag: 'Dashboard',
      summary: 'Tenant usage between from and to (default: last 24 h), one point per step.',
      auth: true,
      query: rangeQuery,
      response: z.array(sampleResponse),
      handle: async ({ session, params, query }) => {
        return (await usage.tenantHistory(session, params.id!, range(query))).map(presentSample);
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/dashboard/usage-sync',
      tag: 'Dashboard',
      summary: 'State of the usage sync (runs every 60 s).',
      auth: true,
      response: syncStatusResponse,
      handle: async ({ session }) => {
        const s = await usage.syncStatus(session);
        return {
          source_configured: s.sourceConfigured,
          interval_seconds: s.intervalSeconds,
          state: s.state,
          last_attempt_at: time(s.lastAttemptAt),
          last_success_at: time(s.lastSuccessAt),
          last_error: s.lastError,
          last_error_at: time(s.lastErrorAt),
          tenants_synced: s.tenantsSynced,
        } satisfies z.infer<typeof syncStatusResponse>;
      },
    }),
  ];
}
