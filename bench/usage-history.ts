import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import postgres from 'postgres';
import { type App, createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { base32 } from '../src/lib/ids.ts';
import { createScratchDatabase } from './lib/database.ts';
import { formatTable, median } from './lib/load.ts';
import { startPrometheusStub } from './lib/prometheus.ts';

const NOW = new Date('2026-06-18T10:00:00Z');
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const TENANTS_PER_ORG = 50;
/** Raw samples generated: the bench keeps raw for 1 h, so each tick deletes one tick's worth. */
const RAW_MINUTES = 65;
const MEASURED_TICKS = 3;
const READS = 200;

export interface UsageHistoryBench {
  tenants: number;
  days: number;
  tables: { table: string; rows: number; mb: number }[];
  tick: Record<'totalMs' | 'mainWritesMs' | 'rollupsMs' | 'pruneMs', number>;
  reads: { name: string; points: number; portalMs: number; serviceMs: number; selectMs: number }[];
}

/**
 * Usage history at scale on a scratch PostgreSQL database: BENCH_HISTORY_TENANTS tenants (50,000)
 * in organisations of 50, hourly and daily roll-ups over BENCH_HISTORY_DAYS days (35), generated
 * directly with generate_series; then table sizes, the sync tick with roll-ups and pruning at
 * steady state, and usageHistory over 30 days against a plain SELECT of the same points.
 */
export async function benchUsageHistory(): Promise<UsageHistoryBench> {
  const tenants = envInt('BENCH_HISTORY_TENANTS', 50_000);
  const days = envInt('BENCH_HISTORY_DAYS', 35);
  const database = await createScratchDatabase('usage_history_bench');
  const stub = await startPrometheusStub();
  const clock = new ManualClock(NOW);
  const sql = postgres(database.url, { max: 1, onnotice: () => {} });
  try {
    const config = loadConfig({
      NODE_ENV: 'production',
      DATABASE_URL: database.url,
      JWT_SECRET: randomBytes(32).toString('hex'),
      // A failed tick's reason (a statement past DB_STATEMENT_TIMEOUT_MS, say) is in the warning.
      LOG_LEVEL: 'warn',
      PORT: '4331',
      USAGE_PROMETHEUS_URL: stub.url,
      USAGE_SYNC_INTERVAL_S: '60',
      USAGE_RAW_RETENTION_HOURS: '1',
    });
    const app = await createApp(config, { clock });
    try {
      const { url } = await app.start();
      await app.usageSync.stop(); // only the ticks run here write
      const signup = await app.services.auth.signup({
        organisationName: 'History bench',
        email: `bench-${base32(randomBytes(5))}@example.com`,
        password: 'bench-password-long-enough',
      });
      const organisationId = signup.user.organisationId;
      const started = performance.now();
      const ids = await seed(sql, organisationId, tenants, days);
      const seedS = (performance.now() - started) / 1000;
      stub.setTenants(ids);
      const tables = await tableSizes(sql);
      const tick = await measureTicks(app, clock);
      const session = { userId: signup.user.id, organisationId, role: 'owner' as const };
      const reads = await measureReads(app, url, signup.token, session, ids[0]!, sql, clock.now());
      const result = { tenants, days, tables, tick, reads };
      report(result, seedS);
      return result;
    } finally {
      await app.stop();
    }
  } finally {
    await sql.end();
    await stub.stop();
    await database.drop();
  }
}

/**
 * Organisations of 50 tenants (the bench's own organisation holds the first 50), then the
 * history rows straight from generate_series, as 35 days of ticks would have left them.
 * Foreign-key triggers are off for this session only (session_replication_role): the rows
 * reference the tenants just written, and 40 million trigger calls would take most of an hour.
 */
async function seed(
  sql: postgres.Sql,
  organisationId: string,
  count: number,
  days: number,
): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `xs_t${i}_${base32(randomBytes(5))}`);
  const orgs = Math.ceil(count / TENANTS_PER_ORG);
  const orgIds = [
    organisationId,
    ...Array.from({ length: orgs - 1 }, (_, i) => `org_h${i}_${base32(randomBytes(6))}`),
  ];
  await sql`insert into organisations (id, name, billing_plan)
    select id, 'Bench ' || id, 'scale' from unnest(${pgArray(orgIds.slice(1))}::text[]) id`;
  await sql`insert into tenants (id, organisation_id, display_name, environment, region, cell)
    select id, (${pgArray(orgIds)}::text[])[(n - 1) / ${TENANTS_PER_ORG} + 1],
      'Bench ' || id, 'prod', 'eu-west-1', 'euw1-01'
    from unnest(${pgArray(ids)}::text[]) with ordinality as u(id, n)`;
  await sql`set session_replication_role = replica`;
  const hourFrom = new Date(NOW.getTime() - days * DAY_MS);
  const dayFrom = new Date(Math.floor(hourFrom.getTime() / DAY_MS) * DAY_MS);
  const rawFrom = new Date(NOW.getTime() - RAW_MINUTES * 60_000);
  const lastHour = new Date(NOW.getTime() - HOUR_MS);
  // Per tenant n and time b: series wander around 1,000-1,500; bytes grow through the month.
  const values = (b: string) => `1000 + (n * 7 + extract(epoch from ${b})::bigint / 3600) % 500,
    extract(epoch from ${b} - date_trunc('month', ${b})) * (1000 + n % 100),
    extract(epoch from ${b} - date_trunc('month', ${b})) * (500 + n % 50)`;
  const fill = async (
    table: string,
    key: string,
    keys: string[],
    from: Date,
    to: Date,
    every: string,
    stamp: string,
  ) => {
    const isRaw = stamp === 'b';
    await sql.unsafe(
      `insert into ${table} (${key}, ${isRaw ? 'at' : 'bucket, last_at'}, active_series,
         logs_bytes_this_month, traces_bytes_this_month)
       select k.id, b, ${isRaw ? '' : `${stamp}, `}${values('b')}
       from generate_series($2::timestamptz, $3::timestamptz, $4::interval) b,
         unnest($1::text[]) with ordinality as k(id, n)`,
      [pgArray(keys), from.toISOString(), to.toISOString(), every],
    );
  };
  const tenantKeys = ids;
  await fill(
    'usage_hourly',
    'tenant_id',
    tenantKeys,
    hourFrom,
    lastHour,
    '1 hour',
    "b + interval '59 minutes'",
  );
  await fill(
    'usage_daily',
    'tenant_id',
    tenantKeys,
    dayFrom,
    new Date(NOW.getTime() - DAY_MS),
    '1 day',
    "b + interval '1439 minutes'",
  );
  await fill(
    'usage_samples',
    'tenant_id',
    tenantKeys,
    rawFrom,
    new Date(NOW.getTime() - 60_000),
    '1 minute',
    'b',
  );
  await fill(
    'usage_org_hourly',
    'organisation_id',
    orgIds,
    hourFrom,
    lastHour,
    '1 hour',
    "b + interval '59 minutes'",
  );
  await fill(
    'usage_org_daily',
    'organisation_id',
    orgIds,
    dayFrom,
    new Date(NOW.getTime() - DAY_MS),
    '1 day',
    "b + interval '1439 minutes'",
  );
  await fill(
    'usage_org_samples',
    'organisation_id',
    orgIds,
    rawFrom,
    new Date(NOW.getTime() - 60_000),
    '1 minute',
    'b',
  );
  await sql`set session_replication_role = origin`;
  await sql`vacuum analyze`;
  return ids;
}

const HISTORY_TABLES = [
  'usage_samples',
  'usage_hourly',
  'usage_daily',
  'usage_org_samples',
  'usage_org_hourly',
  'usage_org_daily',
];

async function tableSizes(sql: postgres.Sql) {
  const rows = await sql<{ table: string; rows: number; bytes: number }[]>`
    select c.relname as table, c.reltuples::float8 as rows, pg_total_relation_size(c.oid)::float8 as bytes
    from pg_class c where c.relname = any(${pgArray(HISTORY_TABLES)}::text[])`;
  return HISTORY_TABLES.map((table) => {
    const r = rows.find((x) => x.table === table)!;
    return { table, rows: Math.round(r.rows), mb: r.bytes / 1e6 };
  });
}

/**
 * Ticks with roll-ups and retention on, split by statement from outside (the first statement of
 * each phase starts it): main's writes (usage_current, usage_samples), the two roll-up
 * statements, and the prune (one tick's samples, past the 1 h raw retention).
 */
async function measureTicks(app: App, clock: ManualClock) {
  const timings: Record<'totalMs' | 'mainWritesMs' | 'rollupsMs' | 'pruneMs', number>[] = [];
  for (let i = 0; i <= MEASURED_TICKS; i++) {
    clock.advance(60_000);
    const marks: Record<string, number> = {};
    const stop = app.database.onQuery((statement) => {
      const phase = /insert into usage_current/.test(statement)
        ? 'main'
        : /with s as \(|with o as \(/.test(statement)
          ? 'rollups'
          : /^update "usage_sync_state"/.test(statement)
            ? 'state'
            : /^delete from usage_/.test(statement)
              ? 'prune'
              : undefined;
      if (phase && marks[phase] === undefined) marks[phase] = performance.now();
    });
    const started = performance.now();
    const outcome = await app.usageSync.runTick();
    const ended = performance.now();
    stop();
    if (outcome !== 'synced') throw new Error(`usage sync tick ended '${outcome}'`);
    if (i === 0) continue; // warm-up
    timings.push({
      totalMs: ended - started,
      mainWritesMs: marks.rollups! - marks.main!,
      rollupsMs: marks.state! - marks.rollups!,
      pruneMs: ended - marks.prune!,
    });
  }
  const med = (k: keyof (typeof timings)[number]) => median(timings.map((t) => t[k]));
  return {
    totalMs: med('totalMs'),
    mainWritesMs: med('mainWritesMs'),
    rollupsMs: med('rollupsMs'),
    pruneMs: med('pruneMs'),
  };
}

/**
 * 30 days, no step (the chart's default): hourly roll-ups, 721 points. Three ways, interleaved:
 * GraphQL over HTTP (auth, validation, execution, JSON), the service alone, and a plain SELECT
 * of the same rows through postgres.js.
 */
async function measureReads(
  app: App,
  url: string,
  token: string,
  session: { userId: string; organisationId: string; role: 'owner' },
  tenantId: string,
  sql: postgres.Sql,
  to: Date,
) {
  const from = new Date(to.getTime() - 30 * DAY_MS);
  // The hour `from` falls in counts whole, as the service reads it.
  const fromHour = new Date(Math.floor(from.getTime() / HOUR_MS) * HOUR_MS);
  const fields = 'data { at activeSeries logsBytesThisMonth tracesBytesThisMonth }';
  const cases = [
    {
      name: 'one tenant',
      query: `query($id: ID!, $from: DateTime!, $to: DateTime!) { tenant(id: $id) { ... on Tenant {
        usageHistory(from: $from, to: $to) { ... on TenantUsageHistorySuccess { ${fields} } } } } }`,
      service: () => app.services.usage.tenantHistory(session, tenantId, { from, to }),
      select:
        () => sql`select last_at, active_series, logs_bytes_this_month, traces_bytes_this_month
        from usage_hourly where tenant_id = ${tenantId} and bucket >= ${fromHour} and bucket <= ${to}
        order by bucket`,
      points: (d: any) => d.tenant.usageHistory.data.length,
    },
    {
      name: 'one organisation',
      query: `query($from: DateTime!, $to: DateTime!) { organisation {
        usageHistory(from: $from, to: $to) { ... on OrganisationUsageHistorySuccess { ${fields} } } } }`,
      service: () => app.services.usage.orgHistory(session, { from, to }),
      select:
        () => sql`select last_at, active_series, logs_bytes_this_month, traces_bytes_this_month
        from usage_org_hourly where organisation_id = ${session.organisationId}
          and bucket >= ${fromHour} and bucket <= ${to} order by bucket`,
      points: (d: any) => d.organisation.usageHistory.data.length,
    },
  ];
  const results = [];
  for (const c of cases) {
    const body = JSON.stringify({
      query: c.query,
      variables: { id: tenantId, from: from.toISOString(), to: to.toISOString() },
    });
    const portal = async () => {
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body,
      });
      const json = (await res.json()) as { data: unknown; errors?: unknown };
      if (json.errors) throw new Error(`usageHistory failed: ${JSON.stringify(json.errors)}`);
      return c.points(json.data);
    };
    const points = await portal();
    const selected = (await c.select()).length;
    if (points !== selected)
      throw new Error(`${c.name}: portal ${points} points, SELECT ${selected}`);
    const times = { portal: [] as number[], service: [] as number[], select: [] as number[] };
    for (let i = 0; i < READS; i++) {
      for (const [k, run] of [
        ['portal', portal],
        ['service', c.service],
        ['select', c.select],
      ] as const) {
        const t = performance.now();
        await run();
        times[k].push(performance.now() - t);
      }
    }
    results.push({
      name: c.name,
      points,
      portalMs: median(times.portal),
      serviceMs: median(times.service),
      selectMs: median(times.select),
    });
  }
  return results;
}

function report(r: UsageHistoryBench, seedS: number): void {
  console.log(
    `usage history: ${r.tenants} tenants in organisations of ${TENANTS_PER_ORG}, ${r.days} days of ` +
      `hourly and daily roll-ups and ${RAW_MINUTES} min of raw samples generated in ${seedS.toFixed(0)} s; ` +
      `load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`,
  );
  const perTick = r.tables.find((t) => t.table === 'usage_samples')!;
  const rawPerDayMb = (perTick.mb / RAW_MINUTES) * 1440;
  console.log(
    formatTable(
      ['table', 'rows', 'MB', 'bytes/row'],
      r.tables.map((t) => [
        t.table,
        String(t.rows),
        t.mb.toFixed(0),
        ((t.mb * 1e6) / Math.max(t.rows, 1)).toFixed(0),
      ]),
    ),
  );
  console.log(
    `raw samples: ${rawPerDayMb.toFixed(0)} MB per day of retention (${RAW_MINUTES} ticks measured); ` +
      `the default 26 h keeps ~${((rawPerDayMb * 26) / 24 / 1000).toFixed(1)} GB`,
  );
  const s = (ms: number) => (ms / 1000).toFixed(2);
  console.log(
    `sync tick (median of ${MEASURED_TICKS} after 1 warm-up): ${s(r.tick.totalMs)} s = ` +
      `main's writes ${s(r.tick.mainWritesMs)} s + roll-ups ${s(r.tick.rollupsMs)} s + ` +
      `prune ${s(r.tick.pruneMs)} s (one tick's samples); without roll-ups ` +
      `${s(r.tick.totalMs - r.tick.rollupsMs)} s, ratio ${(r.tick.totalMs / (r.tick.totalMs - r.tick.rollupsMs)).toFixed(2)}`,
  );
  console.log(
    formatTable(
      [
        'usageHistory, 30 d',
        'points',
        'GraphQL ms',
        'service ms',
        'plain SELECT ms',
        'GraphQL / SELECT',
      ],
      r.reads.map((x) => [
        x.name,
        String(x.points),
        x.portalMs.toFixed(2),
        x.serviceMs.toFixed(2),
        x.selectMs.toFixed(2),
        (x.portalMs / x.selectMs).toFixed(1),
      ]),
    ),
  );
}

/** A text[] literal: the bench's ids hold only [a-z0-9_], nothing to quote. */
const pgArray = (xs: string[]) => `{${xs.join(',')}}`;

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0)
    throw new Error(`${name} must be a positive integer, got ${raw}`);
  return n;
}
