import {
  Counter,
  type CounterConfiguration,
  collectDefaultMetrics,
  Gauge,
  Histogram,
  Registry,
} from 'prom-client';
import { type CounterSeries, FastCounter, FastHistogram } from './fast-metrics.ts';

/**
 * The portal's Prometheus metrics: one registry per app (tests run many apps in one process, so
 * prom-client's global registry is never used). Services get the small typed recorders below,
 * never prom-client itself. The hot paths (every request, every verify) count in plain numbers
 * (src/lib/fast-metrics.ts); the rest use prom-client's children, bound once per label value.
 */
const PREFIX = 'xscaler_portal_';

/** Answers of /auth/verify, one label value each. */
export const VERIFY_OUTCOMES = [
  'ok',
  'missing_credentials',
  'malformed',
  'unknown',
  'revoked',
  'suspended',
  'expired',
  'wrong_tenant',
  'missing_scope',
  'throttled',
  'bad_request',
  'unavailable',
] as const;
export type VerifyOutcome = (typeof VERIFY_OUTCOMES)[number];

export const LOGIN_OUTCOMES = [
  'ok',
  'invalid_credentials',
  'throttled',
  'busy',
  'invalid_input',
  'error',
] as const;
export type LoginOutcome = (typeof LOGIN_OUTCOMES)[number];

export const SYNC_RESULTS = ['synced', 'no_source', 'skipped', 'failed'] as const;
export type SyncResult = (typeof SYNC_RESULTS)[number];

export type SubscriberTransport = 'graphql-ws' | 'sse';

/** Seconds; verify answers in well under a millisecond from the cache, GraphQL pages in tens. */
const HTTP_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];
const SYNC_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

const LINT_FAILING_DEFAULTS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/** prom-client's default process and Node.js metrics, minus those promtool refuses. */
export function collectProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  // Gauges named like counters (promtool check metrics refuses them); the per-type
  // nodejs_active_handles, nodejs_active_requests and nodejs_active_resources stay.
  for (const name of LINT_FAILING_DEFAULTS) registry.removeSingleMetric(name);
}

export interface PoolStats {
  max: number;
  inUse: number;
  waiting: number;
}

function counter<L extends string>(
  registry: Registry,
  config: Omit<CounterConfiguration<L>, 'registers'>,
): Counter<L> {
  return new Counter({ ...config, name: PREFIX + config.name, registers: [registry] });
}

/** Binds a child per label value up front: recording is then one call on a plain object. */
function bound<V extends string>(c: Counter<string>, values: readonly V[]) {
  const children = {} as Record<V, Counter.Internal>;
  for (const v of values) {
    children[v] = c.labels(v);
    // Present at 0 from the start: rate() and alerts see a series before its first event.
    children[v].inc(0);
  }
  return children;
}

export class Metrics {
  readonly registry = new Registry();
  /** Hot path: plain-number series (src/lib/fast-metrics.ts), rendered at scrape. */
  readonly httpRequests: FastCounter;
  readonly httpDuration: FastHistogram;
  private readonly verifyOutcomes: Record<VerifyOutcome, CounterSeries>;
  private readonly cacheHit: CounterSeries;
  private readonly cacheMiss: CounterSeries;
  private readonly lookupBatch: Histogram;
  private readonly notifications: Counter;
  private readonly reconnects: Counter;
  private readonly syncRuns: Record<SyncResult, Counter.Internal>;
  private readonly syncDuration: Histogram;
  private readonly syncTenants: Counter;
  private readonly syncLastSuccess: Gauge;
  private readonly loginOutcomes: Record<LoginOutcome, Counter.Internal>;
  private readonly subscribers: Record<SubscriberTransport, Gauge.Internal<string>>;
  private lastSyncSuccessMs: number | undefined;
  private readonly startedAtMs = Date.now();

  /** Read on each scrape (set by the verify service once its cache exists). */
  keyCacheSize: () => number = () => 0;

  constructor(defaultLabels: Record<string, string> = {}) {
    const r = this.registry;
    const metrics = this;
    r.setDefaultLabels(defaultLabels);
    collectProcessMetrics(r);

    this.httpRequests = new FastCounter(r, {
      name: `${PREFIX}http_requests_total`,
      help: 'HTTP requests answered, by door, route template, method and status.',
      labelNames: ['door', 'route', 'method', 'status'],
    });
    this.httpDuration = new FastHistogram(
      r,
      {
        name: `${PREFIX}http_request_duration_seconds`,
        help: 'Time from the request to the end of its answer, by door, route template and method.',
        labelNames: ['door', 'route', 'method'],
      },
      HTTP_BUCKETS,
    );

    const verify = new FastCounter(r, {
      name: `${PREFIX}verify_requests_total`,
      help: '/auth/verify answers by outcome.',
      labelNames: ['outcome'],
    });
    this.verifyOutcomes = {} as Record<VerifyOutcome, CounterSeries>;
    for (const outcome of VERIFY_OUTCOMES) this.verifyOutcomes[outcome] = verify.of(outcome);
    const cache = new FastCounter(r, {
      name: `${PREFIX}verify_key_cache_requests_total`,
      help: 'Key-cache lookups of /auth/verify by result (hit: answered without the database).',
      labelNames: ['result'],
    });
    this.cacheHit = cache.of('hit');
    this.cacheMiss = cache.of('miss');
    this.lookupBatch = new Histogram({
      name: `${PREFIX}verify_lookup_batch_size`,
      help: 'Secrets per key-lookup statement (the cache misses of one event-loop turn go as one).',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers: [r],
    });
    new Gauge({
      name: `${PREFIX}verify_key_cache_entries`,
      help: 'Key secrets (known and unknown) held by the verify key cache.',
      registers: [r],
      collect() {
        this.set(metrics.keyCacheSize());
      },
    });

    this.notifications = counter(r, {
      name: 'event_notifications_received_total',
      help: 'Event-bus notifications received from other instances (PostgreSQL NOTIFY).',
    });
    this.reconnects = counter(r, {
      name: 'event_listener_reconnects_total',
      help: 'Times the event-bus listening connection came back after being lost.',
    });

    const runs = counter(r, {
      name: 'usage_sync_runs_total',
      help: 'Usage sync ticks on this instance by result (skipped: another instance had it).',
      labelNames: ['result'],
    });
    this.syncRuns = bound(runs, SYNC_RESULTS);
    this.syncDuration = new Histogram({
      name: `${PREFIX}usage_sync_duration_seconds`,
      help: 'Duration of usage sync ticks that fetched and wrote usage (synced or failed).',
      buckets: SYNC_BUCKETS,
      registers: [r],
    });
    this.syncTenants = counter(r, {
      name: 'usage_sync_tenants_written_total',
      help: 'Tenant usage rows written by the usage sync on this instance.',
    });
    this.syncLastSuccess = new Gauge({
      name: `${PREFIX}usage_sync_last_success_timestamp_seconds`,
      help: 'When any instance last synced usage, as this instance heard it; 0 = not yet.',
      registers: [r],
    });
    this.syncLastSuccess.set(0);
    new Gauge({
      name: `${PREFIX}usage_sync_seconds_since_last_success`,
      help: 'Seconds since any instance last synced usage (since this process started, before).',
      registers: [r],
      collect() {
        const since = metrics.lastSyncSuccessMs ?? metrics.startedAtMs;
        this.set(Math.max(0, (Date.now() - since) / 1000));
      },
    });

    const subscribers = new Gauge({
      name: `${PREFIX}subscribers`,
      help: 'Live GraphQL subscriptions by transport.',
      labelNames: ['transport'],
      registers: [r],
    });
    this.subscribers = {
      'graphql-ws': subscribers.labels('graphql-ws'),
      sse: subscribers.labels('sse'),
    };
    this.subscribers['graphql-ws'].set(0);
    this.subscribers.sse.set(0);

    const logins = counter(r, {
      name: 'login_attempts_total',
      help: 'Password logins by outcome (throttled: refused by the login limits before any check).',
      labelNames: ['outcome'],
    });
    this.loginOutcomes = bound(logins, LOGIN_OUTCOMES);
  }

  /** PostgreSQL's pool, read on each scrape; PGlite (one in-process connection) has none. */
  watchPool(poolStats: () => PoolStats): void {
    const pool = (name: string, help: string, pick: (s: PoolStats) => number) =>
      new Gauge({
        name: `${PREFIX}db_pool_${name}`,
        help,
        registers: [this.registry],
        collect() {
          this.set(pick(poolStats()));
        },
      });
    pool(
      'max_connections',
      'PostgreSQL connections the pool may open (DB_POOL_MAX).',
      (s) => s.max,
    );
    pool('connections_in_use', 'Pool connections running a statement or a transaction.', (s) =>
      Math.min(s.inUse, s.max),
    );
    pool('waiting_queries', 'Statements and transactions waiting for a free connection.', (s) =>
      Math.max(0, s.waiting),
    );
  }

  /** The recorders handed to services. */
  readonly verify = {
    outcome: (outcome: VerifyOutcome) => {
      this.verifyOutcomes[outcome].value++;
    },
    cache: (hit: boolean) => {
      (hit ? this.cacheHit : this.cacheMiss).value++;
    },
    /** Once per statement, not per request: prom-client's histogram is fine here. */
    lookupBatch: (secrets: number) => this.lookupBatch.observe(secrets),
  };

  readonly events = {
    notification: () => this.notifications.inc(),
    reconnect: () => this.reconnects.inc(),
  };

  readonly usageSync = {
    run: (result: SyncResult, seconds?: number, tenants?: number) => {
      this.syncRuns[result].inc();
      if (seconds !== undefined) this.syncDuration.observe(seconds);
      if (tenants) this.syncTenants.inc(tenants);
    },
    succeededAt: (at: Date) => {
      const ms = at.getTime();
      if (this.lastSyncSuccessMs !== undefined && ms <= this.lastSyncSuccessMs) return;
      this.lastSyncSuccessMs = ms;
      this.syncLastSuccess.set(ms / 1000);
    },
  };

  readonly logins = {
    outcome: (outcome: LoginOutcome) => this.loginOutcomes[outcome].inc(),
  };

  readonly live = {
    subscribed: (transport: SubscriberTransport) => this.subscribers[transport].inc(),
    unsubscribed: (transport: SubscriberTransport) => this.subscribers[transport].dec(),
  };

  /** The text exposition of every metric. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }
}

export type VerifyRecorder = Metrics['verify'];
export type EventRecorder = Metrics['events'];
export type UsageSyncRecorder = Metrics['usageSync'];
export type LoginRecorder = Metrics['logins'];
export type LiveRecorder = Metrics['live'];
