import { subscribe as listen, unsubscribe as unlisten } from 'node:diagnostics_channel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/lib/clock.ts';
import { LIVE_STAGES, type LiveStageMessage } from '../src/lib/live-stages.ts';
import { useTestServer } from './helpers/app.ts';
import { createTenant, PASSWORD, signupOrg } from './helpers/factories.ts';
import { PrometheusFixture } from './helpers/prometheus-fixture.ts';
import {
  type Subscription,
  subscribeSse,
  subscribeWs,
  subscribeWsText,
} from './helpers/subscriptions.ts';

/**
 * Live usage is executed once per audience (organisation, document, operation, variables) and
 * serialised once; every subscriber is still re-checked before each push. Executions are counted
 * on the server's own stage channel (src/lib/live-stages.ts), the hook the fan-out bench reads.
 */
const fixture = new PrometheusFixture();
beforeAll(() => fixture.start());
afterAll(() => fixture.stop());

const clock = new ManualClock(new Date());
const server = useTestServer({
  env: () => ({ USAGE_PROMETHEUS_URL: fixture.url }),
  overrides: { clock },
});
beforeAll(() => server().app.usageSync.stop());

const ORG = 'subscription { orgUsageUpdated { activeSeries syncedAt } }';
const ORG_PLAN = 'subscription { orgUsageUpdated { billingPlan activeSeries } }';
const TENANT =
  'subscription($id: ID!) { tenantUsageUpdated(tenantId: $id) { tenantId activeSeries } }';

const open: Subscription[] = [];
afterAll(() => {
  for (const s of open) s.close();
});
const track = (s: Subscription) => {
  open.push(s);
  return s;
};

/** Runs one sync tick and counts the GraphQL executions it caused until `settled` resolves. */
async function tickCountingExecutions(settled: () => Promise<unknown>) {
  let executions = 0;
  const onMessage = (m: unknown) => {
    if ((m as LiveStageMessage).stage === 'executed') executions++;
  };
  listen(LIVE_STAGES, onMessage);
  try {
    clock.advance(60_000);
    expect(await server().app.usageSync.runTick()).toBe('synced');
    await settled();
  } finally {
    unlisten(LIVE_STAGES, onMessage);
  }
  return executions;
}

async function untilSubscribed(count: number) {
  for (let i = 0; i < 500 && server().app.services.usageFeed.subscriberCount < count; i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  expect(server().app.services.usageFeed.subscriberCount).toBe(count);
}

async function login(email: string): Promise<string> {
  const res = await server().gql(
    `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { ... on AuthPayload { token } } }`,
    { e: email, p: PASSWORD },
  );
  const token = res.data?.login?.token;
  if (!token) throw new Error(`login failed: ${JSON.stringify(res)}`);
  return token;
}

const payloadOf = (text: string) => {
  const start = text.indexOf('"payload":');
  return text.slice(start + '"payload":'.length, -1);
};

describe('live usage: one execution per audience', () => {
  it('shares results within an audience only, and still ends a lapsed subscriber alone', async () => {
    const a = await signupOrg(server(), 'Sharing A');
    const a1 = await createTenant(server(), a.token, { displayName: 'A one' });
    const a2 = await createTenant(server(), a.token, { displayName: 'A two' });
    const b = await signupOrg(server(), 'Sharing B');
    const b1 = await createTenant(server(), b.token, { displayName: 'B one' });
    fixture.set('cortex_ingester_active_series', [
      { labels: { user: a1.id }, value: 11 },
      { labels: { user: a2.id }, value: 22 },
      { labels: { user: b1.id }, value: 404 },
    ]);
    const aSecond = await login(a.email); // a second session of A's owner, logged out below

    // Organisation A, one document: raw sockets (the bytes), graphql-ws clients, SSE streams.
    const aText = [0, 1, 2].map(() => track(subscribeWsText(server().url, ORG, {}, a.token)));
    const aLapsing = track(subscribeWsText(server().url, ORG, {}, aSecond));
    const aClients = [0, 1].map(() => track(subscribeWs(server().url, ORG, {}, a.token)));
    const aSse = [track(await subscribeSse(server().url, ORG, {}, a.token))];
    // Other audiences: another document, another organisation, other variables.
    const aPlan = track(subscribeWs(server().url, ORG_PLAN, {}, a.token));
    const bText = track(subscribeWsText(server().url, ORG, {}, b.token));
    const aTenant1 = [0, 1].map(() =>
      track(subscribeWs(server().url, TENANT, { id: a1.id }, a.token)),
    );
    const aTenant2 = track(subscribeWs(server().url, TENANT, { id: a2.id }, a.token));
    await untilSubscribed(12);

    let texts: string[] = [];
    let values: any[] = [];
    let lapsing = '';
    const executions = await tickCountingExecutions(async () => {
      texts = await Promise.all(aText.map((s) => s.next()));
      lapsing = await aLapsing.next();
      values = await Promise.all([...aClients, ...aSse].map((s) => s.next()));
      values.push(await aPlan.next(), await bText.next());
      values.push(...(await Promise.all([...aTenant1, aTenant2].map((s) => s.next()))));
    });
    // A with ORG (WebSocket and SSE alike), A with ORG_PLAN, B, A's tenant 1, A's tenant 2.
    expect(executions).toBe(5);

    // The same bytes for every subscriber of the audience; only the id is the socket's own.
    const shared = payloadOf(texts[0]!);
    expect(JSON.parse(shared).data.orgUsageUpdated.activeSeries).toBe(33);
    for (const text of [...texts, lapsing]) {
      expect(text).toBe(`{"id":"1","type":"next","payload":${shared}}`);
    }
    const [c1, c2, sse, plan, bMessage, t1a, t1b, t2] = values;
    for (const v of [c1, c2, sse]) expect(JSON.stringify(v)).toBe(shared);
    expect(plan.data.orgUsageUpdated).toEqual({ billingPlan: 'free', activeSeries: 33 });
    expect(JSON.parse(payloadOf(bMessage)).data.orgUsageUpdated.activeSeries).toBe(404);
    expect(t1a.data.tenantUsageUpdated).toEqual({ tenantId: a1.id, activeSeries: 11 });
    expect(t1b).toEqual(t1a);
    expect(t2.data.tenantUsageUpdated).toEqual({ tenantId: a2.id, activeSeries: 22 });

    // The second session logs out: its subscriber ends at the next push, the audience goes on.
    const loggedOut = await server().gql('mutation { logout }', {}, aSecond);
    expect(loggedOut.data?.logout).toBe(true);
    fixture.set('cortex_ingester_active_series', [{ labels: { user: a1.id }, value: 7 }]);
    let ended = '';
    const again = await tickCountingExecutions(async () => {
      ended = await aLapsing.next();
      texts = await Promise.all(aText.map((s) => s.next()));
      values = await Promise.all([...aClients, ...aSse].map((s) => s.next()));
    });
    expect(again).toBe(5);
    const error = JSON.parse(ended);
    expect(error.type).toBe('error');
    expect(error.payload[0].message).toMatch(/expired or revoked/);
    await aLapsing.ended;
    const next = payloadOf(texts[0]!);
    expect(JSON.parse(next).data.orgUsageUpdated.activeSeries).toBe(7);
    for (const text of texts) expect(payloadOf(text)).toBe(next);
    for (const v of values) expect(JSON.stringify(v)).toBe(next);
    await untilSubscribed(11);
  });

  it('answers a bad variable at subscribe time, as before, without registering anyone', async () => {
    const a = await signupOrg(server(), 'Sharing bad input');
    const before = server().app.services.usageFeed.subscriberCount;
    for (const subscribe of [subscribeWs, subscribeSse]) {
      const s = track(await subscribe(server().url, TENANT, {}, a.token));
      const answer = await s.next();
      expect(answer.data ?? null).toBeNull();
      expect(answer.errors[0].message).toMatch(/Variable "\$id" of required type "ID!"/);
      expect(answer.errors[0].extensions?.code).toBe('BAD_USER_INPUT');
    }
    expect(server().app.services.usageFeed.subscriberCount).toBe(before);
  });

  it("writes each clean result to its socket inside the feed's push, over graphql-ws and SSE", async () => {
    const a = await signupOrg(server(), 'Sharing direct');
    const before = server().app.services.usageFeed.subscriberCount;
    const ws = track(subscribeWsText(server().url, ORG, {}, a.token));
    const sse = track(await subscribeSse(server().url, ORG, {}, a.token));
    await untilSubscribed(before + 2);
    const stages: string[] = [];
    const onMessage = (m: unknown) => stages.push((m as LiveStageMessage).stage);
    listen(LIVE_STAGES, onMessage);
    try {
      clock.advance(60_000);
      expect(await server().app.usageSync.runTick()).toBe('synced');
      const [text, value] = await Promise.all([ws.next(), sse.next()]);
      expect(JSON.parse(payloadOf(text)).data.orgUsageUpdated).toBeDefined();
      expect(value.data.orgUsageUpdated).toBeDefined();
    } finally {
      unlisten(LIVE_STAGES, onMessage);
    }
    // Every subscriber of the feed was written to between its reads and the end of its push
    // loop: no promise, stream or plugin layer between the feed and the socket.
    const feed = stages.slice(stages.indexOf('feed-read'), stages.indexOf('feed-pushed') + 1);
    expect(feed.filter((stage) => stage === 'socket-written')).toHaveLength(before + 2);
    expect(stages.filter((stage) => stage === 'socket-written')).toHaveLength(before + 2);
  });
});
