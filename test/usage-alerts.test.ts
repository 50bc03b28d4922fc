import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/lib/clock.ts';
import { startTestServer, useTestServer } from './helpers/app.ts';
import { engine } from './helpers/database.ts';
import { createTenant, PASSWORD, signupOrg } from './helpers/factories.ts';
import { PrometheusFixture } from './helpers/prometheus-fixture.ts';
import { restCall } from './helpers/rest.ts';
import { subscribeWs } from './helpers/subscriptions.ts';

/**
 * 80% / 100% alerts from real usage syncs (fixture Prometheus, hand-driven ticks): one alert
 * per crossing, none while usage stays above, re-armed once it falls back under.
 */
const fixture = new PrometheusFixture();
beforeAll(() => fixture.start());
afterAll(() => fixture.stop());

const clock = new ManualClock(new Date('2026-06-18T10:00:30Z'));
const server = useTestServer({
  env: () => ({ USAGE_PROMETHEUS_URL: fixture.url, USAGE_SOURCE_TIMEOUT_S: '2' }),
  overrides: { clock },
});
beforeAll(() => server().app.usageSync.stop());

const SERIES = 'cortex_ingester_active_series';

/** One sync tick with these active series for the tenant; resolves once alerts are evaluated. */
async function syncWith(tenantId: string, activeSeries: number) {
  fixture.set(SERIES, [{ labels: { user: tenantId }, value: activeSeries }]);
  clock.advance(60_000);
  expect(await server().app.usageSync.runTick()).toBe('synced');
  await server().app.services.usageAlerts.settled();
}

const ALERTS = '{ billing { alerts { limit threshold used max } } }';

describe('usage alerts', () => {
  it('crossing 80% and 100% of active series gives exactly one alert each, re-armed below', async () => {
    const org = await signupOrg(server());
    const other = await signupOrg(server());
    const tenant = await createTenant(server(), org.token);
    const live = subscribeWs(
      server().url,
      'subscription { orgUsageAlert { limit threshold used max } }',
      {},
      org.token,
    );
    const otherLive = subscribeWs(
      server().url,
      'subscription { orgUsageAlert { threshold } }',
      {},
      other.token,
    );
    try {
      const alerts = async () => (await server().gql(ALERTS, {}, org.token)).data.billing.alerts;
      await syncWith(tenant.id, 5_000);
      expect(await alerts()).toEqual([]);

      await syncWith(tenant.id, 8_000);
      expect((await live.next()).data.orgUsageAlert).toEqual({
        limit: 'active_series',
        threshold: 80,
        used: 8_000,
        max: 10_000,
      });
      await syncWith(tenant.id, 8_500);
      await syncWith(tenant.id, 10_000);
      expect((await live.next()).data.orgUsageAlert).toMatchObject({
        threshold: 100,
        used: 10_000,
      });
      await syncWith(tenant.id, 11_000);
      expect((await alerts()).map((a: { threshold: number }) => a.threshold)).toEqual([100, 80]);

      // Back under both: re-armed, so the next crossing alerts again (and only 80%).
      await syncWith(tenant.id, 7_000);
      await syncWith(tenant.id, 8_200);
      expect((await live.next()).data.orgUsageAlert).toMatchObject({ threshold: 80, used: 8_200 });
      const rest = await restCall(server().url, 'GET', '/billing/alerts', { token: org.token });
      expect(
        rest.json.map((a: { threshold: number; limit: string }) => [a.limit, a.threshold]),
      ).toEqual([
        ['active_series', 80],
        ['active_series', 100],
        ['active_series', 80],
      ]);
      // Another organisation sees none of it.
      expect((await server().gql(ALERTS, {}, other.token)).data.billing.alerts).toEqual([]);
      await expect(otherLive.next(200)).rejects.toThrow(/no event/);
    } finally {
      live.close();
      otherLive.close();
    }
  });

  it('evaluating the same sync twice (two instances) records one alert', async () => {
    const org = await signupOrg(server());
    const tenant = await createTenant(server(), org.token);
    fixture.set(SERIES, [{ labels: { user: tenant.id }, value: 9_000 }]);
    clock.advance(60_000);
    const alertsService = server().app.services.usageAlerts;
    // The sync's own evaluation races a second one over the same numbers.
    const [, second] = await Promise.all([
      server().app.usageSync.runTick(),
      alertsService.evaluate(clock.now()),
    ]);
    await alertsService.settled();
    const mine = (await server().gql(ALERTS, {}, org.token)).data.billing.alerts;
    expect(mine).toEqual([{ limit: 'active_series', threshold: 80, used: 9_000, max: 10_000 }]);
    expect(second.length).toBeLessThanOrEqual(1);
  });

  it.skipIf(engine !== 'postgres')(
    'only the instance that ran the sync evaluates; another delivers the alert to its subscribers',
    async () => {
      const org = await signupOrg(server());
      const tenant = await createTenant(server(), org.token);
      const other = await startTestServer({
        testDatabase: server().testDatabase,
        env: { USAGE_PROMETHEUS_URL: fixture.url },
        overrides: { clock },
      });
      try {
        await other.app.usageSync.stop();
        const evaluations = { here: 0, there: 0 };
        const reads = (q: string) => /from "usage_alert_state"/.test(q);
        const offHere = server().database.onQuery((q) => {
          if (reads(q)) evaluations.here++;
        });
        const offThere = other.database.onQuery((q) => {
          if (reads(q)) evaluations.there++;
        });
        const synced = new Promise<void>((resolve) => {
          const off = other.app.deps.events.subscribe('usage.synced', () => {
            off();
            resolve();
          });
        });
        const live = subscribeWs(
          other.url,
          'subscription { orgUsageAlert { threshold used } }',
          {},
          org.token,
        );
        try {
          await syncWith(tenant.id, 9_500);
          await synced;
          expect(await live.next()).toMatchObject({
            data: { orgUsageAlert: { threshold: 80, used: 9_500 } },
          });
          await other.app.services.usageAlerts.settled();
          expect(evaluations.here).toBeGreaterThan(0);
          expect(evaluations.there).toBe(0);
        } finally {
          live.close();
          offHere();
          offThere();
        }
      } finally {
        await other.stop();
      }
    },
  );

  it("ends a logged-out session's alert stream at the next alert; the owner's other session goes on", async () => {
    const org = await signupOrg(server());
    const tenant = await createTenant(server(), org.token);
    const login = await server().gql(
      `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { ... on AuthPayload { token } } }`,
      { e: org.email, p: PASSWORD },
    );
    const second = login.data.login.token as string;
    const ALERT = 'subscription { orgUsageAlert { threshold } }';
    const alertsService = server().app.services.usageAlerts;
    const before = alertsService.subscriberCount;
    const staying = subscribeWs(server().url, ALERT, {}, org.token);
    const leaving = subscribeWs(server().url, ALERT, {}, second);
    try {
      for (let i = 0; i < 250 && alertsService.subscriberCount < before + 2; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(alertsService.subscriberCount).toBe(before + 2);
      expect((await server().gql('mutation { logout }', {}, second)).data.logout).toBe(true);
      await syncWith(tenant.id, 8_000);
      expect((await staying.next()).data.orgUsageAlert).toEqual({ threshold: 80 });
      const last = await leaving.next();
      expect(last.errors[0].message).toMatch(/expired or revoked/);
      expect(last.errors[0].extensions.code).toBe('UNAUTHENTICATED');
      await leaving.ended;
    } finally {
      staying.close();
      leaving.close();
    }
  });
});
