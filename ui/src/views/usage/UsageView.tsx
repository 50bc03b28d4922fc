import { useCallback, useEffect, useRef, useState } from 'react';
import { useQuery, useSubscription } from 'urql';
import { Link } from 'wouter';
import { useConnectionState } from '../../client.ts';
import {
  formatDateTime,
  formatGb,
  formatInteger,
  formatRelative,
} from '../../components/format.ts';
import { ErrorNotice } from '../../components/Notice.tsx';
import { UsageChart } from '../../components/UsageChart.tsx';
import {
  historyWindow,
  USAGE_RANGES,
  type UsageRange,
  UsageRangePicker,
} from '../../components/UsageRangePicker.tsx';
import { useNow } from '../../components/useNow.ts';
import type { ResultOf } from '../../graphql.ts';
import {
  OrgUsageHistoryQuery,
  OrgUsageSubscription,
  SyncStatusQuery,
  UsageOverviewQuery,
} from './documents.ts';
import './usage.css';

type Overview = ResultOf<typeof UsageOverviewQuery>;
type OrgFigures = Overview['organisation']['usage'];
type SyncStatus = ResultOf<typeof SyncStatusQuery>['usageSyncStatus'];

/** No success in three sync intervals (USAGE_SYNC_INTERVAL_S, 60 s by default) is stale. */
const STALE_AFTER_INTERVALS = 3;
/** A failing source pushes nothing: the (small) sync status is read again this often. */
const STATUS_POLL_MS = 15_000;

/** The guide's pct_used: floor(active / max x 100), in integers so 29/100 gives 29, not 28. */
export function percentUsed(activeSeries: number, planMax: number): number {
  return planMax > 0 ? Math.floor((activeSeries * 100) / planMax) : 0;
}

type SyncHealth =
  | { kind: 'noSource' }
  | { kind: 'failing'; error: string; at: string | null; lastSuccessAt: string | null }
  | { kind: 'stale'; lastSuccessAt: string }
  | { kind: 'pending' }
  | { kind: 'ok' };

export function syncHealth(status: SyncStatus, now: number): SyncHealth {
  if (!status.sourceConfigured) return { kind: 'noSource' };
  const success = status.lastSuccessAt ? Date.parse(status.lastSuccessAt) : null;
  const failure = status.lastErrorAt ? Date.parse(status.lastErrorAt) : null;
  if (status.lastError && failure != null && (success == null || failure > success)) {
    return {
      kind: 'failing',
      error: status.lastError,
      at: status.lastErrorAt,
      lastSuccessAt: status.lastSuccessAt,
    };
  }
  if (success == null) return { kind: 'pending' };
  if (now - success > STALE_AFTER_INTERVALS * status.intervalSeconds * 1000)
    return { kind: 'stale', lastSuccessAt: status.lastSuccessAt! };
  return { kind: 'ok' };
}

const secondsFormat = new Intl.DateTimeFormat(undefined, {
  dateStyle: 'medium',
  timeStyle: 'medium',
});

/** "5 seconds ago"; a time just past the page's clock (ticks every 10 s, or skew) reads "now". */
function ago(iso: string | null | undefined, now: number): string {
  return formatRelative(iso, iso ? Math.max(now, Date.parse(iso)) : now);
}

/** The newer of two snapshots of the organisation's figures (a push may beat the refetch). */
function newest(a: OrgFigures | undefined, b: OrgFigures | undefined): OrgFigures | undefined {
  if (!a || !b) return a ?? b;
  const at = (f: OrgFigures) => (f.syncedAt ? Date.parse(f.syncedAt) : 0);
  return at(b) > at(a) ? b : a;
}

/** The organisation's live usage against its plan, per tenant, and its history. */
export function UsageView() {
  const now = useNow(10_000);
  const [overview, reexecuteOverview] = useQuery({ query: UsageOverviewQuery });
  const [syncStatus, reexecuteStatus] = useQuery({ query: SyncStatusQuery });
  const [live] = useSubscription({ query: OrgUsageSubscription });
  const connection = useConnectionState();

  const refetch = useCallback(() => {
    reexecuteOverview({ requestPolicy: 'network-only' });
    reexecuteStatus({ requestPolicy: 'network-only' });
  }, [reexecuteOverview, reexecuteStatus]);

  // One request per push refreshes every tenant's figures (not one subscription per tenant).
  const pushed = live.data?.orgUsageUpdated;
  useEffect(() => {
    if (pushed) refetch();
  }, [pushed, refetch]);

  // Pushes missed while the socket was down: read everything again once it is back.
  const previousConnection = useRef(connection);
  useEffect(() => {
    if (previousConnection.current === 'reconnecting' && connection === 'live') refetch();
    previousConnection.current = connection;
  }, [connection, refetch]);

  useEffect(() => {
    const timer = setInterval(
      () => reexecuteStatus({ requestPolicy: 'network-only' }),
      STATUS_POLL_MS,
    );
    return () => clearInterval(timer);
  }, [reexecuteStatus]);

  const data = overview.data;
  const figures = newest(data?.organisation.usage, pushed);

  return (
    <section aria-labelledby="usage-title" className="view usage-view">
      <h1 id="usage-title">Usage</h1>
      {!data ? (
        overview.error ? (
          <ErrorNotice error={overview.error} />
        ) : (
          <p className="muted" aria-busy="true">
            Loading usage…
          </p>
        )
      ) : (
        <>
          {overview.error && <ErrorNotice error={overview.error} />}
          {syncStatus.data && <SyncBanner status={syncStatus.data.usageSyncStatus} now={now} />}
          {figures && (
            <OrgSummary
              figures={figures}
              plan={data.organisation.billingPlan}
              maxLogsGb={data.organisation.planLimits.maxLogsGbPerMonth}
              now={now}
            />
          )}
          <TenantUsageTable tenants={data.tenants} now={now} />
        </>
      )}
      <UsageHistory syncedAt={figures?.syncedAt ?? null} />
    </section>
  );
}

function SyncBanner({ status, now }: { status: SyncStatus; now: number }) {
  const health = syncHealth(status, now);
  switch (health.kind) {
    case 'noSource':
      return (
        <p className="notice usage-banner" data-testid="sync-no-source">
          No usage source is configured (<code>USAGE_PROMETHEUS_URL</code> is not set), so usage
          stays 0.
        </p>
      );
    case 'failing':
      return (
        <div className="notice warning usage-banner" data-testid="sync-stale-warning">
          <p className="usage-banner-text">
            <strong>Usage figures may be out of date: the last sync failed.</strong> Failed:{' '}
            <time dateTime={health.at ?? undefined} title={formatDateTime(health.at)}>
              {ago(health.at, now)}
            </time>
            ; last success:{' '}
            {health.lastSuccessAt ? (
              <time dateTime={health.lastSuccessAt} title={formatDateTime(health.lastSuccessAt)}>
                {ago(health.lastSuccessAt, now)}
              </time>
            ) : (
              'never'
            )}
            .
          </p>
          <p className="usage-banner-text usage-banner-detail">
            Error: <span className="mono">{health.error}</span>
          </p>
        </div>
      );
    case 'stale':
      return (
        <p className="notice warning usage-banner" data-testid="sync-stale-warning">
          <strong>Usage figures may be out of date.</strong> No sync has succeeded since{' '}
          <time dateTime={health.lastSuccessAt} title={formatDateTime(health.lastSuccessAt)}>
            {ago(health.lastSuccessAt, now)}
          </time>{' '}
          (syncs normally run every minute).
        </p>
      );
    case 'pending':
      return (
        <p className="notice usage-banner" data-testid="sync-pending">
          The first usage sync has not finished yet; it runs within 60 s.
        </p>
      );
    case 'ok':
      return null;
  }
}

function OrgSummary({
  figures,
  plan,
  maxLogsGb,
  now,
}: {
  figures: OrgFigures;
  plan: string;
  maxLogsGb: number;
  now: number;
}) {
  const max = figures.planMaxActiveSeries;
  const pct = percentUsed(figures.activeSeries, max);
  const level = pct >= 100 ? 'over' : pct >= 80 ? 'high' : 'normal';
  // Announced when a figure changes, not at every sync (syncedAt is left out on purpose).
  const liveText =
    `${formatInteger(figures.activeSeries)} active series, ${pct} % of the plan; ` +
    `logs ${formatGb(figures.logsGbThisMonth)}, traces ${formatGb(figures.tracesGbThisMonth)} this month.`;
  return (
    <section aria-labelledby="org-usage-title" className="usage-summary">
      <h2 id="org-usage-title" className="visually-hidden">
        Organisation usage
      </h2>
      <p className="visually-hidden" aria-live="polite" data-testid="usage-live-summary">
        {liveText}
      </p>
      <div className="usage-cards">
        <article className="usage-card series-card" data-level={level}>
          <h3>Active series</h3>
          <p className="usage-figure">
            <span data-testid="org-active-series">{formatInteger(figures.activeSeries)}</span>
            <span className="usage-of"> of {formatInteger(max)}</span>
          </p>
          <meter
            className="usage-meter"
            min={0}
            max={Math.max(1, max)}
            low={max * 0.8}
            high={max * 0.95}
            optimum={0}
            value={Math.min(figures.activeSeries, Math.max(1, max))}
            aria-label="Active series against the plan maximum"
            aria-valuetext={`${pct} % of the ${formatInteger(max)} active series of the ${plan} plan`}
          />
          <p className="usage-pct">
            <strong data-testid="org-pct-used">{pct} %</strong> of the {plan} plan
            {level === 'over' && <span className="usage-over"> — over the limit</span>}
          </p>
        </article>
        <article className="usage-card">
          <h3>Logs this month</h3>
          <p className="usage-figure" data-testid="org-logs-gb">
            {formatGb(figures.logsGbThisMonth)}
          </p>
          <p className="muted">
            The {plan} plan allows {formatInteger(maxLogsGb)} GB a month
          </p>
        </article>
        <article className="usage-card">
          <h3>Traces this month</h3>
          <p className="usage-figure" data-testid="org-traces-gb">
            {formatGb(figures.tracesGbThisMonth)}
          </p>
          <p className="muted">Decimal GB since the 1st (UTC)</p>
        </article>
        <article className="usage-card">
          <h3>Last sync</h3>
          <p className="usage-figure usage-sync" data-testid="org-synced-ago">
            {ago(figures.syncedAt, now)}
          </p>
          {/* To the second, so every sync changes it (two in one minute read alike otherwise). */}
          <p className="muted">
            {figures.syncedAt ? (
              <time dateTime={figures.syncedAt} data-testid="org-synced-at">
                {secondsFormat.format(new Date(figures.syncedAt))}
              </time>
            ) : (
              <span data-testid="org-synced-at">No sync yet</span>
            )}
          </p>
        </article>
      </div>
    </section>
  );
}

function TenantUsageTable({ tenants, now }: { tenants: Overview['tenants']; now: number }) {
  const rows = tenants.edges.map((e) => e.node);
  return (
    <section aria-labelledby="tenant-usage-title" className="usage-section">
      <h2 id="tenant-usage-title">Per tenant</h2>
      {rows.length === 0 ? (
        <p className="muted">
          No tenants yet. <Link href="/">Create the first one</Link> to see its usage here.
        </p>
      ) : (
        <div className="table-wrap">
          <table className="data-table" data-testid="tenant-usage-table">
            <thead>
              <tr>
                <th scope="col">Tenant</th>
                <th scope="col">Environment</th>
                <th scope="col" className="num">
                  Active series
                </th>
                <th scope="col" className="num">
                  Logs this month
                </th>
                <th scope="col" className="num">
                  Traces this month
                </th>
                <th scope="col">Last sync</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((t) => (
                <tr key={t.id} data-testid={`tenant-usage-${t.id}`}>
                  <th scope="row" className="tenant-cell">
                    <Link href={`/tenants/${encodeURIComponent(t.id)}`}>{t.displayName}</Link>
                    <span className="tenant-id mono">{t.id}</span>
                  </th>
                  <td>
                    {t.environment}
                    {t.status === 'suspended' && (
                      <span className="badge badge-suspended">suspended</span>
                    )}
                  </td>
                  <td className="num" data-testid="tenant-active-series">
                    {formatInteger(t.usage.activeSeries)}
                  </td>
                  <td className="num">{formatGb(t.usage.logsGbThisMonth)}</td>
                  <td className="num">{formatGb(t.usage.tracesGbThisMonth)}</td>
                  <td>
                    {t.usage.syncedAt ? (
                      <time dateTime={t.usage.syncedAt} title={formatDateTime(t.usage.syncedAt)}>
                        {ago(t.usage.syncedAt, now)}
                      </time>
                    ) : (
                      'never'
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {tenants.totalCount > rows.length && (
        <p className="muted">
          Showing {formatInteger(rows.length)} of {formatInteger(tenants.totalCount)} tenants.
        </p>
      )}
    </section>
  );
}

/** The same window is read again after a sync at most this often (steps are 5 min or more). */
const HISTORY_REFRESH_MS = 30_000;

/**
 * The window ends at the later of the page's clock and the last sync: a server clock ahead of
 * the browser's would otherwise leave the newest points outside the chart.
 */
const windowEnd = (syncedAt: string | null) =>
  Math.max(Date.now(), syncedAt ? Date.parse(syncedAt) : 0);

function UsageHistory({ syncedAt }: { syncedAt: string | null }) {
  const [range, setRange] = useState<UsageRange>('24h');
  const [span, setSpan] = useState(() => historyWindow('24h', windowEnd(syncedAt)));
  const [history, reexecute] = useQuery({ query: OrgUsageHistoryQuery, variables: span });
  const lastRefresh = useRef(Date.now());

  const choose = (next: UsageRange) => {
    setRange(next);
    setSpan(historyWindow(next, windowEnd(syncedAt)));
    lastRefresh.current = Date.now();
  };

  // A sync landed: a window that now ends later (at most once a minute), or the same one again.
  useEffect(() => {
    if (!syncedAt) return;
    const next = historyWindow(range, windowEnd(syncedAt));
    if (next.to !== span.to) {
      lastRefresh.current = Date.now();
      setSpan(next);
    } else if (Date.now() - lastRefresh.current >= HISTORY_REFRESH_MS) {
      lastRefresh.current = Date.now();
      reexecute({ requestPolicy: 'network-only' });
    }
  }, [syncedAt, range, span.to, reexecute]);

  // urql keeps the previous range's data while the next loads: the chart never blinks empty.
  const result = history.data?.organisation.usageHistory;
  const points = result?.__typename === 'OrganisationUsageHistorySuccess' ? result.data : null;
  const spec = USAGE_RANGES[range];

  return (
    <section aria-labelledby="usage-history-title" className="usage-section">
      <div className="usage-history-head">
        <h2 id="usage-history-title">History</h2>
        <UsageRangePicker value={range} onChange={choose} />
      </div>
      {history.error && <ErrorNotice error={history.error} />}
      {result?.__typename === 'ValidationError' && <ErrorNotice error={result.message} />}
      {points ? (
        <div className="panel usage-history-card" aria-busy={history.fetching || undefined}>
          <UsageChart
            title="Organisation usage"
            points={points}
            from={span.from}
            to={span.to}
            rangePhrase={spec.phrase}
          />
        </div>
      ) : (
        !history.error && <p className="muted">Loading history…</p>
      )}
    </section>
  );
}
