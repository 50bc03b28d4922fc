import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import postgres from 'postgres';
import { type App, createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { base32 } from '../src/lib/ids.ts';
import { createScratchDatabase } from './lib/database.ts';
import { formatTable, median } from './lib/load.ts';
import { type ExpectedUsage, type PrometheusStub, startPrometheusStub } from './lib/prometheus.ts';

export const TARGET_SECONDS = 5;
const DEFAULT_SIZES = [5_000, 10_000, 25_000, 50_000];
const MEASURED_TICKS = 3;
const INTERVAL_MS = 60_000;

export interface UsageSyncRow {
  tenants: number;
  /** Medians over the measured ticks, in milliseconds. */
  tickMs: number;
  fetchMs: number;
  writeMs: number;
  /** CPU seconds per tick (medians): this process (fetch, parse, serialise) and PostgreSQL. */
  nodeCpuMs: number;
  postgresCpuMs: number;
  /** usage_current rows upserted plus usage_samples rows inserted, per tick. */
  rowsPerTick: number;
  answerBytes: number;
}

interface TickTiming {
  tickMs: number;
  fetchMs: number;
  writeMs: number;
  nodeCpuMs: number;
  postgresCpuMs: number;
}

/**
 * One usage sync tick (3 PromQL answers with one series per tenant, then the batched writes)
 * for growing tenant counts, each on its own scratch PostgreSQL database.
 */
export async function benchUsageSync(sizes = envSizes()): Promise<UsageSyncRow[]> {
  const stub = await startPrometheusStub();
  try {
    const rows: UsageSyncRow[] = [];
    for (const tenants of sizes) rows.push(await measureSize(stub, tenants));
    report(rows);
    return rows;
  } finally {
    await stub.stop();
  }
}

async function measureSize(stub: PrometheusStub, tenants: number): Promise<UsageSyncRow> {
  const database = await createScratchDatabase('usage_sync_bench');
  const clock = new ManualClock(new Date('2026-06-18T10:00:00Z'));
  try {
    const config = loadConfig({
      NODE_ENV: 'production',
      DATABASE_URL: database.url,
      JWT_SECRET: randomBytes(32).toString('hex'),
      LOG_LEVEL: 'silent',
      USAGE_PROMETHEUS_URL: stub.url,
      USAGE_SYNC_INTERVAL_S: String(INTERVAL_MS / 1000),
    });
    // Never started: no listener, no timer, so only the ticks run here touch the database.
    const app = await createApp(config, { clock });
    const backends = postgres(database.url, { max: 1, onnotice: () => {} });
    try {
      const ids = await seedTenants(database.url, tenants);
      const expected = stub.setTenants(ids);
      await timeTick(app, clock, backends); // warm-up: JIT, connections, first writes
      const timings: TickTiming[] = [];
      for (let i = 0; i < MEASURED_TICKS; i++) timings.push(await timeTick(app, clock, backends));
      const rowsPerTick = await checkStored(database.url, clock.now(), tenants, expected);
      const med = (key: keyof TickTiming) => median(timings.map((t) => t[key]));
      return {
        tenants,
        tickMs: med('tickMs'),
        fetchMs: med('fetchMs'),
        writeMs: med('writeMs'),
        nodeCpuMs: med('nodeCpuMs'),
        postgresCpuMs: med('postgresCpuMs'),
        rowsPerTick,
        answerBytes: expected.answerBytes,
      };
    } finally {
      await backends.end();
      await app.stop();
    }
  } finally {
    await database.drop();
  }
}

/**
 * One organisation and `count` tenants in two statements (the GraphQL mutation would take
 * minutes for 50,000), then ANALYZE so the planner sees the table as a live system would.
 */
async function seedTenants(url: string, count: number): Promise<string[]> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const organisationId = `org_${base32(randomBytes(10))}`;
    const ids = Array.from({ length: count }, (_, i) => `xs_t${i}_${base32(randomBytes(5))}`);
    await sql`insert into organisations (id, name, billing_plan)
      values (${organisationId}, 'Usage bench', 'scale')`;
    await sql`insert into tenants (id, organisation_id, display_name, environment, region, cell)
      select id, ${organisationId}, 'Bench ' || id, 'prod', 'eu-west-1', 'euw1-01'
      from unnest(${sql.array(ids)}::text[]) as id`;
    await sql`analyze`;
    return ids;
  } finally {
    await sql.end();
  }
}

/**
 * Runs one tick in a new interval. The split is taken from outside: the sync issues its first
 * write (`insert into usage_current`) once all three answers are fetched and parsed, so
 * everything before that statement is lock + fetch + parse and everything after it is the
 * database write (one transaction) plus the NOTIFY.
 */
async function timeTick(app: App, clock: ManualClock, backends: postgres.Sql): Promise<TickTiming> {
  clock.advance(INTERVAL_MS);
  const postgresBefore = await postgresCpu(backends);
  const nodeBefore = process.cpuUsage();
  let writeStarted = 0;
  const stopListening = app.database.onQuery((statement) => {
    if (!writeStarted && /insert into usage_current/.test(statement)) {
      writeStarted = performance.now();
    }
  });
  const started = performance.now();
  try {
    const outcome = await app.usageSync.runTick();
    if (outcome !== 'synced') throw new Error(`usage sync tick ended '${outcome}', not 'synced'`);
  } finally {
    stopListening();
  }
  const ended = performance.now();
  const node = process.cpuUsage(nodeBefore);
  const postgresAfter = await postgresCpu(backends);
  let postgresCpuMs = 0;
  for (const [pid, ms] of postgresAfter) postgresCpuMs += ms - (postgresBefore.get(pid) ?? 0);
  return {
    tickMs: ended - started,
    fetchMs: writeStarted - started,
    writeMs: ended - writeStarted,
    nodeCpuMs: (node.user + node.system) / 1000,
    postgresCpuMs,
  };
}

/**
 * CPU milliseconds so far of each PostgreSQL backend on this database but the asking one, from
 * /proc (the server is local). Wall time on a shared machine swings with the neighbours' load;
 * CPU time barely does.
 */
async function postgresCpu(backends: postgres.Sql): Promise<Map<number, number>> {
  const rows = await backends<{ pid: number }[]>`select pid from pg_stat_activity
    where datname = current_database() and pid <> pg_backend_pid()`;
  const cpu = new Map<number, number>();
  for (const { pid } of rows) {
    try {
      // utime and stime (in 1/100 s) are fields 14 and 15; the name before ")" may hold spaces.
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(')')[1]!.trim().split(' ');
      cpu.set(pid, (Number(fields[11]) + Number(fields[12])) * 10);
    } catch {
      // The backend ended meanwhile, or PostgreSQL is not local: counted as nothing.
    }
  }
  return cpu;
}

/** The last tick stored every tenant's usage and one sample each; returns rows written per tick. */
async function checkStored(
  url: string,
  at: Date,
  tenants: number,
  expected: ExpectedUsage,
): Promise<number> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [current] = await sql`select count(*)::int as rows, sum(active_series)::float8 as series
      from usage_current where synced_at = ${at}`;
    const [samples] = await sql`select count(*)::int as rows from usage_samples where at = ${at}`;
    if (current?.rows !== tenants || samples?.rows !== tenants) {
      throw new Error(
        `expected ${tenants} current rows and samples, got ${current?.rows} and ${samples?.rows}`,
      );
    }
    if (current.series !== expected.activeSeries) {
      throw new Error(`stored ${current.series} active series, expected ${expected.activeSeries}`);
    }
    return current.rows + samples.rows;
  } finally {
    await sql.end();
  }
}

function report(rows: UsageSyncRow[]): void {
  const s = (ms: number) => (ms / 1000).toFixed(2);
  console.log(
    `usage sync: one tick = 3 queries to a stub Prometheus (one series per tenant) + batched ` +
      `writes; median of ${MEASURED_TICKS} ticks after 1 warm-up, scratch PostgreSQL per size; ` +
      `load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`,
  );
  console.log(
    formatTable(
      [
        'tenants',
        's/tick',
        'fetch+parse s',
        'db write s',
        's per 1k',
        'node CPU s',
        'pg CPU s',
        'rows/tick',
        'answers MB',
      ],
      rows.map((r) => [
        String(r.tenants),
        s(r.tickMs),
        s(r.fetchMs),
        s(r.writeMs),
        (r.tickMs / r.tenants).toFixed(3),
        s(r.nodeCpuMs),
        s(r.postgresCpuMs),
        String(r.rowsPerTick),
        (r.answerBytes / 1e6).toFixed(1),
      ]),
    ),
  );
  const largest = rows[rows.length - 1];
  if (largest) {
    const verdict = largest.tickMs / 1000 < TARGET_SECONDS ? 'meets' : 'ABOVE';
    console.log(
      `${largest.tenants} tenants: ${s(largest.tickMs)} s per tick (${verdict} target < ${TARGET_SECONDS} s)`,
    );
  }
}

/** BENCH_USAGE_TENANTS=5000,50000 runs only those sizes. */
function envSizes(): number[] {
  const raw = process.env.BENCH_USAGE_TENANTS;
  if (!raw) return DEFAULT_SIZES;
  const sizes = raw.split(',').map(Number);
  if (sizes.some((n) => !Number.isInteger(n) || n <= 0)) {
    throw new Error(`BENCH_USAGE_TENANTS must be positive integers, got ${raw}`);
  }
  return sizes;
}
