import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usageHourly, usageOrgDaily } from '../src/db/schema.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { useTestServer } from './helpers/app.ts';
import { createTenant, PASSWORD, signupOrg, type TestOrg } from './helpers/factories.ts';
import { PrometheusFixture } from './helpers/prometheus-fixture.ts';

/**
 * Each tick folds its samples into the hour and the day it falls in (per tenant, and per
 * organisation as the peak of its per-tick sums); history reads the coarsest resolution that
 * serves the step. Ticks cross an hour, a day and a month boundary by the injected clock.
 */
const fixture = new PrometheusFixture();
beforeAll(() => fixture.start());
afterAll(() => fixture.stop());

const clock = new ManualClock(new Date('2026-06-30T22:00:00Z'));
const server = useTestServer({
  env: () => ({ USAGE_PROMETHEUS_URL: fixture.url }),
  overrides: { clock },
});
beforeAll(() => server().app.usageSync.stop());

const TICKS = [
  '06-30T22:58',
  '06-30T22:59',
  '06-30T23:00',
  '06-30T23:59',
  '07-01T00:00',
  '07-01T00:01',
];
const at = (t: string) => `2026-${t}:00Z`;
// t2 peaks at 23:00 and t1 at 23:59: the organisation's peak of sums (130) is below the sum of
// the peaks (140). Logs are month-to-date: they restart at 1 July.
const T1_ACTIVE = [10, 70, 30, 40, 20, 50];
const T2_ACTIVE = [1, 1, 100, 1, 1, 1];
const T1_LOGS = [100, 200, 300, 400, 5, 6];

let a: TestOrg;
let t1: string;
let t2: string;
let tb: string;

const HISTORY = `query($id: ID!, $from: DateTime!, $to: DateTime!, $step: Int) {
  tenant(id: $id) { ... on Tenant { usageHistory(from: $from, to: $to, step: $step) {
    ... on TenantUsageHistorySuccess { data { at activeSeries logsBytesThisMonth } } } } }
  organisation { usageHistory(from: $from, to: $to, step: $step) {
    ... on OrganisationUsageHistorySuccess { data { at activeSeries logsBytesThisMonth } } } } }`;
const points = (data: { at: string; activeSeries: number; logsBytesThisMonth: number }[]) =>
  data.map((p) => [p.at, p.activeSeries, p.logsBytesThisMonth]);
async function history(id: string, step: number, from = at('06-30T22:00'), to = at('07-01T01:00')) {
  const res = await server().gql(HISTORY, { id, from, to, step }, a.token);
  expect(res.errors).toBeUndefined();
  return {
    tenant: points(res.data.tenant.usageHistory.data),
    org: points(res.data.organisation.usageHistory.data),
  };
}

beforeAll(async () => {
  a = await signupOrg(server(), 'Rollup A');
  const b = await signupOrg(server(), 'Rollup B');
  t1 = (await createTenant(server(), a.token, { displayName: 'Roll One' })).id;
  t2 = (await createTenant(server(), a.token, { displayName: 'Roll Two' })).id;
  tb = (await createTenant(server(), b.token, { displayName: 'Roll Bravo' })).id;
  for (const [i, t] of TICKS.entries()) {
    fixture.set('cortex_ingester_active_series', [
      { labels: { user: t1 }, value: T1_ACTIVE[i]! },
      { labels: { user: t2 }, value: T2_ACTIVE[i]! },
      { labels: { user: tb }, value: 9999 },
    ]);
    fixture.set('loki_distributor_bytes_received_total', [
      { labels: { tenant: t1 }, value: T1_LOGS[i]! },
    ]);
    clock.set(new Date(at(t)));
    expect(await server().app.usageSync.runTick()).toBe('synced');
  }
  // Two hours passed on the clock: the signup's token has expired.
  const login = await server().gql(
    `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { ... on AuthPayload { token } } }`,
    { e: a.email, p: PASSWORD },
  );
  a = { ...a, token: login.data.login.token };
});

describe('usage roll-ups', () => {
  it('hourly rows hold the peak and the last sample of each hour, across the day and month change', async () => {
    const rows = await server()
      .database.db.select()
      .from(usageHourly)
      .where(eq(usageHourly.tenantId, t1))
      .orderBy(asc(usageHourly.bucket));
    expect(
      rows.map((r) => [
        r.bucket.toISOString(),
        r.lastAt.toISOString(),
        r.activeSeries,
        r.logsBytesThisMonth,
      ]),
    ).toEqual([
      ['2026-06-30T22:00:00.000Z', '2026-06-30T22:59:00.000Z', 70, 200],
      ['2026-06-30T23:00:00.000Z', '2026-06-30T23:59:00.000Z', 40, 400],
      ['2026-07-01T00:00:00.000Z', '2026-07-01T00:01:00.000Z', 50, 6],
    ]);
    const orgDays = await server()
      .database.db.select()
      .from(usageOrgDaily)
      .orderBy(asc(usageOrgDaily.bucket), asc(usageOrgDaily.activeSeries));
    // Organisation A's June: peak of sums 130 (23:00), not 140; B's stays its own.
    expect(
      orgDays.map((r) => [
        r.bucket.toISOString().slice(0, 10),
        r.activeSeries,
        r.logsBytesThisMonth,
      ]),
    ).toEqual([
      ['2026-06-30', 130, 400],
      ['2026-06-30', 9999, 0],
      ['2026-07-01', 51, 6],
      ['2026-07-01', 9999, 0],
    ]);
  });

  it('step 3600 and 86400 read the roll-ups, each point at its last sample', async () => {
    expect(await history(t1, 3600)).toEqual({
      tenant: [
        [at('06-30T22:59'), 70, 200],
        [at('06-30T23:59'), 40, 400],
        [at('07-01T00:01'), 50, 6],
      ],
      org: [
        [at('06-30T22:59'), 71, 200],
        [at('06-30T23:59'), 130, 400],
        [at('07-01T00:01'), 51, 6],
      ],
    });
    expect(await history(t1, 86_400)).toEqual({
      tenant: [
        [at('06-30T23:59'), 70, 400],
        [at('07-01T00:01'), 50, 6],
      ],
      org: [
        [at('06-30T23:59'), 130, 400],
        [at('07-01T00:01'), 51, 6],
      ],
    });
    // 5400 s is not whole hours: it becomes 7200, two whole hours a point (22-24, 00-02).
    expect((await history(t1, 5400)).tenant).toEqual([
      [at('06-30T23:59'), 70, 400],
      [at('07-01T00:01'), 50, 6],
    ]);
    // A range from 23:30 takes the whole 23:00 hour, to 23:00 only up to that hour's start.
    expect((await history(t1, 3600, at('06-30T23:30'), at('07-01T00:00'))).tenant).toEqual([
      [at('06-30T23:59'), 40, 400],
      [at('07-01T00:01'), 50, 6],
    ]);
  });

  it('a step below an hour reads the per-tick samples', async () => {
    expect((await history(t2, 60, at('06-30T22:59'), at('06-30T23:59'))).tenant).toEqual([
      [at('06-30T22:59'), 1, 0],
      [at('06-30T23:00'), 100, 0],
      [at('06-30T23:59'), 1, 0],
    ]);
    expect((await history(t1, 1800)).org.map((p) => p[1])).toEqual([71, 130, 41, 51]);
  });

  it("deleting a tenant does not rewrite the organisation's past", async () => {
    const before = await history(t1, 3600);
    await server().gql(
      'mutation($id: ID!) { deleteTenant(id: $id) { __typename } }',
      { id: t2 },
      a.token,
    );
    expect((await history(t1, 3600)).org).toEqual(before.org);
  });

  it('tables rewritten row by row every tick leave room on their pages (HOT updates)', async () => {
    const rows = await server().app.database.statement(
      `select relname, reloptions from pg_class where relkind = 'r' and relname in
        ('usage_current', 'usage_daily', 'usage_org_hourly', 'usage_org_daily', 'usage_hourly')
       order by relname`,
    )([]);
    expect(rows).toEqual([
      ['usage_current', ['fillfactor=50']],
      ['usage_daily', ['fillfactor=50']],
      // Its past hours never change: full pages (see the migration).
      ['usage_hourly', null],
      ['usage_org_daily', ['fillfactor=50']],
      ['usage_org_hourly', ['fillfactor=50']],
    ]);
  });
});
