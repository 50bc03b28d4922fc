import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/lib/clock.ts';
import { useTestServer } from './helpers/app.ts';
import { createTenant, signupOrg } from './helpers/factories.ts';
import { PrometheusFixture } from './helpers/prometheus-fixture.ts';

const fixture = new PrometheusFixture();
beforeAll(() => fixture.start());
afterAll(() => fixture.stop());

const clock = new ManualClock(new Date('2026-06-18T10:00:00Z'));
const server = useTestServer({
  env: () => ({ USAGE_PROMETHEUS_URL: fixture.url, USAGE_SOURCE_TIMEOUT_S: '0.5' }),
  overrides: { clock },
});

const ORG_USAGE = `{ organisation { billingPlan usage {
  billingPlan activeSeries planMaxActiveSeries pctUsed logsGbThisMonth tracesGbThisMonth syncedAt } } }`;

/** Each tick must be a new interval (60 s), or the sync skips it as done. */
async function tick() {
  clock.advance(60_000);
  return server().app.usageSync.runTick();
}

describe('usage sync from a Prometheus-compatible source', () => {
  it('stores per-tenant usage, ignores unknown and deleted tenants, and sums the org', async () => {
    const org = await signupOrg(server());
    const a = await createTenant(server(), org.token, { displayName: 'Alpha' });
    const b = await createTenant(server(), org.token, { displayName: 'Beta' });
    const deleted = await createTenant(server(), org.token, { displayName: 'Gone' });
    await server().gql(
      'mutation($id: ID!) { deleteTenant(id: $id) { __typename } }',
      { id: deleted.id },
      org.token,
    );
    fixture.set('cortex_ingester_active_series', [
      { labels: { user: a.id }, value: 1000 },
      { labels: { user: b.id }, value: 243 },
      { labels: { user: deleted.id }, value: 5000 },
      { labels: { user: 'xs_stranger_aaaaaaaa' }, value: 7777 },
    ]);
    fixture.set('loki_distributor_bytes_received_total', [
      { labels: { tenant: a.id }, value: 420_000_000 },
    ]);
    fixture.set('tempo_distributor_bytes_received_total', [
      { labels: { tenant: b.id }, value: 1_500_000_000 },
    ]);

    expect(await tick()).toBe('synced');
    const res = await server().gql(ORG_USAGE, {}, org.token);
    expect(res.data.organisation.usage).toMatchObject({
      billingPlan: 'free',
      activeSeries: 1243,
      planMaxActiveSeries: 10_000,
      pctUsed: 12.43,
      logsGbThisMonth: 0.42,
      tracesGbThisMonth: 1.5,
      syncedAt: clock.now().toISOString().replace('.000Z', 'Z'),
    });
    const tenant = await server().gql(
      'query($id: ID!) { tenant(id: $id) { ... on Tenant { usage { activeSeries logsGbThisMonth } } } }',
      { id: a.id },
      org.token,
    );
    expect(tenant.data.tenant.usage).toEqual({ activeSeries: 1000, logsGbThisMonth: 0.42 });
  });

  it('asks for month-to-date increases at the tick time', async () => {
    fixture.queries.length = 0;
    await tick();
    const logs = fixture.queries.find((q) =>
      q.query.includes('loki_distributor_bytes_received_total'),
    );
    // 2026-06-18T10:02:00Z is 17 days, 10 h and 2 min into June.
    expect(logs?.query).toContain(`[${17 * 86400 + 10 * 3600 + 120}s]`);
    expect(Number(logs?.time)).toBe(clock.now().getTime() / 1000);
  });

  it('keeps stored usage and reports the error when the source fails', async () => {
    const org = await signupOrg(server());
    const t = await createTenant(server(), org.token);
    fixture.set('cortex_ingester_active_series', [{ labels: { user: t.id }, value: 50 }]);
    expect(await tick()).toBe('synced');
    for (const mode of ['http-500', 'malformed', 'slow', 'not-vector'] as const) {
      fixture.mode = mode;
      fixture.set('cortex_ingester_active_series', [{ labels: { user: t.id }, value: 99 }]);
      expect(await tick(), mode).toBe('failed');
      const res = await server().gql(
        `{ organisation { usage { activeSeries } } usageSyncStatus { lastError lastSuccessAt } }`,
        {},
        org.token,
      );
      expect(res.data.organisation.usage.activeSeries, mode).toBe(50);
      expect(res.data.usageSyncStatus.lastError, mode).toMatch(/usage source/);
    }
    fixture.mode = 'ok';
    expect(await tick()).toBe('synced');
    const res = await server().gql(
      `{ organisation { usage { activeSeries } } usageSyncStatus { lastError } }`,
      {},
      org.token,
    );
    expect(res.data.organisation.usage.activeSeries).toBe(99);
    expect(res.data.usageSyncStatus.lastError).toBeNull();
  });

  it('syncs a tick once: a second run in the same interval is skipped', async () => {
    expect(await tick()).toBe('synced');
    expect(await server().app.usageSync.runTick()).toBe('skipped');
  });

  it('keeps one sample per tick as history', async () => {
    const org = await signupOrg(server());
    const t = await createTenant(server(), org.token);
    const from = clock.now();
    for (const value of [10, 20, 30]) {
      fixture.set('cortex_ingester_active_series', [{ labels: { user: t.id }, value }]);
      await tick();
    }
    const res = await server().gql(
      `query($from: DateTime!, $to: DateTime!, $id: ID!) {
        organisation { usageHistory(from: $from, to: $to) { ... on OrganisationUsageHistorySuccess { data { activeSeries } } } }
        tenant(id: $id) { ... on Tenant { usageHistory(from: $from, to: $to) { ... on TenantUsageHistorySuccess { data { at activeSeries } } } } }
      }`,
      { from: from.toISOString(), to: clock.now().toISOString(), id: t.id },
      org.token,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.tenant.usageHistory.data.map((s: any) => s.activeSeries)).toEqual([10, 20, 30]);
  });
});
