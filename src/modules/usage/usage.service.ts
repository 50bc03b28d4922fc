import { and, eq, gte, lte, ne, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { anyOf } from '../../db/any-of.ts';
import { organisations, tenants, usageCurrent, usageSyncState } from '../../db/schema.ts';
import type { Deps } from '../../lib/deps.ts';
import { NotFoundError, ValidationError } from '../../lib/errors.ts';
import type { Session } from '../auth/session.ts';
import { type BillingPlan, PLAN_LIMITS } from '../organisations/plans.ts';
import type { TenantsService } from '../tenants/tenants.service.ts';
import { planHistoryRead } from './usage-resolutions.ts';

export interface UsageFigures {
  activeSeries: number;
  logsBytesThisMonth: number;
  tracesBytesThisMonth: number;
}

export interface OrgUsage extends UsageFigures {
  organisationId: string;
  billingPlan: BillingPlan;
  planMaxActiveSeries: number;
  /** Active series as a percentage of the plan's maximum. */
  pctUsed: number;
  syncedAt: Date | null;
}

export interface TenantUsage extends UsageFigures {
  tenantId: string;
  syncedAt: Date | null;
}

export interface UsageSample extends UsageFigures {
  at: Date;
}

export const USAGE_SYNC_STATES = ['pending', 'ok', 'failing'] as const;
export type UsageSyncState = (typeof USAGE_SYNC_STATES)[number];

/**
 * What an organisation may know about the platform-wide sync: timestamps and a generic state.
 * The failure detail (source host, answer, the tenant a bad value came from) can name other
 * organisations' tenants, so it goes to the operator only: the server log and
 * `usage_sync_state.last_error`.
 */
export interface UsageSyncStatus {
  sourceConfigured: boolean;
  intervalSeconds: number;
  state: UsageSyncState;
  lastAttemptAt: Date | null;
  lastSuccessAt: Date | null;
  /** A generic sentence while the last tick failed, else null. */
  lastError: string | null;
  lastErrorAt: Date | null;
  /** The caller's live tenants that the last successful sync wrote. */
  tenantsSynced: number;
}

/** The sync stores this for a database failure (usage-sync.ts); anything else is the source. */
const STORE_FAILURE_PREFIX = 'could not store usage';
const publicSyncError = (detail: string) =>
  detail.startsWith(STORE_FAILURE_PREFIX)
    ? 'The last usage sync could not store its figures; figures are from the last successful sync. The operator has the details.'
    : 'The last usage sync could not read the usage source; figures are from the last successful sync. The operator has the details.';

/** Bytes -> decimal gigabytes, as billed. */
export const toGb = (bytes: number) => Math.round((bytes / 1e9) * 1000) / 1000;

const MAX_HISTORY_DAYS = 93;
/** Points a history answer may hold: plenty for a chart, never thousands of rows. */
export const MAX_HISTORY_POINTS = 1000;

export interface HistoryRange {
  from: Date;
  to: Date;
  /** Seconds per point; omitted = the sync interval, or coarser when that gives too many points. */
  step?: number | null;
}

export type UsageService = ReturnType<typeof createUsageService>;

/** Reads of what the usage sync stored: the dashboard's numbers. */
export function createUsageService({ db, config, clock }: Deps, tenantsService: TenantsService) {
  const lastSuccess = async (): Promise<Date | null> => {
    const [state] = await db
      .select({ at: usageSyncState.lastSuccessAt })
      .from(usageSyncState)
      .where(eq(usageSyncState.id, 1));
    return state?.at ?? null;
  };

  /** Validates the range and settles the step (seconds per point). */
  const resolveRange = ({ from, to, step }: HistoryRange) => {
    if (from > to) throw new ValidationError('from', 'from: must not be after to');
    const spanS = (to.getTime() - from.getTime()) / 1000;
    if (spanS > MAX_HISTORY_DAYS * 86_400) {
      throw new ValidationError('to', `to: the range may span at most ${MAX_HISTORY_DAYS} days`);
    }
    const interval = config.usage.intervalSeconds;
    // Both ends count and buckets sit on multiples of step: span / step + 1 buckets at most.
    const finest = Math.floor(spanS / MAX_HISTORY_POINTS) + 1;
    if (step == null) {
      return { from, to, step: Math.ceil(Math.max(interval, finest) / interval) * interval };
    }
    if (!Number.isInteger(step) || step < 1) {
      throw new ValidationError('step', 'step: must be a whole number of seconds, at least 1');
    }
    if (step < finest) {
      throw new ValidationError(
        'step',
        `step: ${step} s would give more than ${MAX_HISTORY_POINTS} points over this range; use at least ${finest}`,
      );
    }
    return { from, to, step };
  };

  const history = async (
    level: 'tenant' | 'org',
    key: string,
    range: HistoryRange,
  ): Promise<UsageSample[]> => {
    const { from, to, step } = resolveRange(range);
    const plan = planHistoryRead(config.usage, clock.now(), from, step);
    const src = plan.resolution[level];
    // A roll-up bucket that overlaps the range counts whole; raw samples count from `from` on.
    const lowest = new Date(Math.floor(from.getTime() / plan.bucketMs) * plan.bucketMs);
    const inRange = and(eq(src.key, key), gte(src.bucket, lowest), lte(src.bucket, to));
    const toSample = (r: {
      at: unknown;
      activeSeries: unknown;
      logs: unknown;
      traces: unknown;
    }) => ({
      at: new Date(r.at as string | Date),
      activeSeries: Number(r.activeSeries),
      logsBytesThisMonth: Number(r.logs),
      tracesBytesThisMonth: Number(r.traces),
    });
    if (plan.step === plan.resolution.seconds) {
      // One roll-up row per point (the 30-day chart): the rows as stored, nothing to group.
      const rows = await db
        .select({
          at: src.stamp,
          activeSeries: src.activeSeries,
          logs: src.logsBytesThisMonth,
          traces: src.tracesBytesThisMonth,
        })
        .from(src.table)
        .where(inRange)
        .orderBy(src.bucket);
      return rows.map(toSample);
    }
    const last = (column: AnyPgColumn) =>
      sql<number>`(array_agg(${column} order by ${src.stamp} desc))[1]::float8`;
    const rows = await db
      .select({
        bucket: sql<number>`floor(extract(epoch from ${src.bucket}) / ${plan.step})`,
        at: sql<string>`max(${src.stamp})`,
        activeSeries: sql<number>`max(${src.activeSeries})::float8`,
        logs: last(src.logsBytesThisMonth),
        traces: last(src.tracesBytesThisMonth),
      })
      .from(src.table)
      .where(inRange)
      .groupBy(sql`1`)
      .orderBy(sql`1`);
    return rows.map(toSample);
  };

  return {
    /** Summaries of many organisations in one statement (the subscription fan-out uses it). */
    async summariesFor(organisationIds: string[]): Promise<Map<string, OrgUsage>> {
      if (organisationIds.length === 0) return new Map();
      const rows = await db
        .select({
          organisationId: organisations.id,
          plan: organisations.billingPlan,
          activeSeries: sql<number>`coalesce(sum(${usageCurrent.activeSeries}), 0)::float8`,
          logs: sql<number>`coalesce(sum(${usageCurrent.logsBytesThisMonth}), 0)::float8`,
          traces: sql<number>`coalesce(sum(${usageCurrent.tracesBytesThisMonth}), 0)::float8`,
        })
        .from(organisations)
        .leftJoin(
          tenants,
          and(eq(tenants.organisationId, organisations.id), ne(tenants.status, 'deleted')),
        )
        .leftJoin(usageCurrent, eq(usageCurrent.tenantId, tenants.id))
        .where(anyOf(organisations.id, organisationIds))
        .groupBy(organisations.id, organisations.billingPlan);
      const syncedAt = await lastSuccess();
      return new Map(
        rows.map((row) => {
          const max = PLAN_LIMITS[row.plan].maxActiveSeries;
          const activeSeries = Number(row.activeSeries);
          return [
            row.organisationId,
            {
              organisationId: row.organisationId,
              billingPlan: row.plan,
              activeSeries,
              planMaxActiveSeries: max,
              pctUsed: Math.round((activeSeries / max) * 10_000) / 100,
              logsBytesThisMonth: Number(row.logs),
              tracesBytesThisMonth: Number(row.traces),
              syncedAt,
            },
          ];
        }),
      );
    },

    /** Current usage of many live tenants in one statement; absent = deleted. */
    async tenantUsagesFor(tenantIds: string[]): Promise<Map<string, TenantUsage>> {
      if (tenantIds.length === 0) return new Map();
      const rows = await db
        .select({ id: tenants.id, usage: usageCurrent })
        .from(tenants)
        .leftJoin(usageCurrent, eq(usageCurrent.tenantId, tenants.id))
        .where(and(anyOf(tenants.id, tenantIds), ne(tenants.status, 'deleted')));
      const syncedAt = rows.some((r) => !r.usage) ? await lastSuccess() : null;
      return new Map(
        rows.map(({ id, usage }) => [
          id,
          {
            tenantId: id,
            activeSeries: usage?.activeSeries ?? 0,
            logsBytesThisMonth: usage?.logsBytesThisMonth ?? 0,
            tracesBytesThisMonth: usage?.tracesBytesThisMonth ?? 0,
            syncedAt: usage?.syncedAt ?? syncedAt,
          },
        ]),
      );
    },

    /** The guide's org summary: plan, series against the plan maximum, bytes this month. */
    async orgSummary(session: Session): Promise<OrgUsage> {
      const summaries = await this.summariesFor([session.organisationId]);
      return summaries.get(session.organisationId)!;
    },

    async tenantUsage(session: Session, tenantId: string): Promise<TenantUsage> {
      await tenantsService.get(session, tenantId);
      const usages = await this.tenantUsagesFor([tenantId]);
      const usage = usages.get(tenantId);
      if (!usage) throw new NotFoundError('Tenant', tenantId);
      return usage;
    },

    /**
     * The organisation's usage, one point per step: per-tick sums over the tenants it had at
     * each tick (deleting a tenant does not rewrite the past), or their hourly/daily roll-ups.
     */
    async orgHistory(session: Session, range: HistoryRange): Promise<UsageSample[]> {
      return history('org', session.organisationId, range);
    },

    /** One tenant's usage, one point per step. */
    async tenantHistory(
      session: Session,
      tenantId: string,
      range: HistoryRange,
    ): Promise<UsageSample[]> {
      resolveRange(range);
      await tenantsService.get(session, tenantId);
      return history('tenant', tenantId, range);
    },

    async syncStatus(session: Session): Promise<UsageSyncStatus> {
      const [state] = await db.select().from(usageSyncState).where(eq(usageSyncState.id, 1));
      const lastSuccessAt = state?.lastSuccessAt ?? null;
      let tenantsSynced = 0;
      if (lastSuccessAt) {
        const [row] = await db
          .select({ n: sql<number>`count(*)::int` })
          .from(usageCurrent)
          .innerJoin(tenants, eq(tenants.id, usageCurrent.tenantId))
          .where(
            and(
              eq(tenants.organisationId, session.organisationId),
              ne(tenants.status, 'deleted'),
              eq(usageCurrent.syncedAt, lastSuccessAt),
            ),
          );
        tenantsSynced = Number(row?.n ?? 0);
      }
      // The sync clears last_error on success and sets it on failure.
      const failing = state?.lastError != null;
      return {
        sourceConfigured: config.usage.prometheusUrl !== undefined,
        intervalSeconds: config.usage.intervalSeconds,
        state: failing ? 'failing' : lastSuccessAt ? 'ok' : 'pending',
        lastAttemptAt: state?.lastAttemptAt ?? null,
        lastSuccessAt,
        lastError: failing ? publicSyncError(state.lastError!) : null,
        lastErrorAt: state?.lastErrorAt ?? null,
        tenantsSynced,
      };
    },
  };
}
