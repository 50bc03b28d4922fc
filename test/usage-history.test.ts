import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/lib/clock.ts';
import { useTestServer } from './helpers/app.ts';
import { createTenant, signupOrg, type TestOrg } from './helpers/factories.ts';
import { PrometheusFixture } from './helpers/prometheus-fixture.ts';
import { restCall } from './helpers/rest.ts';

const fixture = new PrometheusFixture();
beforeAll(() => fixture.start());
afterAll(() => fixture.stop());

// The first tick runs at 10:00:00, on a 5-minute boundary: step 300 splits ten ticks 5 + 5.
const clock = new ManualClock(new Date('2026-06-18T09:59:00Z'));
const server = useTestServer({
  env: () => ({ USAGE_PROMETHEUS_URL: fixture.url, USAGE_SOURCE_TIMEOUT_S: '0.5' }),
  overrides: { clock },
});

const T = (hhmm: string) => `2026-06-18T${hhmm}:00Z`;
const DAY_MS = 86_400_000;

const FIELDS = 'at activeSeries logsBytesThisMonth tracesBytesThisMonth logsGbThisMonth';
const ORG_HISTORY = `query($from: DateTime!, $to: DateTime!, $step: Int) {
  organisation { usageHistory(from: $from, to: $to, step: $step) {
    __typename ... on OrganisationUsageHistorySuccess { data { ${FIELDS} } }
    ... on ValidationError { field message } } } }`;
const TENANT_HISTORY = `query($id: ID!, $from: DateTime!, $to: DateTime!, $step: Int) {
  tenant(id: $id) { __typename ... on NotFoundError { id }
    ... on Tenant { usageHistory(from: $from, to: $to, step: $step) {
      __typename ... on TenantUsageHistorySuccess { data { ${FIELDS} } }
      ... on ValidationError { field message } } } } }`;

// Per tick: A's tenants t1 and t2, B's tenant tb. Active series go up and down, so a bucket's
// peak differs from its last value; t1's logs dip in the last tick, so "last" differs from "max".
const T1_ACTIVE = [10, 50, 30, 20, 40, 60, 90, 70, 80, 65];
const T2_ACTIVE = [1, 1, 1, 1, 1, 2, 2, 2, 2, 2];
const T1_LOGS = [100, 200, 300, 400, 500, 600, 700, 800, 950, 920].map((x) => x * 1e6);
const T2_TRACES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((x) => x * 5e7);

let a: TestOrg;
let b: TestOrg;
let t1: string;
let t2: string;
let tb: string;

beforeAll(async () => {
  a = await signupOrg(server(), 'History A');
  b = await signupOrg(server(), 'History B');
  t1 = (await createTenant(server(), a.token, { displayName: 'History One' })).id;
  t2 = (await createTenant(server(), a.token, { displayName: 'History Two' })).id;
  tb = (await createTenant(server(), b.token, { displayName: 'History Bravo' })).id;
  for (let i = 0; i < 10; i++) {
    fixture.set('cortex_ingester_active_series', [
      { labels: { user: t1 }, value: T1_ACTIVE[i]! },
      { labels: { user: t2 }, value: T2_ACTIVE[i]! },
      { labels: { user: tb }, value: 100_000 },
    ]);
    fixture.set('loki_distributor_bytes_received_total', [
      { labels: { tenant: t1 }, value: T1_LOGS[i]! },
      { labels: { tenant: tb }, value: 7e9 },
    ]);
    fixture.set('tempo_distributor_bytes_received_total', [
      { labels: { tenant: t2 }, value: T2_TRACES[i]! },
    ]);
    clock.advance(60_000);
    expect(await server().app.usageSync.runTick()).toBe('synced');
  }
  expect(clock.now().toISOString()).toBe('2026-06-18T10:09:00.000Z');
});

const orgHistory = async (vars: Record<string, unknown>, token = a.token) => {
  const res = await server().gql(ORG_HISTORY, vars, token);
  expect(res.errors).toBeUndefined();
  return res.data.organisation.usageHistory;
};
const tenantHistory = async (id: string, vars: Record<string, unknown>, token = a.token) => {
  const res = await server().gql(TENANT_HISTORY, { id, ...vars }, token);
  expect(res.errors).toBeUndefined();
  return res.data.tenant.usageHistory ?? res.data.tenant;
};
const tenBuckets = { from: T('10:00'), to: T('10:09') };

describe('usageHistory(from, to, step)', () => {
  it('without step: one point per tick, from and to inclusive', async () => {
    const org = await orgHistory(tenBuckets);
    expect(org.data.map((p: any) => p.at)).toEqual(
      Array.from({ length: 10 }, (_, i) => T(`10:0${i}`)),
    );
    expect(org.data.map((p: any) => p.activeSeries)).toEqual(
      T1_ACTIVE.map((v, i) => v + T2_ACTIVE[i]!),
    );
    const one = await tenantHistory(t1, { from: T('10:02'), to: T('10:05') });
    expect(one.data.map((p: any) => [p.at, p.activeSeries, p.logsBytesThisMonth])).toEqual([
      [T('10:02'), 30, 3e8],
      [T('10:03'), 20, 4e8],
      [T('10:04'), 40, 5e8],
      [T('10:05'), 60, 6e8],
    ]);
    // A step of the sync interval is the same as none.
    expect((await tenantHistory(t1, { ...tenBuckets, step: 60 })).data).toHaveLength(10);
  });

  it("step 300: peak active series and last byte counts, at each bucket's last sample", async () => {
    expect((await tenantHistory(t1, { ...tenBuckets, step: 300 })).data).toEqual([
      {
        at: T('10:04'),
        activeSeries: 50,
        logsBytesThisMonth: 5e8,
        tracesBytesThisMonth: 0,
        logsGbThisMonth: 0.5,
      },
      {
        at: T('10:09'),
        activeSeries: 90,
        logsBytesThisMonth: 9.2e8,
        tracesBytesThisMonth: 0,
        logsGbThisMonth: 0.92,
      },
    ]);
    // The organisation: the peak of the per-tick sums (51 = 50 + 1, 92 = 90 + 2), never B's.
    expect((await orgHistory({ ...tenBuckets, step: 300 })).data).toEqual([
      {
        at: T('10:04'),
        activeSeries: 51,
        logsBytesThisMonth: 5e8,
        tracesBytesThisMonth: 2.5e8,
        logsGbThisMonth: 0.5,
      },
      {
        at: T('10:09'),
        activeSeries: 92,
        logsBytesThisMonth: 9.2e8,
        tracesBytesThisMonth: 5e8,
        logsGbThisMonth: 0.92,
      },
    ]);
    // A range starting mid-bucket: the bucket holds only the samples in range.
    const partial = await tenantHistory(t2, { from: T('10:03'), to: T('10:06'), step: 300 });
    expect(partial.data.map((p: any) => [p.at, p.tracesBytesThisMonth])).toEqual([
      [T('10:04'), 2.5e8],
      [T('10:06'), 3.5e8],
    ]);
  });

  it("keeps organisations apart: B sees only its own usage, and not A's tenants", async () => {
    const bOrg = await orgHistory({ ...tenBuckets, step: 300 }, b.token);
    expect(bOrg.data.map((p: any) => [p.activeSeries, p.logsBytesThisMonth])).toEqual([
      [100_000, 7e9],
      [100_000, 7e9],
    ]);
    expect(await tenantHistory(t1, tenBuckets, b.token)).toEqual({
      __typename: 'NotFoundError',
      id: t1,
    });
    expect(await tenantHistory(tb, tenBuckets)).toEqual({ __typename: 'NotFoundError', id: tb });
  });

  it('93 days without step come back downsampled to at most 1000 points', async () => {
    const to = clock.now().getTime();
    const range = {
      from: new Date(to - 93 * DAY_MS).toISOString(),
      to: new Date(to).toISOString(),
    };
    for (const h of [await orgHistory(range), await tenantHistory(t1, range)]) {
      expect(h.__typename).toMatch(/UsageHistorySuccess$/);
      expect(h.data.length).toBeGreaterThan(0);
      expect(h.data.length).toBeLessThan(10);
      expect(h.data.length).toBeLessThanOrEqual(1000);
    }
    const org = await orgHistory(range);
    expect(Math.max(...org.data.map((p: any) => p.activeSeries))).toBe(92);
    expect(org.data.at(-1)).toMatchObject({ at: T('10:09'), logsBytesThisMonth: 9.2e8 });
    // 93 days = 8,035,200 s; 1000 points need at least 8036 s each.
    expect((await orgHistory({ ...range, step: 8036 })).__typename).toBe(
      'OrganisationUsageHistorySuccess',
    );
    for (const step of [60, 8035]) {
      const tooFine = await orgHistory({ ...range, step });
      expect(tooFine).toMatchObject({ __typename: 'ValidationError', field: 'step' });
      expect(tooFine.message).toContain('8036');
      expect(await tenantHistory(t1, { ...range, step })).toMatchObject({ field: 'step' });
    }
    const longer = { ...range, from: new Date(to - 93 * DAY_MS - 1000).toISOString() };
    expect(await orgHistory(longer)).toMatchObject({ __typename: 'ValidationError', field: 'to' });
  });

  it('refuses a step below 1 and a from after to, as ValidationErrors', async () => {
    for (const step of [0, -1, -300]) {
      for (const h of [
        await orgHistory({ ...tenBuckets, step }),
        await tenantHistory(t1, { ...tenBuckets, step }),
      ]) {
        expect(h, String(step)).toMatchObject({ __typename: 'ValidationError', field: 'step' });
        expect(h.message).toMatch(/^step: /);
      }
    }
    const backwards = { from: T('10:09'), to: T('10:00') };
    expect(await orgHistory(backwards)).toMatchObject({
      __typename: 'ValidationError',
      field: 'from',
    });
    expect(await tenantHistory(t1, { ...backwards, step: 300 })).toMatchObject({ field: 'from' });
    // from = to is a range of one instant.
    expect((await tenantHistory(t1, { from: T('10:03'), to: T('10:03') })).data).toHaveLength(1);
    // Not an Int: refused by GraphQL itself, never a 500.
    const res = await server().gql(ORG_HISTORY, { ...tenBuckets, step: 1.5 }, a.token);
    expect(res.status).toBeLessThan(500);
    expect(res.errors?.[0]?.message).toMatch(/Int/);
  });
});

describe('REST history with step', () => {
  const get = (path: string, token = a.token) => restCall(server().url, 'GET', path, { token });
  const qs = (q: Record<string, string>) => new URLSearchParams(q).toString();

  it('GET /dashboard/org/history and /dashboard/tenants/{id}/history downsample the same way', async () => {
    const org = await get(`/dashboard/org/history?${qs({ ...tenBuckets, step: '300' })}`);
    expect(org.status).toBe(200);
    expect(org.json).toEqual([
      {
        at: T('10:04'),
        active_series: 51,
        logs_gb_ingested_this_month: 0.5,
        traces_gb_ingested_this_month: 0.25,
      },
      {
        at: T('10:09'),
        active_series: 92,
        logs_gb_ingested_this_month: 0.92,
        traces_gb_ingested_this_month: 0.5,
      },
    ]);
    const tenant = await get(
      `/dashboard/tenants/${t1}/history?${qs({ ...tenBuckets, step: '300' })}`,
    );
    expect(tenant.json.map((p: any) => [p.at, p.active_series])).toEqual([
      [T('10:04'), 50],
      [T('10:09'), 90],
    ]);
    const perTick = await get(`/dashboard/tenants/${t1}/history?${qs(tenBuckets)}`);
    expect(perTick.json).toHaveLength(10);
    expect((await get(`/dashboard/tenants/${t1}/history?${qs(tenBuckets)}`, b.token)).status).toBe(
      404,
    );
  });

  it('a bad step is a 400 naming step', async () => {
    const to = clock.now().getTime();
    const long = { from: new Date(to - 93 * DAY_MS).toISOString(), to: new Date(to).toISOString() };
    for (const [path, step] of [
      ['/dashboard/org/history', 'abc'],
      ['/dashboard/org/history', '0'],
      ['/dashboard/org/history', '-5'],
      ['/dashboard/org/history', '1.5'],
      [`/dashboard/tenants/${t1}/history`, 'abc'],
      [`/dashboard/tenants/${t1}/history`, '0'],
    ]) {
      const reply = await get(`${path}?${qs({ ...tenBuckets, step: step! })}`);
      expect(reply.status, `${path} step=${step}`).toBe(400);
      expect(reply.json, `${path} step=${step}`).toMatchObject({
        error: 'validation_error',
        field: 'step',
      });
      expect(reply.json.message).toMatch(/^step: /);
    }
    const tooFine = await get(`/dashboard/org/history?${qs({ ...long, step: '60' })}`);
    expect(tooFine.status).toBe(400);
    expect(tooFine.json).toMatchObject({ error: 'validation_error', field: 'step' });
    expect(tooFine.json.message).toContain('8036');
    const backwards = await get(
      `/dashboard/org/history?${qs({ from: T('10:09'), to: T('10:00') })}`,
    );
    expect(backwards.json).toMatchObject({ error: 'validation_error', field: 'from' });
  });
});

describe('history point bound, both ends included', () => {
  it('a range of exactly 1000 minutes of samples never comes back as 1001 points', async () => {
    const org = await signupOrg(server());
    // One organisation sample a minute for 1000 minutes, both ends included: 1001 samples,
    // within the raw retention (26 h) of the clock (2026-06-18T10:09).
    await server().database.db.execute(sql`insert into usage_org_samples
      (organisation_id, at, active_series, logs_bytes_this_month, traces_bytes_this_month)
      select (select organisation_id from users where id = ${org.userId}),
        timestamptz '2026-06-17T09:00:00Z' + make_interval(mins => g), g, 0, 0
      from generate_series(0, 1000) g`);
    const query = `query($s: Int) { organisation { usageHistory(from: "2026-06-17T09:00:00Z",
      to: "2026-06-18T01:40:00Z", step: $s) { __typename
      ... on OrganisationUsageHistorySuccess { data { at activeSeries } }
      ... on ValidationError { field message } } } }`;
    const auto = (await server().gql(query, { s: null }, org.token)).data.organisation.usageHistory;
    expect(auto.__typename).toBe('OrganisationUsageHistorySuccess');
    expect(auto.data.length).toBeGreaterThan(400);
    expect(auto.data.length).toBeLessThanOrEqual(1000);
    expect(auto.data.at(-1).activeSeries).toBe(1000);
    const tooFine = (await server().gql(query, { s: 60 }, org.token)).data.organisation
      .usageHistory;
    expect(tooFine).toMatchObject({ __typename: 'ValidationError', field: 'step' });
    expect(tooFine.message).toMatch(/use at least 61/);
  });
});
