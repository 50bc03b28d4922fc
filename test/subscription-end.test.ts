import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/lib/clock.ts';
import { useTestServer } from './helpers/app.ts';
import { createTenant, PASSWORD, signupOrg } from './helpers/factories.ts';
import { type Subscription, subscribeWs } from './helpers/subscriptions.ts';

/**
 * The README: a password change ends every earlier session, live subscriptions included. Over
 * graphql-ws, the usage feed re-checks each subscriber's token at the next push and ends the
 * ones issued before the change; a subscription opened with the new token lives on.
 */
const clock = new ManualClock(new Date('2026-06-18T10:00:30Z'));
const server = useTestServer({ overrides: { clock } });

const ORG = 'subscription { orgUsageUpdated { activeSeries } }';
const TENANT =
  'subscription($id: ID!) { tenantUsageUpdated(tenantId: $id) { tenantId activeSeries } }';

const open: Subscription[] = [];
afterAll(() => {
  for (const s of open) s.close();
});

async function subscribe(query: string, variables: object, token: string) {
  const s = await subscribeWs(server().url, query, variables, token);
  open.push(s);
  return s;
}

// The test ticks by hand: the sync's own timer must not take a tick first.
beforeAll(() => server().app.usageSync.stop());

async function tick() {
  clock.advance(60_000);
  return server().app.usageSync.runTick();
}

/** The feed registers subscribers asynchronously: wait until it holds `count`. */
async function untilSubscribed(count: number) {
  for (let i = 0; i < 500 && server().app.services.usageFeed.subscriberCount < count; i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  expect(server().app.services.usageFeed.subscriberCount).toBeGreaterThanOrEqual(count);
}

async function login(email: string, password: string): Promise<string> {
  const res = await server().gql(
    `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { ... on AuthPayload { token } } }`,
    { e: email, p: password },
  );
  const token = res.data?.login?.token;
  if (!token) throw new Error(`login failed: ${JSON.stringify(res)}`);
  return token;
}

describe('a password change ends the live subscriptions of earlier tokens', () => {
  it('ends org and tenant subscriptions of every earlier session; the new token keeps its own', async () => {
    const org = await signupOrg(server(), 'Password Sub Org');
    const tenant = await createTenant(server(), org.token);
    const otherSession = await login(org.email, PASSWORD);
    const bystander = await signupOrg(server(), 'Bystander Org');

    const before = server().app.services.usageFeed.subscriberCount;
    const orgSub = await subscribe(ORG, {}, org.token);
    const tenantSub = await subscribe(TENANT, { id: tenant.id }, otherSession);
    const bystanderSub = await subscribe(ORG, {}, bystander.token);
    await untilSubscribed(before + 3);
    expect(await tick()).toBe('no-source');
    expect((await orgSub.next()).data.orgUsageUpdated).toEqual({ activeSeries: 0 });
    expect((await tenantSub.next()).data.tenantUsageUpdated.tenantId).toBe(tenant.id);
    expect((await bystanderSub.next()).data.orgUsageUpdated).toBeDefined();

    const changed = await server().gql(
      `mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) {
        __typename ... on AuthPayload { token } } }`,
      { c: PASSWORD, n: 'Another-Horse-10' },
      org.token,
    );
    expect(changed.data.changePassword.__typename).toBe('AuthPayload');
    const fresh = await subscribe(ORG, {}, changed.data.changePassword.token);
    await untilSubscribed(before + 4);

    expect(await tick()).toBe('no-source');
    for (const ended of [orgSub, tenantSub]) {
      const last = await ended.next();
      expect(last.data ?? null).toBeNull();
      expect(last.errors?.[0]?.message).toMatch(/expired or revoked/);
      await ended.ended;
    }
    expect((await fresh.next()).data.orgUsageUpdated).toEqual({ activeSeries: 0 });
    expect((await bystanderSub.next()).data.orgUsageUpdated).toBeDefined();

    // The ended ones are gone from the feed; the others still get the next push.
    expect(server().app.services.usageFeed.subscriberCount).toBe(before + 2);
    expect(await tick()).toBe('no-source');
    expect((await fresh.next()).data.orgUsageUpdated).toBeDefined();
    expect((await bystanderSub.next()).data.orgUsageUpdated).toBeDefined();

    // A new subscription with the old token is refused at once.
    const stale = await subscribe(ORG, {}, org.token);
    const refused = await stale.next();
    expect(refused.data ?? null).toBeNull();
    expect(refused.errors?.[0]?.extensions?.code ?? refused.errors?.[0]?.message).toMatch(
      /UNAUTHENTICATED|expired|revoked|log in/i,
    );
  });
});
