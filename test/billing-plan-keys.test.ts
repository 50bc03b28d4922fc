import { describe, expect, it } from 'vitest';
import { useTestServer } from './helpers/app.ts';
import { auditMark, eventsAfter } from './helpers/audit.ts';
import { createTenant, PASSWORD, signupOrg, uniqueEmail } from './helpers/factories.ts';
import { guideSections, runShell } from './helpers/guide.ts';
import { restCall } from './helpers/rest.ts';

/** Billing off (no Stripe): training plan keys move the plan directly, as the guide expects. */
const KEY = 'TRAIN-SCALE-2026';
const server = useTestServer({ env: { BILLING_PLAN_KEYS: `scale=${KEY},scale=SPARE-SCALE-KEY` } });

const REDEEM = `mutation($k: String!) { redeemPlanKey(key: $k) {
  __typename
  ... on PlanKeyRedeemed { organisation { billingPlan } checkoutUrl }
  ... on Error { message }
  ... on ValidationError { field }
} }`;
const redeemRest = (token: string, body: unknown) =>
  restCall(server().url, 'POST', '/billing/redeem', { token, body: body as object });

describe("the guide's troubleshooting: 4th tenant on Free, the Scale plan key", () => {
  it('runs as a shell session: refused with the plan message, key redeemed, billing_plan scale, 4th created', async () => {
    const org = await signupOrg(server());
    const checkPlan = guideSections().get('check-plan')!;
    const script = `set -e
create() {
  curl -s -w '\\n%{http_code}\\n' -X POST $PORTAL_BASE/tenants \\
    -H "Authorization: Bearer $JWT_TOKEN" -H "Content-Type: application/json" \\
    -d "{\\"display_name\\": \\"Service $1\\", \\"environment\\": \\"prod\\"}"
}
for i in 1 2 3; do create $i | tail -1; done
create 4 | head -1 | jq -r '.error, .message'
curl -s -X POST $PORTAL_BASE/billing/redeem -H "Authorization: Bearer $JWT_TOKEN" \\
  -H "Content-Type: application/json" -d '{"key": "${KEY}"}' | jq -r .organisation.billing_plan
${checkPlan}
create 4 | tail -1
`;
    const result = await runShell(script, { PORTAL_BASE: server().url, JWT_TOKEN: org.token });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n')).toEqual([
      '201',
      '201',
      '201',
      'plan_limit_exceeded',
      'The free plan allows at most 3 tenants; change the plan to add more',
      'scale',
      '"scale"',
      '201',
    ]);
  });
});

describe('redeemPlanKey', () => {
  it('moves the plan once per key and organisation, audited in the same change', async () => {
    const org = await signupOrg(server());
    const mark = await auditMark(server());
    const res = await server().gql(REDEEM, { k: KEY }, org.token);
    expect(res.data.redeemPlanKey).toEqual({
      __typename: 'PlanKeyRedeemed',
      organisation: { billingPlan: 'scale' },
      checkoutUrl: null,
    });
    expect((await eventsAfter(server(), mark)).map((e) => e.action)).toEqual([
      'organisation.plan_key_redeemed',
      'organisation.plan_changed',
    ]);
    const again = await server().gql(REDEEM, { k: KEY }, org.token);
    expect(again.data.redeemPlanKey.__typename).toBe('ConflictError');
    expect(again.data.redeemPlanKey.message).toMatch(/redeemed this plan key already/);
    // Another organisation may use the same key.
    const other = await signupOrg(server());
    expect((await redeemRest(other.token, { key: KEY })).json.organisation.billing_plan).toBe(
      'scale',
    );
  });

  it('refuses bad input with clear errors: unknown key, wrong type, extra field, non-owner', async () => {
    const org = await signupOrg(server());
    const unknown = await redeemRest(org.token, { key: 'NOT-A-REAL-KEY' });
    expect(unknown.status).toBe(400);
    expect(unknown.json).toEqual({
      error: 'validation_error',
      field: 'key',
      message: 'key: is not a plan key of this server',
    });
    const gql = await server().gql(REDEEM, { k: 'nope' }, org.token);
    expect(gql.data.redeemPlanKey).toMatchObject({ __typename: 'ValidationError', field: 'key' });
    expect((await redeemRest(org.token, { key: 42 })).json.message).toBe('key: must be a string');
    expect((await redeemRest(org.token, { key: KEY, plan: 'scale' })).status).toBe(400);
    expect((await redeemRest(org.token, {})).status).toBe(400);

    const email = uniqueEmail('admin');
    await server().gql(
      'mutation($e: String!, $p: String!) { createUser(email: $e, password: $p, role: admin) { __typename } }',
      { e: email, p: PASSWORD },
      org.token,
    );
    const login = await restCall(server().url, 'POST', '/auth/login', {
      body: { email, password: PASSWORD },
    });
    const admin = await redeemRest(login.json.token, { key: KEY });
    expect(admin.status).toBe(403);
    const status = await restCall(server().url, 'GET', '/billing', { token: org.token });
    expect(status.json).toMatchObject({ billing_plan: 'free', stripe_configured: false });
  });

  it('throttles guessing like logins: the 11th wrong key in 15 minutes gets 429, another organisation is not held back', async () => {
    const org = await signupOrg(server());
    for (let i = 0; i < 10; i++) {
      expect((await redeemRest(org.token, { key: `GUESS-${i}-XXXX` })).status).toBe(400);
    }
    const limited = await redeemRest(org.token, { key: KEY });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(limited.json.message).toMatch(/^Too many wrong plan keys; try again in \d+ s$/);
    // Another organisation is not held back.
    const other = await signupOrg(server());
    expect((await redeemRest(other.token, { key: KEY })).status).toBe(200);
  });

  it('two concurrent redemptions of one key by one organisation: exactly one applies', async () => {
    const org = await signupOrg(server());
    const mark = await auditMark(server());
    const replies = await Promise.all(
      [1, 2, 3].map(() => redeemRest(org.token, { key: 'SPARE-SCALE-KEY' })),
    );
    expect(replies.map((r) => r.status).sort()).toEqual([200, 409, 409]);
    const actions = (await eventsAfter(server(), mark)).map((e) => e.action);
    expect(actions.filter((a) => a === 'organisation.plan_key_redeemed')).toHaveLength(1);
    expect(actions.filter((a) => a === 'organisation.plan_changed')).toHaveLength(1);
  });
});

describe('limits in the org summary and GraphQL', () => {
  it('shows used, max, percent and the month-end projection per limit', async () => {
    const org = await signupOrg(server());
    await createTenant(server(), org.token, { displayName: 'One' });
    await createTenant(server(), org.token, { displayName: 'Two' });
    const summary = await restCall(server().url, 'GET', '/dashboard/org/summary', {
      token: org.token,
    });
    expect(summary.json.limits).toEqual([
      { limit: 'tenants', used: 2, max: 3, percent: 66.7, projected: null },
      { limit: 'api_keys_per_tenant', used: 0, max: 5, percent: 0, projected: null },
      { limit: 'active_series', used: 0, max: 10_000, percent: 0, projected: null },
      { limit: 'logs_gb_this_month', used: 0, max: 50, percent: 0, projected: expect.any(Number) },
    ]);
    const gql = await server().gql(
      '{ billing { plan limits { limit used max percent projected } } }',
      {},
      org.token,
    );
    expect(gql.data.billing.plan).toBe('free');
    expect(gql.data.billing.limits[0]).toEqual({
      limit: 'tenants',
      used: 2,
      max: 3,
      percent: 66.7,
      projected: null,
    });
  });
});
