import { asc, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usageSamples } from '../src/db/schema.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { useTestServer } from './helpers/app.ts';
import { createTenant, PASSWORD, signupOrg } from './helpers/factories.ts';
import { PrometheusFixture } from './helpers/prometheus-fixture.ts';

/**
 * USAGE_HISTORY_DAYS: each successful sync deletes the samples older than that many days before
 * its own time, for every tenant; a failed sync deletes nothing. Time moves by the injected clock.
 */
const fixture = new PrometheusFixture();
beforeAll(() => fixture.start());
afterAll(() => fixture.stop());

const T0 = new Date('2026-06-18T10:00:00Z');
const clock = new ManualClock(T0);
const server = useTestServer({
  env: () => ({ USAGE_PROMETHEUS_URL: fixture.url, USAGE_HISTORY_DAYS: '2' }),
  overrides: { clock },
});
beforeAll(() => server().app.usageSync.stop());

const SERIES = 'cortex_ingester_active_series';
const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

async function syncAt(ms: number) {
  clock.set(new Date(ms));
  return server().app.usageSync.runTick();
}

async function sampleTimes(tenantIds: string[]): Promise<string[]> {
  const rows = await server()
    .database.db.selectDistinct({ at: usageSamples.at })
    .from(usageSamples)
    .where(inArray(usageSamples.tenantId, tenantIds))
    .orderBy(asc(usageSamples.at));
  return rows.map((r) => iso(r.at.getTime()));
}

describe('usage history pruning', () => {
  it('a sync removes samples older than USAGE_HISTORY_DAYS, of every organisation; the boundary stays', async () => {
    const a = await signupOrg(server(), 'Prune A');
    const b = await signupOrg(server(), 'Prune B');
    const ta = (await createTenant(server(), a.token, { displayName: 'Alpha' })).id;
    const tb = (await createTenant(server(), b.token, { displayName: 'Beta' })).id;
    fixture.set(SERIES, [
      { labels: { user: ta }, value: 100 },
      { labels: { user: tb }, value: 200 },
    ]);
    const t0 = T0.getTime();
    for (const at of [t0, t0 + HOUR, t0 + 24 * HOUR]) expect(await syncAt(at)).toBe('synced');
    expect(await sampleTimes([ta, tb])).toEqual([iso(t0), iso(t0 + HOUR), iso(t0 + 24 * HOUR)]);

    // Exactly 2 days after the first sample: it is at the cutoff, not older, so it stays.
    expect(await syncAt(t0 + 48 * HOUR)).toBe('synced');
    expect(await sampleTimes([ta, tb])).toEqual([
      iso(t0),
      iso(t0 + HOUR),
      iso(t0 + 24 * HOUR),
      iso(t0 + 48 * HOUR),
    ]);

    // A failed sync prunes nothing (its transaction never ran).
    fixture.mode = 'http-500';
    expect(await syncAt(t0 + 49 * HOUR + 60_000)).toBe('failed');
    expect(await sampleTimes([ta, tb])).toHaveLength(4);
    fixture.mode = 'ok';

    // 49 h after: the first two samples are past 2 days old and go, for both organisations.
    expect(await syncAt(t0 + 49 * HOUR + 120_000)).toBe('synced');
    const kept = [iso(t0 + 24 * HOUR), iso(t0 + 48 * HOUR), iso(t0 + 49 * HOUR + 120_000)];
    expect(await sampleTimes([ta])).toEqual(kept);
    expect(await sampleTimes([tb])).toEqual(kept);

    // The history API shows what is kept: nothing before the cutoff, even when asked for.
    const login = await server().gql(
      `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { ... on AuthPayload { token } } }`,
      { e: a.email, p: PASSWORD },
    );
    const history = await server().gql(
      `query($id: ID!, $from: DateTime!, $to: DateTime!) { tenant(id: $id) { ... on Tenant {
        usageHistory(from: $from, to: $to, step: 3600) { ... on TenantUsageHistorySuccess { data { at activeSeries } } } } } }`,
      { id: ta, from: iso(t0 - HOUR), to: iso(t0 + 50 * HOUR) },
      login.data.login.token,
    );
    expect(history.errors).toBeUndefined();
    const points = history.data.tenant.usageHistory.data.map((p: { at: string }) => p.at);
    expect(points).toEqual(kept);
  });
});
