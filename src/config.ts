import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { TrustedProxies } from './http/client-address.ts';
import { parseCorsOrigins } from './http/cors.ts';
import { type PlanKey, parsePlanKeys } from './modules/billing/plan-keys.ts';

/** Where tenants can be placed: a region holds cells, each cell has its ingestion hosts. */
const cellSchema = z.object({
  region: z.string().min(1),
  cell: z.string().min(1),
  metricsHost: z.string().min(1),
  logsHost: z.string().min(1),
  tracesHost: z.string().min(1),
});
export type Cell = z.infer<typeof cellSchema>;

export const DEFAULT_CELLS: Cell[] = [
  {
    region: 'eu-west-1',
    cell: 'euw1-01',
    metricsHost: 'euw1-01.m.xscalerlabs.com',
    logsHost: 'euw1-01.l.xscalerlabs.com',
    tracesHost: 'euw1-01.t.xscalerlabs.com',
  },
];

/**
 * PromQL run by the usage sync. `$RANGE` becomes the time since the start of the month (UTC), so
 * increase() gives month-to-date bytes, counter resets included. Each result series carries
 * the tenant ID in its `user`, `tenant` or `org_id` label.
 */
export const DEFAULT_USAGE_QUERIES = {
  activeSeries: 'sum by (user) (cortex_ingester_active_series)',
  logsBytes: 'sum by (tenant) (increase(loki_distributor_bytes_received_total[$RANGE]))',
  tracesBytes: 'sum by (tenant) (increase(tempo_distributor_bytes_received_total[$RANGE]))',
};

const boolish = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().default('127.0.0.1'),
  // Unset: /metrics on the main port. Set: on its own listener only (METRICS_HOST, default HOST).
  METRICS_PORT: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.coerce.number().int().min(0).max(65535).optional(),
  ),
  METRICS_HOST: z.string().min(1).optional(),
  DATABASE_URL: z.string().url().optional(),
  PGLITE_DIR: z.string().default('./.data/pglite'),
  DB_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  DB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).max(3_600_000).default(5000),
  DB_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(5000),
  DB_POOL_WAIT_MS: z.coerce.number().int().min(10).max(120_000).default(2000),
  WORKERS: z
    .string()
    .regex(/^(auto|[1-9][0-9]?)$/, 'WORKERS must be auto or a whole number from 1 to 99')
    .default('1'),
  JWT_SECRET: z.string().min(32, 'JWT_SECRET must be at least 32 characters').optional(),
  JWT_ISSUER: z.string().default('xscaler-portal'),
  JWT_AUDIENCE: z.string().default('xscaler-portal-api'),
  JWT_TTL_S: z.coerce.number().int().min(60).max(86_400).default(3600),
  SESSION_MAX_AGE_S: z.coerce.number().int().min(300).max(2_592_000).default(43_200),
  // Unset: on in development and test, off in production.
  GRAPHIQL: boolish.optional(),
  CORS_ORIGINS: z.string().default(''),
  CELLS_FILE: z.string().optional(),
  DEFAULT_REGION: z.string().default('eu-west-1'),
  KEY_CACHE_TTL_S: z.coerce
    .number()
    .min(0)
    .max(15, 'KEY_CACHE_TTL_S must be at most 15 (the documented revocation bound)')
    .default(15),
  KEY_CACHE_MAX_ENTRIES: z.coerce.number().int().min(0).default(100_000),
  VERIFY_UNKNOWN_KEY_RATE: z.coerce.number().min(0).default(10),
  VERIFY_UNKNOWN_KEY_BURST: z.coerce.number().int().min(1).default(100),
  USAGE_SYNC_INTERVAL_S: z.coerce.number().min(1).max(86_400).default(60),
  USAGE_PROMETHEUS_URL: z.string().url().optional(),
  USAGE_SOURCE_TIMEOUT_S: z.coerce.number().min(0.1).max(60).default(10),
  USAGE_QUERY_ACTIVE_SERIES: z.string().min(1).default(DEFAULT_USAGE_QUERIES.activeSeries),
  USAGE_QUERY_LOGS_BYTES: z.string().min(1).default(DEFAULT_USAGE_QUERIES.logsBytes),
  USAGE_QUERY_TRACES_BYTES: z.string().min(1).default(DEFAULT_USAGE_QUERIES.tracesBytes),
  // Replaced by the per-resolution settings below; refused so an old deployment is told.
  USAGE_HISTORY_DAYS: z.string().optional(),
  USAGE_RAW_RETENTION_HOURS: z.coerce.number().int().min(1).max(2232).default(26),
  USAGE_HOURLY_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(40),
  USAGE_DAILY_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).default(400),
  USAGE_PRUNE_BATCH_ROWS: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  USAGE_PRUNE_MAX_BATCHES: z.coerce.number().int().min(1).max(10_000).default(20),
  AUDIT_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).default(365),
  AUDIT_PRUNE_INTERVAL_S: z.coerce.number().int().min(1).max(86_400).default(3600),
  TRUSTED_PROXIES: z.string().default(''),
  SHUTDOWN_DRAIN_S: z.coerce.number().min(0).max(600).optional(),
  UV_THREADPOOL_SIZE: z.coerce.number().int().min(1).max(1024).default(4),
  PASSWORD_HASH_CONCURRENCY: z.coerce.number().int().min(1).max(1024).optional(),
  PASSWORD_HASH_QUEUE: z.coerce.number().int().min(0).max(10_000).default(16),
  PASSWORD_HASH_LOG_N: z.coerce.number().int().min(10).max(20).default(17),
  SIGNUP_LIMIT_PER_HOUR: z.coerce.number().int().min(1).max(100_000).default(20),
  PASSWORD_CHANGE_LIMIT: z.coerce.number().int().min(1).max(100_000).default(10),
  STRIPE_SECRET_KEY: z.string().min(1).optional(),
  STRIPE_WEBHOOK_SECRET: z.string().min(1).optional(),
  STRIPE_PRICE_SCALE: z.string().min(1).optional(),
  STRIPE_API_URL: z.string().url().optional(),
  BILLING_RETURN_URL: z.string().url().optional(),
  BILLING_PLAN_KEYS: z.string().default(''),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
});

export type Config = {
  env: 'development' | 'production' | 'test';
  port: number;
  host: string;
  /** Where GET /metrics is served: the main port (port undefined), or its own listener. */
  metrics: { port: number | undefined; host: string };
  databaseUrl: string | undefined;
  pgliteDir: string;
  dbPoolMax: number;
  /** PostgreSQL: a slow statement, connect or wait for a pooled connection fails as unavailable. */
  dbDeadlines: { statementTimeoutMs: number; connectTimeoutMs: number; poolWaitMs: number };
  /** Server processes sharing the port (node:cluster); more than one needs PostgreSQL. */
  workers: number;
  jwt: { secret: string | undefined; issuer: string; audience: string; ttlSeconds: number };
  /** How long a login lasts, however often its access token is refreshed. */
  sessionMaxAgeSeconds: number;
  graphiql: boolean;
  /** Origins whose browser pages may call /graphql (exact `scheme://host[:port]`); none = CORS off. */
  corsOrigins: string[];
  cells: Cell[];
  defaultRegion: string;
  keyCache: { ttlSeconds: number; maxEntries: number };
  /** Per source: database lookups that find no usable key, per second and at once (0/s = no limit). */
  unknownKeys: { perSecond: number; burst: number };
  usage: {
    intervalSeconds: number;
    prometheusUrl: string | undefined;
    timeoutMs: number;
    /** How long each resolution is kept: per-tick samples, hourly and daily roll-ups. */
    retention: { rawHours: number; hourlyDays: number; dailyDays: number };
    /** Retention deletes at most batchRows rows per statement and maxBatches per table per tick. */
    prune: { batchRows: number; maxBatches: number };
    queries: typeof DEFAULT_USAGE_QUERIES;
  };
  /** Events older than retentionDays (0: never) are deleted by the periodic prune. */
  audit: { retentionDays: number; pruneIntervalSeconds: number };
  billing: BillingConfig;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** JSON lines, or pino-pretty's lines: by default only in development on a terminal. */
  logFormat: 'json' | 'pretty';
  /** Peers whose X-Forwarded-For names the client (load balancers, the ingestion proxy). */
  trustedProxies: TrustedProxies;
  /** Seconds between SIGTERM (readiness off) and closing the listener: the load balancer's notice. */
  shutdownDrainSeconds: number;
  /** scrypt work at once and waiting; signups per address per hour; password changes per 15 min. */
  credentials: {
    hashConcurrency: number;
    hashQueue: number;
    /** scrypt cost of new hashes, log2(N); stored in each hash, so old hashes still verify. */
    hashLogN: number;
    signupsPerHour: number;
    passwordChangesPer15Min: number;
  };
};

/** Stripe set: plans change only through Stripe. Unset: owners change them with changePlan. */
export interface BillingConfig {
  stripe:
    | {
        secretKey: string;
        webhookSecret: string;
        /** The Scale plan's Stripe price: a `price_...` ID or a price `lookup_key`. */
        prices: { scale: string };
        /** Where the client sends its calls; unset = Stripe's own API (tests: a local fixture). */
        api: { host: string; port: number; protocol: 'http' | 'https' } | undefined;
      }
    | undefined;
  /** Checkout and the Customer Portal send the user back here (the portal's UI). */
  returnUrl: string;
  /** Training keys (BILLING_PLAN_KEYS). */
  planKeys: PlanKey[];
}

export class ConfigError extends Error {}

/** The only reader of process.env: parses it once into a typed config, or explains what is wrong. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (e.NODE_ENV === 'production' && !e.JWT_SECRET) {
    throw new ConfigError(
      'Invalid configuration:\n  JWT_SECRET: required when NODE_ENV=production',
    );
  }
  if (e.NODE_ENV === 'production' && e.PASSWORD_HASH_LOG_N < 17) {
    throw new ConfigError(
      `Invalid configuration:\n  PASSWORD_HASH_LOG_N: ${e.PASSWORD_HASH_LOG_N} is below OWASP's scrypt minimum (17) and refused when NODE_ENV=production`,
    );
  }
  if (e.METRICS_PORT !== undefined && e.METRICS_PORT !== 0 && e.METRICS_PORT === e.PORT) {
    throw new ConfigError(
      'Invalid configuration:\n  METRICS_PORT: must differ from PORT (leave it unset to serve /metrics on PORT)',
    );
  }
  checkUsageRetention(e);
  const workers = e.WORKERS === 'auto' ? availableParallelism() : Number(e.WORKERS);
  if (workers > 1 && !e.DATABASE_URL) {
    throw new ConfigError(
      `Invalid configuration:\n  WORKERS: ${workers} processes need DATABASE_URL (embedded PGlite is opened by one process only)`,
    );
  }
  let trustedProxies: TrustedProxies;
  try {
    trustedProxies = TrustedProxies.parse(e.TRUSTED_PROXIES);
  } catch (err) {
    throw new ConfigError(`Invalid configuration:\n  TRUSTED_PROXIES: ${(err as Error).message}`);
  }
  let corsOrigins: string[];
  try {
    corsOrigins = parseCorsOrigins(e.CORS_ORIGINS);
  } catch (err) {
    throw new ConfigError(`Invalid configuration:\n  CORS_ORIGINS: ${(err as Error).message}`);
  }
  const cells = e.CELLS_FILE ? readCells(e.CELLS_FILE) : DEFAULT_CELLS;
  if (!cells.some((c) => c.region === e.DEFAULT_REGION)) {
    const known = [...new Set(cells.map((c) => c.region))].join(', ');
    throw new ConfigError(
      `Invalid configuration:\n  DEFAULT_REGION: ${JSON.stringify(e.DEFAULT_REGION)} has no cell in CELLS_FILE (regions there: ${known})`,
    );
  }
  const billing = readBilling(e);
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    metrics: { port: e.METRICS_PORT, host: e.METRICS_HOST ?? e.HOST },
    databaseUrl: e.DATABASE_URL,
    pgliteDir: e.PGLITE_DIR,
    dbPoolMax: e.DB_POOL_MAX,
    dbDeadlines: {
      statementTimeoutMs: e.DB_STATEMENT_TIMEOUT_MS,
      connectTimeoutMs: e.DB_CONNECT_TIMEOUT_MS,
      poolWaitMs: e.DB_POOL_WAIT_MS,
    },
    workers,
    jwt: {
      secret: e.JWT_SECRET,
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
      ttlSeconds: e.JWT_TTL_S,
    },
    sessionMaxAgeSeconds: e.SESSION_MAX_AGE_S,
    graphiql: e.GRAPHIQL ?? e.NODE_ENV !== 'production',
    corsOrigins,
    cells,
    defaultRegion: e.DEFAULT_REGION,
    keyCache: { ttlSeconds: e.KEY_CACHE_TTL_S, maxEntries: e.KEY_CACHE_MAX_ENTRIES },
    unknownKeys: { perSecond: e.VERIFY_UNKNOWN_KEY_RATE, burst: e.VERIFY_UNKNOWN_KEY_BURST },
    usage: {
      intervalSeconds: e.USAGE_SYNC_INTERVAL_S,
      prometheusUrl: e.USAGE_PROMETHEUS_URL,
      timeoutMs: e.USAGE_SOURCE_TIMEOUT_S * 1000,
      retention: {
        rawHours: e.USAGE_RAW_RETENTION_HOURS,
        hourlyDays: e.USAGE_HOURLY_RETENTION_DAYS,
        dailyDays: e.USAGE_DAILY_RETENTION_DAYS,
      },
      prune: { batchRows: e.USAGE_PRUNE_BATCH_ROWS, maxBatches: e.USAGE_PRUNE_MAX_BATCHES },
      queries: {
        activeSeries: e.USAGE_QUERY_ACTIVE_SERIES,
        logsBytes: e.USAGE_QUERY_LOGS_BYTES,
        tracesBytes: e.USAGE_QUERY_TRACES_BYTES,
      },
    },
    audit: {
      // 0 keeps every event for ever.
      retentionDays: e.AUDIT_RETENTION_DAYS,
      pruneIntervalSeconds: e.AUDIT_PRUNE_INTERVAL_S,
    },
    billing,
    logLevel: e.LOG_LEVEL,
    logFormat:
      e.LOG_FORMAT ?? (e.NODE_ENV === 'development' && process.stderr.isTTY ? 'pretty' : 'json'),
    trustedProxies,
    // A load balancer keeps sending until its health checks see /readyz fail: give it time in
    // production; in development and tests nothing is in front, so stop at once.
    shutdownDrainSeconds: e.SHUTDOWN_DRAIN_S ?? (e.NODE_ENV === 'production' ? 10 : 0),
    credentials: {
      // Leave two of libuv's threads to JWT checks, files and DNS.
      hashConcurrency: e.PASSWORD_HASH_CONCURRENCY ?? Math.max(1, e.UV_THREADPOOL_SIZE - 2),
      hashQueue: e.PASSWORD_HASH_QUEUE,
      hashLogN: e.PASSWORD_HASH_LOG_N,
      signupsPerHour: e.SIGNUP_LIMIT_PER_HOUR,
      passwordChangesPer15Min: e.PASSWORD_CHANGE_LIMIT,
    },
  };
}

const STRIPE_VARS = ['STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET', 'STRIPE_PRICE_SCALE'] as const;

function readBilling(e: z.infer<typeof envSchema>): BillingConfig {
  const bad = (line: string) => new ConfigError(`Invalid configuration:\n  ${line}`);
  let planKeys: PlanKey[];
  try {
    planKeys = parsePlanKeys(e.BILLING_PLAN_KEYS);
  } catch (err) {
    throw bad(`BILLING_PLAN_KEYS: ${(err as Error).message}`);
  }
  const returnUrl = e.BILLING_RETURN_URL ?? `http://${e.HOST}:${e.PORT}/`;
  const set = STRIPE_VARS.filter((name) => e[name] !== undefined);
  if (set.length === 0) {
    if (e.STRIPE_API_URL) throw bad('STRIPE_API_URL: only with STRIPE_SECRET_KEY set');
    return { stripe: undefined, returnUrl, planKeys };
  }
  const missing = STRIPE_VARS.filter((name) => e[name] === undefined);
  if (missing.length > 0) {
    throw bad(
      `${missing.join(', ')}: required with ${set.join(', ')} (Stripe billing needs all three)`,
    );
  }
  if (!/^(sk|rk)_(test|live)_/.test(e.STRIPE_SECRET_KEY!)) {
    throw bad('STRIPE_SECRET_KEY: must be a Stripe secret or restricted key (sk_... or rk_...)');
  }
  if (!e.STRIPE_WEBHOOK_SECRET!.startsWith('whsec_')) {
    throw bad("STRIPE_WEBHOOK_SECRET: must be the endpoint's signing secret (whsec_...)");
  }
  let api: NonNullable<BillingConfig['stripe']>['api'];
  if (e.STRIPE_API_URL) {
    const url = new URL(e.STRIPE_API_URL);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw bad('STRIPE_API_URL: must be an http or https URL');
    }
    const protocol = url.protocol === 'http:' ? 'http' : 'https';
    api = {
      host: url.hostname,
      port: Number(url.port || (protocol === 'http' ? 80 : 443)),
      protocol,
    };
  }
  return {
    stripe: {
      secretKey: e.STRIPE_SECRET_KEY!,
      webhookSecret: e.STRIPE_WEBHOOK_SECRET!,
      prices: { scale: e.STRIPE_PRICE_SCALE! },
      api,
    },
    returnUrl,
    planKeys,
  };
}

function readCells(path: string): Cell[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`CELLS_FILE ${path}: ${(err as Error).message}`);
  }
  const parsed = z.array(cellSchema).min(1).safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(`CELLS_FILE ${path}: ${parsed.error.issues[0]?.message}`);
  }
  return parsed.data;
}

/** A coarser resolution must outlive a finer one, or a long range would find nothing to read. */
function checkUsageRetention(e: z.infer<typeof envSchema>): void {
  if (e.USAGE_HISTORY_DAYS !== undefined) {
    throw new ConfigError(
      'Invalid configuration:\n  USAGE_HISTORY_DAYS: replaced by USAGE_RAW_RETENTION_HOURS, USAGE_HOURLY_RETENTION_DAYS and USAGE_DAILY_RETENTION_DAYS; unset it',
    );
  }
  if (e.USAGE_HOURLY_RETENTION_DAYS * 24 < e.USAGE_RAW_RETENTION_HOURS) {
    throw new ConfigError(
      `Invalid configuration:\n  USAGE_HOURLY_RETENTION_DAYS: ${e.USAGE_HOURLY_RETENTION_DAYS} days is shorter than USAGE_RAW_RETENTION_HOURS (${e.USAGE_RAW_RETENTION_HOURS} h)`,
    );
  }
  if (e.USAGE_DAILY_RETENTION_DAYS < e.USAGE_HOURLY_RETENTION_DAYS) {
    throw new ConfigError(
      `Invalid configuration:\n  USAGE_DAILY_RETENTION_DAYS: ${e.USAGE_DAILY_RETENTION_DAYS} days is shorter than USAGE_HOURLY_RETENTION_DAYS (${e.USAGE_HOURLY_RETENTION_DAYS} days)`,
    );
  }
}
