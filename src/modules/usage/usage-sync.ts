import { eq, sql } from 'drizzle-orm';
import type { Database } from '../../db/client.ts';
import { describeError } from '../../db/errors.ts';
import { usageSyncState } from '../../db/schema.ts';
import type { Deps } from '../../lib/deps.ts';
import { reportFailure } from '../../lib/failures.ts';
import { markLiveStage } from '../../lib/live-stages.ts';
import { renderMonthToDate } from './month.ts';
import { PrometheusSource, type TenantValues, UsageSourceError } from './prometheus-source.ts';
import { pruneUsageHistory } from './usage-retention.ts';
import { rollUpTick } from './usage-rollups.ts';

/** Session advisory lock held by the instance syncing a tick. */
const USAGE_SYNC_LOCK = 7_245_310_002n;

export type TickOutcome = 'synced' | 'no-source' | 'skipped' | 'failed';

/**
 * Every interval, on every instance: the one that wins the advisory lock and finds the tick not
 * yet done fetches usage, writes it and rolls it up into hours and days in four batched
 * statements (one transaction), publishes `usage.synced`, then prunes history past retention.
 * Ticks are aligned to the wall clock (floor(now / interval)), so instances agree on what
 * "this tick" is; a dead leader's lock dies with its connection and the next tick goes on.
 */
export function createUsageSync(deps: Deps, database: Database) {
  const { db, clock, config, events } = deps;
  const logger = deps.logger.child({ component: 'usage-sync' });
  const recorder = deps.metrics.usageSync;
  // Whichever instance synced, every one hears of it: each reports the same lag.
  events.subscribe('usage.synced', ({ at }) => recorder.succeededAt(new Date(at)));
  const intervalMs = config.usage.intervalSeconds * 1000;
  // The sync's own statements get the tick's budget (the interval) rather than a request's
  // DB_STATEMENT_TIMEOUT_MS: the roll-ups upsert every tenant into tables of many millions of
  // rows (50,000 tenants with 35 days of hourly history passed the 5 s default on every tick).
  // A tick longer than the interval overlaps the next one anyway. 0 (no timeout) stays none.
  const requestTimeoutMs = config.dbDeadlines.statementTimeoutMs;
  const tickTimeoutMs = requestTimeoutMs > 0 ? Math.max(requestTimeoutMs, intervalMs) : 0;
  const source = config.usage.prometheusUrl
    ? new PrometheusSource(config.usage.prometheusUrl, config.usage.timeoutMs)
    : undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<TickOutcome> | undefined;

  const fetchUsage = async (at: Date) => {
    if (!source) return { activeSeries: new Map(), logs: new Map(), traces: new Map() };
    const { queries } = config.usage;
    const monthToDate = async (template: string): Promise<TenantValues> => {
      const promql = renderMonthToDate(template, at);
      return promql ? source.query(promql, at) : new Map();
    };
    const [activeSeries, logs, traces] = await Promise.all([
      source.query(queries.activeSeries, at),
      monthToDate(queries.logsBytes),
      monthToDate(queries.tracesBytes),
    ]);
    return { activeSeries, logs, traces };
  };

  const write = async (at: Date, tick: number, usage: Awaited<ReturnType<typeof fetchUsage>>) => {
    const ids = new Set([
      ...usage.activeSeries.keys(),
      ...usage.logs.keys(),
      ...usage.traces.keys(),
    ]);
    const rows = [...ids].map((id) => ({
      tenant_id: id,
      active_series: Math.round(usage.activeSeries.get(id) ?? 0),
      logs: usage.logs.get(id) ?? 0,
      traces: usage.traces.get(id) ?? 0,
    }));
    const payload = JSON.stringify(rows);
    return db.transaction(async (tx) => {
      if (tickTimeoutMs > 0 && database.kind === 'postgres') {
        await tx.execute(
          sql`select set_config('statement_timeout', ${String(tickTimeoutMs)}, true)`,
        );
      }
      // Every live tenant gets a row: one absent from the source has no usage right now.
      // Series of unknown or deleted tenants fall out of the join.
      const written = await tx.execute(sql`
        insert into usage_current (tenant_id, active_series, logs_bytes_this_month, traces_bytes_this_month, synced_at)
        select t.id, coalesce(u.active_series, 0), coalesce(u.logs, 0), coalesce(u.traces, 0), ${at.toISOString()}::timestamptz
        from tenants t
        left join json_to_recordset(${payload}::json)
          as u(tenant_id text, active_series bigint, logs float8, traces float8) on u.tenant_id = t.id
        where t.status <> 'deleted'
        on conflict (tenant_id) do update set
          active_series = excluded.active_series,
          logs_bytes_this_month = excluded.logs_bytes_this_month,
          traces_bytes_this_month = excluded.traces_bytes_this_month,
          synced_at = excluded.synced_at
        returning tenant_id`);
      await tx.execute(sql`
        insert into usage_samples (tenant_id, at, active_series, logs_bytes_this_month, traces_bytes_this_month)
        select t.id, ${at.toISOString()}::timestamptz, u.active_series, u.logs, u.traces
        from json_to_recordset(${payload}::json)
          as u(tenant_id text, active_series bigint, logs float8, traces float8)
        join tenants t on t.id = u.tenant_id and t.status <> 'deleted'
        on conflict do nothing`);
      await rollUpTick(tx, at);
      const count = Array.isArray(written)
        ? written.length
        : ((written as { rows?: unknown[] }).rows?.length ?? 0);
      await tx
        .update(usageSyncState)
        .set({
          lastTick: tick,
          lastAttemptAt: at,
          lastSuccessAt: at,
          lastError: null,
          tenantsSynced: count,
        })
        .where(eq(usageSyncState.id, 1));
      return count;
    });
  };

  /** After the tick's commit, still holding the lock: a failure here leaves the usage stored. */
  const prune = async (at: Date) => {
    try {
      const pruned = await pruneUsageHistory(db, config.usage, at);
      if (Object.keys(pruned).length > 0) logger.info({ pruned }, 'usage history pruned');
    } catch (err) {
      logger.warn(
        describeError(err, { stack: false }),
        'usage history prune failed; retried next tick',
      );
    }
  };

  const recordFailure = async (at: Date, tick: number, error: string) => {
    await db
      .update(usageSyncState)
      .set({ lastTick: tick, lastAttemptAt: at, lastError: error.slice(0, 500), lastErrorAt: at })
      .where(eq(usageSyncState.id, 1));
  };

  /** One tick: returns what happened on this instance (and counts it in the metrics). */
  const runTick = async (): Promise<TickOutcome> => {
    const started = performance.now();
    let tenants: number | undefined;
    let outcome: TickOutcome = 'failed';
    try {
      outcome = await tryTick((n) => {
        tenants = n;
      });
      return outcome;
    } finally {
      const seconds = outcome === 'skipped' ? undefined : (performance.now() - started) / 1000;
      recorder.run(outcome === 'no-source' ? 'no_source' : outcome, seconds, tenants);
    }
  };

  const tryTick = async (wrote: (tenants: number) => void): Promise<TickOutcome> => {
    const at = clock.now();
    const tick = Math.floor(at.getTime() / intervalMs);
    const { locked, value } = await database.withTryLock(
      USAGE_SYNC_LOCK,
      async (): Promise<TickOutcome> => {
        await db.insert(usageSyncState).values({ id: 1 }).onConflictDoNothing();
        const [state] = await db
          .select({ lastTick: usageSyncState.lastTick })
          .from(usageSyncState)
          .where(eq(usageSyncState.id, 1));
        if (state?.lastTick != null && state.lastTick >= tick) return 'skipped';
        try {
          const usage = await fetchUsage(at);
          markLiveStage('sync-fetched');
          const tenants = await write(at, tick, usage);
          markLiveStage('sync-written');
          wrote(tenants);
          await events.publish('usage.synced', { at: at.toISOString() });
          markLiveStage('sync-published');
          logger.info({ tick, tenants, source: source ? 'prometheus' : 'none' }, 'usage synced');
          await prune(at);
          return source ? 'synced' : 'no-source';
        } catch (err) {
          const detail = err instanceof Error ? err.message : String(err);
          logger.warn(
            {
              tick,
              // A database error's message would quote the statement's parameters.
              ...(err instanceof UsageSourceError
                ? { error: detail }
                : describeError(err, { stack: false })),
            },
            'usage sync failed; stored usage unchanged, retrying next tick',
          );
          // Source errors are the operator's to see; database details stay in the log.
          await recordFailure(
            at,
            tick,
            err instanceof UsageSourceError ? detail : 'could not store usage; see the server log',
          );
          return 'failed';
        }
      },
    );
    return locked ? value! : 'skipped';
  };

  const schedule = () => {
    const now = clock.now().getTime();
    const next = (Math.floor(now / intervalMs) + 1) * intervalMs;
    timer = setTimeout(async () => {
      running = runTick().catch((err) => {
        reportFailure(logger, err, { during: 'usage sync tick' });
        return 'failed' as const;
      });
      await running;
      running = undefined;
      if (timer) schedule();
    }, next - now);
    timer.unref();
  };

  return {
    runTick,
    start(): void {
      schedule();
    },
    async stop(): Promise<void> {
      clearTimeout(timer);
      timer = undefined;
      await running;
    },
  };
}

export type UsageSync = ReturnType<typeof createUsageSync>;
