import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import type { Tx } from '../../lib/deps.ts';
import { type BillingPlan, PLAN_LIMITS } from '../organisations/plans.ts';
import { monthStart } from '../usage/month.ts';
import { toGb } from '../usage/usage.service.ts';

export const LIMIT_NAMES = [
  'tenants',
  'api_keys_per_tenant',
  'active_series',
  'logs_gb_this_month',
] as const;
export type LimitName = (typeof LIMIT_NAMES)[number];

/** Where an organisation stands against one limit of its plan. */
export interface LimitUsage {
  limit: LimitName;
  used: number;
  max: number;
  /** used / max in percent, one decimal; above 100 after a downgrade. */
  percent: number;
  /** Monthly figures only: the month-end value if the month goes on as it went so far. */
  projected: number | null;
}

interface Figures {
  organisationId: string;
  plan: BillingPlan;
  tenants: number;
  /** Active keys of the tenant with the most (the limit is per tenant). */
  keysPerTenant: number;
  activeSeries: number;
  logsBytes: number;
}

const rowsOf = (result: unknown) =>
  (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as Record<
    string,
    unknown
  >[];

/**
 * The figures every limit is measured on, for one organisation or all of them, in one
 * statement: live tenants (suspended count, deleted do not), active keys per live tenant, and
 * the usage sync's current numbers.
 */
export async function readLimitFigures(db: Db | Tx, organisationId?: string): Promise<Figures[]> {
  // Grouped once over the live tenants (not per organisation): the alert evaluation reads every
  // organisation after each sync. One organisation's read filters the tenants first.
  const onlyOrg = organisationId ? sql`and organisation_id = ${organisationId}` : sql``;
  const onlyOrgRow = organisationId ? sql`where o.id = ${organisationId}` : sql``;
  const result = await db.execute(sql`
    with live as (
      select id, organisation_id from tenants where status <> 'deleted' ${onlyOrg}
    ), tenant_counts as (
      select organisation_id, count(*) as n from live group by organisation_id
    ), key_counts as (
      select organisation_id, max(n) as n from (
        select l.organisation_id, count(*) as n
        from api_keys k join live l on l.id = k.tenant_id
        where k.revoked_at is null
        group by l.organisation_id, k.tenant_id
      ) per_tenant group by organisation_id
    ), usage as (
      select l.organisation_id, sum(u.active_series) as series, sum(u.logs_bytes_this_month) as logs
      from usage_current u join live l on l.id = u.tenant_id
      group by l.organisation_id
    )
    select o.id, o.billing_plan,
      coalesce(t.n, 0)::int as tenants,
      coalesce(k.n, 0)::int as keys,
      coalesce(u.series, 0)::float8 as series,
      coalesce(u.logs, 0)::float8 as logs
    from organisations o
    left join tenant_counts t on t.organisation_id = o.id
    left join key_counts k on k.organisation_id = o.id
    left join usage u on u.organisation_id = o.id
    ${onlyOrgRow}`);
  return rowsOf(result).map((r) => ({
    organisationId: String(r.id),
    plan: r.billing_plan as BillingPlan,
    tenants: Number(r.tenants),
    keysPerTenant: Number(r.keys),
    activeSeries: Number(r.series),
    logsBytes: Number(r.logs),
  }));
}

const percentOf = (used: number, max: number) => Math.round((used / max) * 1000) / 10;

/** Linear over the UTC month so far; null in its first minute (nothing to extrapolate from). */
export function projectMonthEnd(used: number, at: Date): number | null {
  const start = monthStart(at).getTime();
  const end = Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1);
  const elapsed = at.getTime() - start;
  if (elapsed < 60_000) return null;
  return Math.round(((used * (end - start)) / elapsed) * 1000) / 1000;
}

export function limitUsages(f: Figures, at: Date): LimitUsage[] {
  const limits = PLAN_LIMITS[f.plan];
  const logsGb = toGb(f.logsBytes);
  const entry = (limit: LimitName, used: number, max: number, projected: number | null = null) => ({
    limit,
    used,
    max,
    percent: percentOf(used, max),
    projected,
  });
  return [
    entry('tenants', f.tenants, limits.maxTenants),
    entry('api_keys_per_tenant', f.keysPerTenant, limits.maxApiKeysPerTenant),
    entry('active_series', f.activeSeries, limits.maxActiveSeries),
    entry('logs_gb_this_month', logsGb, limits.maxLogsGbPerMonth, projectMonthEnd(logsGb, at)),
  ];
}
