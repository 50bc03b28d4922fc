import { and, count, eq, ne } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { tenants, users } from '../src/db/schema.ts';
import { useTestServer } from './helpers/app.ts';
import {
  createTenant,
  PASSWORD,
  signupOrg,
  type TestOrg,
  uniqueEmail,
} from './helpers/factories.ts';

const server = useTestServer();

const CREATE = `mutation($n: String!) { createTenant(displayName: $n, environment: dev) {
  __typename ... on Tenant { id } ... on PlanLimitExceededError { plan limit max message } } }`;

const createAs = (token: string, name = 'Limited Tenant') =>
  server().gql(CREATE, { n: name }, token);

/** Live (not deleted) tenants of the organisation, read straight from the database. */
async function liveTenantsInDb(org: TestOrg): Promise<number> {
  const [user] = await server()
    .database.db.select({ org: users.organisationId })
    .from(users)
    .where(eq(users.id, org.userId));
  const [row] = await server()
    .database.db.select({ n: count() })
    .from(tenants)
    .where(and(eq(tenants.organisationId, user!.org), ne(tenants.status, 'deleted')));
  return row!.n;
}

async function listedTenants(org: TestOrg): Promise<string[]> {
  const res = await server().gql(
    `{ tenants(first: 100) { edges { node { id } } } }`,
    {},
    org.token,
  );
  return res.data.tenants.edges.map((e: any) => e.node.id);
}

const changePlan = (token: string, plan: string) =>
  server().gql(
    `mutation($p: BillingPlan!) { changePlan(plan: $p) {
      __typename ... on Organisation { billingPlan planLimits { maxTenants maxActiveSeries } }
      ... on PlanLimitExceededError { plan limit max message } } }`,
    { p: plan },
    token,
  );

describe('free plan', () => {
  it('allows 3 tenants and refuses the 4th with a typed error', async () => {
    const org = await signupOrg(server());
    const plan = await server().gql(
      `{ organisation { billingPlan planLimits { maxTenants } } }`,
      {},
      org.token,
    );
    expect(plan.data.organisation).toEqual({ billingPlan: 'free', planLimits: { maxTenants: 3 } });
    for (let i = 0; i < 3; i++)
      expect((await createAs(org.token)).data.createTenant.__typename).toBe('Tenant');

    const fourth = await createAs(org.token);
    expect(fourth.status).toBe(200);
    expect(fourth.errors).toBeUndefined();
    expect(fourth.data.createTenant).toMatchObject({
      __typename: 'PlanLimitExceededError',
      plan: 'free',
      limit: 'tenants',
      max: 3,
    });
    expect(fourth.data.createTenant.message).toMatch(/free.*3/);
    expect(await liveTenantsInDb(org)).toBe(3);
  });

  it('is race-free: 20 concurrent creates on an org with 2 tenants leave exactly 3', async () => {
    const org = await signupOrg(server());
    await createTenant(server(), org.token, { displayName: 'Existing One' });
    const second = await createTenant(server(), org.token, { displayName: 'Existing Two' });

    // A race may go unnoticed once, so run it a few times: after each round one tenant is
    // deleted again, which brings the org back to 2 live tenants.
    let spare = second.id;
    for (let round = 0; round < 3; round++) {
      // Real, simultaneous HTTP requests: every one is in flight before any answer is read.
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => createAs(org.token, `Racer ${round}-${i}`)),
      );
      for (const r of results) {
        expect(r.status).toBe(200);
        expect(r.errors).toBeUndefined();
      }
      const kinds = results.map((r) => r.data.createTenant.__typename);
      expect(kinds.filter((k) => k === 'Tenant')).toHaveLength(1);
      expect(kinds.filter((k) => k === 'PlanLimitExceededError')).toHaveLength(19);
      expect(await liveTenantsInDb(org)).toBe(3);
      expect(await listedTenants(org)).toHaveLength(3);

      await server().gql(
        `mutation($id: ID!) { deleteTenant(id: $id) { __typename } }`,
        { id: spare },
        org.token,
      );
      spare = results.find((r) => r.data.createTenant.__typename === 'Tenant')!.data.createTenant
        .id;
    }
  });

  it('does not count deleted tenants', async () => {
    const org = await signupOrg(server());
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await createTenant(server(), org.token)).id);
    expect((await createAs(org.token)).data.createTenant.__typename).toBe('PlanLimitExceededError');

    const del = await server().gql(
      `mutation($id: ID!) { deleteTenant(id: $id) { __typename } }`,
      { id: ids[0] },
      org.token,
    );
    expect(del.data.deleteTenant.__typename).toBe('DeleteTenantPayload');
    const replacement = await createAs(org.token);
    expect(replacement.data.createTenant.__typename).toBe('Tenant');
    expect(await liveTenantsInDb(org)).toBe(3);
    // Suspended tenants are live: they still count.
    await server().gql(
      `mutation($id: ID!) { suspendTenant(id: $id) { __typename } }`,
      { id: ids[1] },
      org.token,
    );
    expect((await createAs(org.token)).data.createTenant.__typename).toBe('PlanLimitExceededError');
  });
});

describe('changePlan', () => {
  it('is for owners only: an admin gets FORBIDDEN and the plan stays', async () => {
    const org = await signupOrg(server());
    const email = uniqueEmail('admin');
    await server().gql(
      `mutation($e: String!, $p: String!) { createUser(email: $e, password: $p, role: admin) { __typename } }`,
      { e: email, p: PASSWORD },
      org.token,
    );
    const login = await server().gql(
      `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { ... on AuthPayload { token } } }`,
      { e: email, p: PASSWORD },
    );
    const res = await changePlan(login.data.login.token, 'scale');
    expect(res.data?.changePlan ?? null).toBeNull();
    expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const plan = await server().gql(`{ organisation { billingPlan } }`, {}, org.token);
    expect(plan.data.organisation.billingPlan).toBe('free');
  });

  it('scale lifts the limit; downgrading with more than 3 tenants is refused', async () => {
    const org = await signupOrg(server());
    for (let i = 0; i < 3; i++) await createTenant(server(), org.token);
    expect((await createAs(org.token)).data.createTenant.__typename).toBe('PlanLimitExceededError');

    const up = await changePlan(org.token, 'scale');
    expect(up.data.changePlan).toEqual({
      __typename: 'Organisation',
      billingPlan: 'scale',
      planLimits: { maxTenants: expect.any(Number), maxActiveSeries: 20_000 },
    });
    expect(up.data.changePlan.planLimits.maxTenants).toBeGreaterThan(4);
    expect((await createAs(org.token)).data.createTenant.__typename).toBe('Tenant');
    expect((await createAs(org.token)).data.createTenant.__typename).toBe('Tenant');
    expect(await liveTenantsInDb(org)).toBe(5);

    const down = await changePlan(org.token, 'free');
    expect(down.data.changePlan).toMatchObject({
      __typename: 'PlanLimitExceededError',
      plan: 'free',
      limit: 'tenants',
      max: 3,
    });
    const plan = await server().gql(`{ organisation { billingPlan } }`, {}, org.token);
    expect(plan.data.organisation.billingPlan).toBe('scale');

    // Down to 3 live tenants, the downgrade fits.
    const ids = await listedTenants(org);
    for (const id of ids.slice(0, 2)) {
      await server().gql(
        `mutation($id: ID!) { deleteTenant(id: $id) { __typename } }`,
        { id },
        org.token,
      );
    }
    const fits = await changePlan(org.token, 'free');
    expect(fits.data.changePlan.billingPlan).toBe('free');
    expect((await createAs(org.token)).data.createTenant.__typename).toBe('PlanLimitExceededError');
  });

  it('rejects an unknown plan at the schema level', async () => {
    const org = await signupOrg(server());
    const res = await changePlan(org.token, 'enterprise');
    expect(res.status).toBeLessThan(500);
    expect(res.errors?.[0]?.message).toMatch(/enterprise/);
  });
});
