import { and, eq, gte, inArray, lte, ne, sql } from 'drizzle-orm';
import {
  organisations,
  tenants,
  usageCurrent,
  usageSamples,
  usageSyncState,
} from '../../db/schema.ts';
import type { Deps } from '../../lib/deps.ts';
import { NotFoundError, ValidationError } from '../../lib/errors.ts';
import type { Session } from '../auth/session.ts';
import { type BillingPlan, PLAN_LIMITS } from '../organisations/plans.ts';
import type { TenantsService } from '../tenants/tenants.service.ts';

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

export interface UsageSyncStatus {
  sourceConfigured: boolean;
  lastAttemptAt: Date | null;
  lastSuccessAt: Date | null;
  lastError: string | null;
  lastErrorAt: Date | null;
  tenantsSynced: number;
}

/** Bytes -> decimal gigabytes, as billed. */
export const toGb = (bytes: number) => Math.round((bytes / 1e9) * 1000) / 1000;

const MAX_HISTORY_DAYS = 93;

export type UsageService = ReturnType<typeof createUsageService>;

/** Reads of what the usage sync stored: the dashboard's numbers. */
export function createUsageService({ db, config }: Deps, tenantsService: TenantsService) {
  const lastSuccess = async (): Promise<Date | null> => {
    const [state] = await db
      .select({ at: usageSyncState.lastSuccessAt })
      .from(usageSyncState)
      .where(eq(usageSyncState.id, 1));
    return state?.at ?? null;
  };

  const checkRange = (from: Date, to: Date) => {
    if (from > to) throw new ValidationError('from', 'from: must not be after to');
    if (to.getTime() - from.getTime() > MAX_HISTORY_DAYS * 86_400_000) {
      throw new ValidationError('to', `to: the range may span at most ${MAX_HISTORY_DAYS} days`);
    }
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
        .where(inArray(organisations.id, organisationIds))
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
        .where(and(inArray(tenants.id, tenantIds), ne(tenants.status, 'deleted')));
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

    /** One sample per sync tick, summed over the organisation's live tenants. */
    async orgHistory(session: Session, from: Date, to: Date): Promise<UsageSample[]> {
      checkRange(from, to);
      const rows = await db
        .select({
          at: usageSamples.at,
          activeSeries: sql<number>`sum(${usageSamples.activeSeries})::float8`,
          logs: sql<number>`sum(${usageSamples.logsBytesThisMonth})::float8`,
          traces: sql<number>`sum(${usageSamples.tracesBytesThisMonth})::float8`,
        })
        .from(usageSamples)
        .innerJoin(tenants, eq(tenants.id, usageSamples.tenantId))
        .where(
          and(
            eq(tenants.organisationId, session.organisationId),
            ne(tenants.status, 'deleted'),
            gte(usageSamples.at, from),
            lte(usageSamples.at, to),
          ),
        )
        .groupBy(usageSamples.at)
        .orderBy(usageSamples.at);
      return rows.map((r) => ({
        at: r.at,
        activeSeries: Number(r.activeSeries),
        logsBytesThisMonth: Number(r.logs),
        tracesBytesThisMonth: Number(r.traces),
      }));
    },

    async tenantHistory(
      session: Session,
      tenantId: string,
      from: Date,
      to: Date,
    ): Promise<UsageSample[]> {
      checkRange(from, to);
      await tenantsService.get(session, tenantId);
      return db
        .select({
          at: usageSamples.at,
          activeSeries: usageSamples.activeSeries,
          logsBytesThisMonth: usageSamples.logsBytesThisMonth,
          tracesBytesThisMonth: usageSamples.tracesBytesThisMonth,
        })
        .from(usageSamples)
        .where(
          and(
            eq(usageSamples.tenantId, tenantId),
            gte(usageSamples.at, from),
            lte(usageSamples.at, to),
          ),
        )
        .orderBy(usageSamples.at);
    },

    async syncStatus(): Promise<UsageSyncStatus> {
      const [state] = await db.select().from(usageSyncState).where(eq(usageSyncState.id, 1));
      return {
        sourceConfigured: config.usage.prometheusUrl !== undefined,
        lastAttemptAt: state?.lastAttemptAt ?? null,
        lastSuccessAt: state?.lastSuccessAt ?? null,
        lastError: state?.lastError ?? null,
        lastErrorAt: state?.lastErrorAt ?? null,
        tenantsSynced: state?.tenantsSynced ?? 0,
      };
    },
  };
}
