import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ManualClock } from '../src/lib/clock.ts';
import { useTestServer } from './helpers/app.ts';
import { createTenant, signupOrg } from './helpers/factories.ts';
import { PrometheusFixture } from './helpers/prometheus-fixture.ts';
import { type Subscription, subscribeSse, subscribeWs } from './helpers/subscriptions.ts';

const fixture = new PrometheusFixture();
beforeAll(() => fixture.start());
afterAll(() => fixture.stop());

const clock = new ManualClock(new Date());
const server = useTestServer({
  // Tokens live 120 s, so two 60 s ticks outlive them.
  env: () => ({ USAGE_PROMETHEUS_URL: fixture.url, JWT_TTL_S: '120' }),
  overrides: { clock },
});

const ORG = 'subscription { orgUsageUpdated { activeSeries planMaxActiveSeries billingPlan } }';
const TENANT =
  'subscription($id: ID!) { tenantUsageUpdated(tenantId: $id) { tenantId activeSeries } }';

async function tick() {
  clock.advance(60_000);
  return server().app.usageSync.runTick();
}

/** Subscribers register asynchronously; wait until the feed has them all. */
async function untilSubscribed(count: number) {
  for (let i = 0; i < 500 && server().app.services.usageFeed.subscriberCount < count; i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  expect(server().app.services.usageFeed.subscriberCount).toBeGreaterThanOrEqual(count);
}

describe.each([
  ['SSE', subscribeSse],
  ['WebSocket', subscribeWs],
] as const)('usage subscriptions over %s', (_name, subscribe) => {
  const open: Subscription[] = [];
  afterAll(() => {
    for (const s of open) s.close();
  });
  const sub = async (query: string, variables: object, token?: string) => {
    const s = await subscribe(server().url, query, variables, token);
    open.push(s);
    return s;
  };

  it('pushes org and tenant usage after each sync commit', async () => {
    const org = await signupOrg(server());
    const t = await createTenant(server(), org.token);
    const before = server().app.services.usageFeed.subscriberCount;
    const orgSub = await sub(ORG, {}, org.token);
    const tenantSub = await sub(TENANT, { id: t.id }, org.token);
    await untilSubscribed(before + 2);
    fixture.set('cortex_ingester_active_series', [{ labels: { user: t.id }, value: 321 }]);
    expect(await tick()).toBe('synced');
    expect((await orgSub.next()).data.orgUsageUpdated).toEqual({
      activeSeries: 321,
      planMaxActiveSeries: 10_000,
      billingPlan: 'free',
    });
    expect((await tenantSub.next()).data.tenantUsageUpdated).toEqual({
      tenantId: t.id,
      activeSeries: 321,
    });
  });

  it("refuses anonymous subscribers and another organisation's tenant", async () => {
    const anonymous = await sub(ORG, {});
    expect(JSON.stringify((await anonymous.next()).errors)).toMatch(
      /UNAUTHENTICATED|Authentication required/,
    );

    const a = await signupOrg(server());
    const b = await signupOrg(server());
    const tenantOfA = await createTenant(server(), a.token);
    const foreign = await sub(TENANT, { id: tenantOfA.id }, b.token);
    const answer = await foreign.next();
    expect(answer.data?.tenantUsageUpdated ?? null).toBeNull();
    expect(JSON.stringify(answer.errors)).toMatch(/not found/i);
  });

  it('ends the subscription when the token expires', async () => {
    const org = await signupOrg(server());
    const before = server().app.services.usageFeed.subscriberCount;
    const s = await sub(ORG, {}, org.token);
    await untilSubscribed(before + 1);
    await tick(); // 60 s: token still valid
    expect((await s.next()).data.orgUsageUpdated).toBeDefined();
    await tick(); // 120 s: expired
    const last = await s.next();
    expect(last.errors[0].message).toMatch(/expired/i);
    await s.ended;
  });
});

describe('graphql-ws limits', () => {
  it('closes the socket on a message over the size limit', async () => {
    const ws = new WebSocket(
      `${server().url.replace('http', 'ws')}/graphql`,
      'graphql-transport-ws',
    );
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'connection_init', payload: { junk: 'x'.repeat(200_000) } }));
    const code = await new Promise<number>((r) => ws.once('close', (c) => r(c)));
    expect(code).toBe(1009);
  });

  it('applies the query depth limit to WebSocket operations', async () => {
    const org = await signupOrg(server());
    let deep = 'activeSeries';
    for (let i = 0; i < 20; i++) deep = `__typename ... on OrgUsage { ${deep} }`;
    const s = subscribeWs(
      server().url,
      `subscription { orgUsageUpdated { ${deep} } }`,
      {},
      org.token,
    );
    const first = await s.next();
    s.close();
    expect(first.errors?.length).toBeGreaterThan(0);
  });
});
