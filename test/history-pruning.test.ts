import { and, inArray, lt, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usageDaily, usageHourly, usageOrgSamples, usageSamples } from '../src/db/schema.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { useTestServer } from './helpers/app.ts';
import { createTenant, PASSWORD, signupOrg } from './helpers/factories.ts';
import { PrometheusFixture } from './helpers/prometheus-fixture.ts';

/**
 * Retention per resolution: each successful sync deletes samples older than
 * USAGE_RAW_RETENTION_HOURS and roll-ups older than USAGE_HOURLY/DAILY_RETENTION_DAYS, at most
 * USAGE_PRUNE_BATCH_ROWS rows per statement and USAGE_PRUNE_MAX_BATCHES statements per table;
 * a failed sync deletes nothing. Time moves by the injected clock.
 */
const fixture = new PrometheusFixture();
beforeAll(() => fixture.start());
afterAll(() => fixture.stop());

const T0 = new Date('2026-06-18T10:00:00Z');
const clock = new ManualClock(T0);
const server = useTestServer({
  env: () => ({
    USAGE_PROMETHEUS_URL: fixture.url,
    USAGE_RAW_RETENTION_HOURS: '2',
    USAGE_HOURLY_RETENTION_DAYS: '1',
    USAGE_DAILY_RETENTION_DAYS: '2',
    USAGE_PRUNE_BATCH_ROWS: '2',
    USAGE_PRUNE_MAX_BATCHES: '2',
  }),
  overrides: { clock },
});
beforeAll(() => server().app.usageSync.stop());

const SERIES = 'cortex_ingester_active_series';
const MIN = 60_000;
const HOUR = 3_600_000;
const t0 = T0.getTime();
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

async function syncAt(ms: number) {
  clock.set(new Date(ms));
  return server().app.usageSync.runTick();
}

const db = () => server().database.db;
const sampleTimes = async (tenantIds: string[]) =>
  (
    await db()
      .selectDistinct({ at: usageSamples.at })
      .from(usageSamples)
      .where(inArray(usageSamples.tenantId, tenantIds))
      .orderBy(usageSamples.at)
  ).map((r) => iso(r.at.getTime()));
const countOlder = async (before: number) => {
  const [row] = await db()
    .select({ n: sql<number>`count(*)::int` })
    .from(usageSamples)
    .where(lt(usageSamples.at, new Date(before)));
  return Number(row?.n);
};

let tenants: string[];
let token: string;
let email: string;

beforeAll(async () => {
  const a = await signupOrg(server(), 'Prune A');
  const b = await signupOrg(server(), 'Prune B');
  email = a.email;
  tenants = [
    (await createTenant(server(), a.token, { displayName: 'Alpha' })).id,
    (await createTenant(server(), a.token, { displayName: 'Alpha Two' })).id,
    (await createTenant(server(), a.token, { displayName: 'Alpha Three' })).id,
    (await createTenant(server(), b.token, { displayName: 'Beta' })).id,
  ];
  fixture.set(
    SERIES,
    tenants.map((id, i) => ({ labels: { user: id }, value: 100 * (i + 1) })),
  );
});

describe('usage history retention', () => {
  it('keeps raw samples for USAGE_RAW_RETENTION_HOURS, deleting in bounded batches; the boundary stays', async () => {
    for (const at of [t0, t0 + MIN, t0 + HOUR, t0 + 2 * HOUR]) {
      expect(await syncAt(at)).toBe('synced');
    }
    // Exactly 2 h after the first sample: it is at the cutoff, not older, so it stays.
    expect(await sampleTimes(tenants)).toEqual([
      iso(t0),
      iso(t0 + MIN),
      iso(t0 + HOUR),
      iso(t0 + 2 * HOUR),
    ]);

    // A failed sync prunes nothing (it never got to write).
    fixture.mode = 'http-500';
    expect(await syncAt(t0 + 2 * HOUR + 5 * MIN)).toBe('failed');
    expect(await countOlder(t0 + 2 * MIN)).toBe(8);
    fixture.mode = 'ok';

    // 8 samples (2 ticks x 4 tenants) are past the cutoff; one sync deletes 2 statements x 2.
    const deletes: string[] = [];
    const stop = server().database.onQuery((statement, params) => {
      if (/^delete from usage_samples/.test(statement)) deletes.push(String(params.at(-1)));
    });
    try {
      expect(await syncAt(t0 + 2 * HOUR + 6 * MIN)).toBe('synced');
    } finally {
      stop();
    }
    expect(deletes).toEqual(['2', '2']);
    expect(await countOlder(t0 + 2 * MIN)).toBe(4);
    // Organisation samples (2 per tick) are pruned the same way, on their own budget.
    const [orgOld] = await db()
      .select({ n: sql<number>`count(*)::int` })
      .from(usageOrgSamples)
      .where(lt(usageOrgSamples.at, new Date(t0 + 2 * MIN)));
    expect(Number(orgOld?.n)).toBe(0);

    // The next sync drains the rest, for every organisation.
    expect(await syncAt(t0 + 2 * HOUR + 7 * MIN)).toBe('synced');
    expect(await countOlder(t0 + 2 * MIN)).toBe(0);
    const kept = [
      iso(t0 + HOUR),
      iso(t0 + 2 * HOUR),
      iso(t0 + 2 * HOUR + 6 * MIN),
      iso(t0 + 2 * HOUR + 7 * MIN),
    ];
    expect(await sampleTimes([tenants[0]!])).toEqual(kept);
    expect(await sampleTimes([tenants[3]!])).toEqual(kept);
  });

  it('keeps hourly roll-ups for USAGE_HOURLY_RETENTION_DAYS and daily for USAGE_DAILY_RETENTION_DAYS', async () => {
    const buckets = async (table: typeof usageHourly | typeof usageDaily) =>
      (
        await db()
          .selectDistinct({ b: table.bucket })
          .from(table)
          .where(and(inArray(table.tenantId, tenants)))
          .orderBy(table.bucket)
      ).map((r) => iso(r.b.getTime()));
    expect(await buckets(usageHourly)).toEqual([iso(t0), iso(t0 + HOUR), iso(t0 + 2 * HOUR)]);
    // A day and an hour later: the 10:00 hour is past 1 day old; the 11:00 hour is at the cutoff.
    expect(await syncAt(t0 + 25 * HOUR)).toBe('synced');
    // 4 tenants' rows in the old hour: two batches of two, in one sync.
    expect(await buckets(usageHourly)).toEqual([
      iso(t0 + HOUR),
      iso(t0 + 2 * HOUR),
      iso(t0 + 25 * HOUR),
    ]);
    expect(await buckets(usageDaily)).toEqual(['2026-06-18T00:00:00Z', '2026-06-19T00:00:00Z']);

    // Two days after 19 June began, 18 June's day is gone; hourly rows of 18 June too.
    expect(await syncAt(Date.parse('2026-06-21T00:00:00Z'))).toBe('synced');
    expect(await buckets(usageDaily)).toEqual(['2026-06-19T00:00:00Z', '2026-06-21T00:00:00Z']);
  });

  it('history asked finer than what is kept answers from the next coarser resolution', async () => {
    const login = await server().gql(
      `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { ... on AuthPayload { token } } }`,
      { e: email, p: PASSWORD },
    );
    token = login.data.login.token;
    const query = `query($id: ID!, $from: DateTime!, $to: DateTime!, $step: Int) { tenant(id: $id) { ... on Tenant {
      usageHistory(from: $from, to: $to, step: $step) { ... on TenantUsageHistorySuccess { data { at activeSeries } } } } } }`;
    // Raw samples before 22:00 are gone (2 h), hourly rows kept (1 day): step 60 gets the hour.
    const res = await server().gql(
      query,
      { id: tenants[0], from: '2026-06-20T20:00:00Z', to: '2026-06-21T00:00:00Z', step: 60 },
      token,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.tenant.usageHistory.data).toEqual([
      { at: '2026-06-21T00:00:00Z', activeSeries: 100 },
    ]);
    // 19 June is past the hourly retention too: the daily row answers, at its last sample.
    const old = await server().gql(
      query,
      { id: tenants[0], from: '2026-06-19T00:00:00Z', to: '2026-06-19T23:59:00Z', step: 3600 },
      token,
    );
    expect(old.data.tenant.usageHistory.data).toEqual([
      { at: iso(t0 + 25 * HOUR), activeSeries: 100 },
    ]);
  });
});
