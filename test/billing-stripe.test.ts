import { randomBytes } from 'node:crypto';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, useTestServer } from './helpers/app.ts';
import { auditMark, eventsAfter } from './helpers/audit.ts';
import { createTenant, signupOrg, type TestOrg } from './helpers/factories.ts';
import { restCall } from './helpers/rest.ts';
import { StripeFixture } from './helpers/stripe-fixture.ts';

/**
 * Stripe billing on: webhooks signed with the stripe package's own generateTestHeaderString
 * and verified by the server's constructEvent; Checkout and the portal against a local
 * fixture that records what the official client sent.
 */
const WEBHOOK_SECRET = 'whsec_test_fixture_secret';
const signer = new Stripe('sk_test_signer');
const fixture = new StripeFixture();
const RETURN_URL = 'https://portal.example.test/billing';

beforeAll(async () => {
  fixture.prices.set('scale_monthly', 'price_scale_1');
  fixture.promotionCodes.set('TRAIN-SCALE-2026', 'promo_train_1');
  fixtureUrl = await fixture.start();
});
afterAll(() => fixture.stop());
let fixtureUrl = '';

const server = useTestServer({
  env: () => ({
    STRIPE_SECRET_KEY: 'sk_test_fixture',
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    STRIPE_PRICE_SCALE: 'scale_monthly',
    STRIPE_API_URL: fixtureUrl,
    BILLING_RETURN_URL: RETURN_URL,
    BILLING_PLAN_KEYS: 'scale=TRAIN-SCALE-2026',
  }),
});

interface Org extends TestOrg {
  id: string;
}
async function newOrg(s: TestServer): Promise<Org> {
  const org = await signupOrg(s);
  const res = await s.gql('{ organisation { id } }', {}, org.token);
  return { ...org, id: res.data.organisation.id };
}

const plan = async (org: Org) =>
  (await server().gql('{ organisation { billingPlan } }', {}, org.token)).data.organisation
    .billingPlan as string;

let seq = 0;
const nowS = () => Math.floor(Date.now() / 1000);
function event(type: string, object: object, created = nowS()) {
  return {
    id: `evt_${randomBytes(6).toString('hex')}_${++seq}`,
    object: 'event',
    type,
    created,
    data: { object },
  };
}
function subscription(org: Org, status: string, id = `sub_${org.id}`) {
  return {
    id,
    object: 'subscription',
    customer: `cus_${org.id}`,
    status,
    metadata: { organisation_id: org.id, plan: 'scale' },
    items: {
      object: 'list',
      data: [
        {
          id: 'si_1',
          price: { id: 'price_scale_1', lookup_key: 'scale_monthly' },
          current_period_end: nowS() + 86_400,
        },
      ],
    },
  };
}
const completed = (org: Org) => ({
  id: `cs_${org.id}`,
  object: 'checkout.session',
  mode: 'subscription',
  client_reference_id: org.id,
  customer: `cus_${org.id}`,
  subscription: `sub_${org.id}`,
  payment_status: 'paid',
  metadata: { organisation_id: org.id, plan: 'scale' },
});

async function deliver(
  payload: string,
  header: string | null = signer.webhooks.generateTestHeaderString({
    payload,
    secret: WEBHOOK_SECRET,
  }),
) {
  return restCall(server().url, 'POST', '/billing/stripe/webhook', {
    body: payload,
    headers: header === null ? {} : { 'stripe-signature': header },
  });
}
const send = (e: object) => deliver(JSON.stringify(e));

describe('Stripe webhook signature', () => {
  it('accepts a valid signature and refuses tampered, wrong-secret, stale and missing ones with 400, changing nothing', async () => {
    const org = await newOrg(server());
    const payload = JSON.stringify(event('checkout.session.completed', completed(org)));
    const header = signer.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
    const mark = await auditMark(server());

    const tampered = await deliver(payload.replace('"paid"', '"paid" '), header);
    expect(tampered.status).toBe(400);
    expect(tampered.json).toMatchObject({ error: 'validation_error', field: 'stripe-signature' });
    expect(tampered.json.message).toMatch(/No signatures found matching the expected signature/);

    const wrongSecret = signer.webhooks.generateTestHeaderString({
      payload,
      secret: 'whsec_other',
    });
    expect((await deliver(payload, wrongSecret)).status).toBe(400);

    const stale = signer.webhooks.generateTestHeaderString({
      payload,
      secret: WEBHOOK_SECRET,
      timestamp: nowS() - 301,
    });
    const staleReply = await deliver(payload, stale);
    expect(staleReply.status).toBe(400);
    expect(staleReply.json.message).toMatch(/tolerance/i);

    const missing = await deliver(payload, null);
    expect(missing.status).toBe(400);
    expect(missing.json.message).toBe('stripe-signature: header missing');

    expect(await plan(org)).toBe('free');
    expect(await eventsAfter(server(), mark)).toEqual([]);

    const ok = await deliver(payload, header);
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({ received: true, outcome: 'applied' });
    expect(await plan(org)).toBe('scale');
  });

  it('refuses a validly signed body that is no event with 400 naming it', async () => {
    const reply = await deliver(
      JSON.stringify({ id: 'evt_x', object: 'event', type: 'invoice.payment_failed' }),
    );
    expect(reply.status).toBe(400);
    expect(reply.json.message).toMatch(/^body: is not a Stripe event/);
  });

  it('refuses a body over 512 KiB with 413 before reading it as an event', async () => {
    const huge = JSON.stringify({ id: 'evt_huge', pad: 'x'.repeat(600 * 1024) });
    const reply = await deliver(huge);
    expect(reply.status).toBe(413);
    expect(reply.json.error).toBe('payload_too_large');
  });

  it('acknowledges an unknown event type with 200 and changes nothing', async () => {
    const org = await newOrg(server());
    const mark = await auditMark(server());
    const reply = await send(
      event('customer.created', { id: `cus_${org.id}`, object: 'customer' }),
    );
    expect(reply.status).toBe(200);
    expect(reply.json.outcome).toBe('ignored');
    expect(await plan(org)).toBe('free');
    expect(await eventsAfter(server(), mark)).toEqual([]);
  });
});

describe('Stripe webhook events', () => {
  it('checkout.session.completed moves the plan once: a replay is a duplicate, audited once', async () => {
    const org = await newOrg(server());
    const mark = await auditMark(server());
    const e = event('checkout.session.completed', completed(org));
    expect((await send(e)).json.outcome).toBe('applied');
    expect((await send(e)).json.outcome).toBe('duplicate');
    expect(await plan(org)).toBe('scale');
    const audit = await eventsAfter(server(), mark);
    expect(audit.map((a) => [a.action, a.organisationId, a.actorId])).toEqual([
      ['organisation.plan_changed', org.id, null],
    ]);
    const status = await restCall(server().url, 'GET', '/billing', { token: org.token });
    expect(status.json).toEqual({
      stripe_configured: true,
      billing_plan: 'scale',
      has_stripe_customer: true,
      plan_keys_enabled: true,
    });
  });

  it('subscription created/updated/deleted: active pays, past_due keeps, unpaid and deleted go to free', async () => {
    const org = await newOrg(server());
    const t = nowS() - 100;
    const mark = await auditMark(server());
    await send(event('customer.subscription.created', subscription(org, 'active'), t));
    expect(await plan(org)).toBe('scale');
    await send(event('customer.subscription.updated', subscription(org, 'past_due'), t + 1));
    expect(await plan(org)).toBe('scale');
    await send(
      event(
        'invoice.payment_failed',
        { id: 'in_1', object: 'invoice', customer: `cus_${org.id}` },
        t + 2,
      ),
    );
    expect(await plan(org)).toBe('scale');
    await send(event('customer.subscription.updated', subscription(org, 'unpaid'), t + 3));
    expect(await plan(org)).toBe('free');
    await send(event('customer.subscription.updated', subscription(org, 'active'), t + 4));
    expect(await plan(org)).toBe('scale');
    await send(event('customer.subscription.updated', subscription(org, 'canceled'), t + 5));
    expect(await plan(org)).toBe('free');

    const org2 = await newOrg(server());
    await send(event('customer.subscription.created', subscription(org2, 'active'), t));
    await send(event('customer.subscription.deleted', subscription(org2, 'canceled'), t + 1));
    expect(await plan(org2)).toBe('free');

    const audit = (await eventsAfter(server(), mark)).filter((a) => a.organisationId === org.id);
    expect(audit.map((a) => [a.action, a.outcome])).toEqual([
      ['organisation.plan_changed', 'success'],
      ['organisation.payment_failed', 'failure'],
      ['organisation.plan_changed', 'success'],
      ['organisation.plan_changed', 'success'],
      ['organisation.plan_changed', 'success'],
    ]);
  });

  it('an out-of-order pair never moves the plan backwards; deletion is terminal', async () => {
    const org = await newOrg(server());
    const t = nowS() - 100;
    const older = event('customer.subscription.updated', subscription(org, 'active'), t);
    const newer = event('customer.subscription.deleted', subscription(org, 'canceled'), t + 10);
    await send(event('customer.subscription.created', subscription(org, 'active'), t - 10));
    expect((await send(newer)).json.outcome).toBe('applied');
    expect((await send(older)).json.outcome).toBe('stale');
    expect(await plan(org)).toBe('free');
    // A later event of the deleted subscription does not bring it back either.
    const late = event('customer.subscription.updated', subscription(org, 'active'), t + 20);
    expect((await send(late)).json.outcome).toBe('stale');
    expect(await plan(org)).toBe('free');
  });

  it('a downgrade over the limit keeps every tenant, refuses new ones and says so', async () => {
    const org = await newOrg(server());
    await send(event('customer.subscription.created', subscription(org, 'active'), nowS() - 50));
    for (let i = 0; i < 4; i++) await createTenant(server(), org.token, { displayName: `T ${i}` });
    await send(event('customer.subscription.deleted', subscription(org, 'canceled')));
    expect(await plan(org)).toBe('free');
    const list = await restCall(server().url, 'GET', '/tenants', { token: org.token });
    expect(list.json.length ?? list.json.tenants?.length).toBe(4);
    const refused = await restCall(server().url, 'POST', '/tenants', {
      token: org.token,
      body: { display_name: 'Fifth', environment: 'prod' },
    });
    expect(refused.status).toBe(402);
    expect(refused.json).toMatchObject({ error: 'plan_limit_exceeded', max: 3, used: 4 });
    expect(refused.json.message).toContain('over the limit');
    expect(refused.json.message).toContain('no more can be created until it fits');
    const limits = await restCall(server().url, 'GET', '/billing/limits', { token: org.token });
    expect(limits.json[0]).toEqual({
      limit: 'tenants',
      used: 4,
      max: 3,
      percent: 133.3,
      projected: null,
    });
  });
});

describe('Checkout and the Customer Portal (fixture Stripe)', () => {
  it('startCheckout sends subscription mode, the price, client_reference_id and the return URLs', async () => {
    const org = await newOrg(server());
    const before = fixture.requests.length;
    const res = await server().gql(
      'mutation { startCheckout(plan: scale) { __typename ... on BillingUrl { url } ... on Error { message } } }',
      {},
      org.token,
    );
    expect(res.data.startCheckout).toEqual({
      __typename: 'BillingUrl',
      url: expect.stringMatching(/^https:\/\/checkout\.stripe\.test\//),
    });
    const sent = fixture.requests.slice(before);
    // The lookup key is resolved once, then remembered.
    expect(sent.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /v1/prices',
      'POST /v1/checkout/sessions',
    ]);
    expect(sent[0]!.query['lookup_keys[0]']).toBe('scale_monthly');
    expect(sent[1]!.authorization).toBe('Bearer sk_test_fixture');
    expect(sent[1]!.form).toMatchObject({
      mode: 'subscription',
      'line_items[0][price]': 'price_scale_1',
      'line_items[0][quantity]': '1',
      client_reference_id: org.id,
      allow_promotion_codes: 'true',
      success_url: `${RETURN_URL}?checkout=success&session_id={CHECKOUT_SESSION_ID}`,
      cancel_url: `${RETURN_URL}?checkout=cancelled`,
      'metadata[organisation_id]': org.id,
      'subscription_data[metadata][plan]': 'scale',
    });

    const rest = await restCall(server().url, 'POST', '/billing/checkout', {
      token: org.token,
      body: { plan: 'scale' },
    });
    expect(rest.status).toBe(200);
    expect(fixture.requests.slice(-1)[0]!.path).toBe('/v1/checkout/sessions');
    const free = await restCall(server().url, 'POST', '/billing/checkout', {
      token: org.token,
      body: { plan: 'free' },
    });
    expect(free.status).toBe(400);
    expect(free.json.message).toBe('plan: must be a paid plan: scale');
  });

  it('billingPortalUrl needs a customer first, then opens the portal for it', async () => {
    const org = await newOrg(server());
    const none = await restCall(server().url, 'POST', '/billing/portal', { token: org.token });
    expect(none.status).toBe(409);
    expect(none.json.message).toMatch(/no Stripe subscription yet/);
    await send(event('checkout.session.completed', completed(org)));
    const res = await server().gql(
      'mutation { billingPortalUrl { __typename ... on BillingUrl { url } ... on Error { message } } }',
      {},
      org.token,
    );
    expect(res.data.billingPortalUrl.url).toMatch(/^https:\/\/billing\.stripe\.test\//);
    expect(fixture.requests.slice(-1)[0]!.form).toEqual({
      customer: `cus_${org.id}`,
      return_url: RETURN_URL,
    });
  });

  it('a Stripe failure is a 503 with a generic message; changePlan is refused while Stripe bills', async () => {
    const org = await newOrg(server());
    fixture.failWith = 500;
    try {
      const res = await restCall(server().url, 'POST', '/billing/checkout', {
        token: org.token,
        body: { plan: 'scale' },
      });
      expect(res.status).toBe(503);
      expect(res.json.message).toBe(
        'Stripe could not start a checkout just now; try again shortly',
      );
    } finally {
      fixture.failWith = undefined;
    }
    const change = await server().gql(
      'mutation { changePlan(plan: scale) { __typename ... on Error { message } } }',
      {},
      org.token,
    );
    expect(change.data.changePlan.__typename).toBe('ConflictError');
    expect(change.data.changePlan.message).toMatch(/Plans are managed by Stripe on this server/);
    expect(await plan(org)).toBe('free');
  });

  it('a plan key names a Stripe promotion code: Checkout with it applied, once per organisation', async () => {
    const org = await newOrg(server());
    const res = await restCall(server().url, 'POST', '/billing/redeem', {
      token: org.token,
      body: { key: 'TRAIN-SCALE-2026' },
    });
    expect(res.status).toBe(200);
    expect(res.json.checkout_url).toMatch(/^https:\/\/checkout\.stripe\.test\//);
    expect(res.json.organisation.billing_plan).toBe('free');
    const sent = fixture.requests.slice(-2);
    expect(sent[0]!.query).toMatchObject({ code: 'TRAIN-SCALE-2026', active: 'true' });
    expect(sent[1]!.form['discounts[0][promotion_code]']).toBe('promo_train_1');
    expect(sent[1]!.form.allow_promotion_codes).toBeUndefined();
    const again = await restCall(server().url, 'POST', '/billing/redeem', {
      token: org.token,
      body: { key: 'TRAIN-SCALE-2026' },
    });
    expect(again.status).toBe(409);
  });
});
