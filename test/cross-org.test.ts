import { beforeAll, describe, expect, it } from 'vitest';
import { useTestServer } from './helpers/app.ts';
import {
  createApiKey,
  createTenant,
  PASSWORD,
  signupOrg,
  type TestOrg,
  uniqueEmail,
} from './helpers/factories.ts';

const server = useTestServer();

const TENANT_FIELDS = 'id displayName environment status updatedAt';
const KEY_FIELDS = 'id displayName prefix scopes revokedAt expiresAt';

/** Org A (owner, admin, viewer; one tenant with one key) and org B (owner, one tenant). */
let a: TestOrg;
let b: TestOrg;
let adminA: { id: string; token: string };
let viewerA: { id: string; token: string };
let tenantA: string;
let keyA: string;
let tenantB: string;

async function addUser(owner: TestOrg, role: string) {
  const email = uniqueEmail(role);
  const created = await server().gql(
    `mutation($e: String!, $p: String!, $r: Role!) { createUser(email: $e, password: $p, role: $r) {
      __typename ... on User { id } } }`,
    { e: email, p: PASSWORD, r: role },
    owner.token,
  );
  const login = await server().gql(
    `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { ... on AuthPayload { token } } }`,
    { e: email, p: PASSWORD },
  );
  return { id: created.data.createUser.id as string, token: login.data.login.token as string };
}

/** Everything A owns, read as A: compared before and after each attack. */
async function snapshotA() {
  const res = await server().gql(
    `query($t: ID!) {
      tenants { edges { node { ${TENANT_FIELDS} apiKeys { ${KEY_FIELDS} } } } }
      apiKeys(tenantId: $t) { ... on QueryApiKeysSuccess { data { ${KEY_FIELDS} } } }
      organisation { billingPlan users { id email role } }
    }`,
    { t: tenantA },
    a.token,
  );
  expect(res.errors).toBeUndefined();
  return res.data;
}

beforeAll(async () => {
  a = await signupOrg(server(), 'Org A');
  b = await signupOrg(server(), 'Org B');
  adminA = await addUser(a, 'admin');
  viewerA = await addUser(a, 'viewer');
  tenantA = (await createTenant(server(), a.token, { displayName: 'Alpha Payments' })).id;
  keyA = (await createApiKey(server(), a.token, tenantA)).id;
  tenantB = (await createTenant(server(), b.token, { displayName: 'Bravo Search' })).id;
});

/** Every operation taking a tenant or key ID: [field, operation type, arguments, whose ID]. */
const byId: [string, 'query' | 'mutation', string, 'tenant' | 'key'][] = [
  ['tenant', 'query', 'id: $id', 'tenant'],
  ['apiKeys', 'query', 'tenantId: $id', 'tenant'],
  ['updateTenant', 'mutation', 'id: $id, displayName: "Owned by B", environment: dev', 'tenant'],
  ['suspendTenant', 'mutation', 'id: $id', 'tenant'],
  ['resumeTenant', 'mutation', 'id: $id', 'tenant'],
  ['deleteTenant', 'mutation', 'id: $id', 'tenant'],
  ['createApiKey', 'mutation', 'tenantId: $id, displayName: "stolen"', 'tenant'],
  ['revokeApiKey', 'mutation', 'id: $id', 'key'],
  ['rollApiKey', 'mutation', 'id: $id, gracePeriodSeconds: 0', 'key'],
];

describe("another organisation's IDs", () => {
  it.each(byId)(
    '%s with org B token: not found, nothing changes',
    async (name, type, args, whose) => {
      const before = await snapshotA();
      const id = whose === 'tenant' ? tenantA : keyA;
      const query = `${type}($id: ID!) { ${name}(${args}) { __typename ... on NotFoundError { resource id } } }`;
      const res = await server().gql(query, { id }, b.token);
      expect(res.status).toBe(200);
      expect(res.errors).toBeUndefined();
      expect(res.data[name]).toEqual({
        __typename: 'NotFoundError',
        resource: whose === 'tenant' ? 'Tenant' : 'ApiKey',
        id,
      });
      expect(await snapshotA()).toEqual(before);
    },
  );

  it('nested tenants listing of org B shows only B', async () => {
    const res = await server().gql(
      `{ tenants(first: 100) { edges { node { id displayName apiKeys { id tenantId } } } } }`,
      {},
      b.token,
    );
    const ids = res.data.tenants.edges.map((e: any) => e.node.id);
    expect(ids).toEqual([tenantB]);
    const text = JSON.stringify(res.data);
    expect(text).not.toContain(tenantA);
    expect(text).not.toContain(keyA);
    // A filtered listing cannot reach A either.
    const prod = await server().gql(
      `{ tenants(environment: prod) { edges { node { id } } } }`,
      {},
      b.token,
    );
    expect(prod.data.tenants.edges.map((e: any) => e.node.id)).toEqual([tenantB]);
  });

  it("removeUser with another organisation's user: not found, user stays", async () => {
    const before = await snapshotA();
    const res = await server().gql(
      `mutation($id: ID!) { removeUser(id: $id) { __typename ... on NotFoundError { resource id } } }`,
      { id: viewerA.id },
      b.token,
    );
    expect(res.data.removeUser).toEqual({
      __typename: 'NotFoundError',
      resource: 'User',
      id: viewerA.id,
    });
    expect(await snapshotA()).toEqual(before);
    const me = await server().gql(`{ me { id } }`, {}, viewerA.token);
    expect(me.data.me.id).toBe(viewerA.id);
  });

  it('the owner of A still sees everything intact', async () => {
    const snap = await snapshotA();
    const [tenant] = snap.tenants.edges.map((e: any) => e.node);
    expect(tenant).toMatchObject({
      id: tenantA,
      displayName: 'Alpha Payments',
      environment: 'prod',
      status: 'active',
    });
    expect(tenant.apiKeys).toHaveLength(1);
    expect(tenant.apiKeys[0]).toMatchObject({ id: keyA, revokedAt: null });
  });
});

describe('viewer role', () => {
  it('can read tenants, apiKeys and the organisation', async () => {
    const res = await server().gql(
      `query($t: ID!) {
        tenants { edges { node { id apiKeys { id } } } }
        tenant(id: $t) { __typename }
        apiKeys(tenantId: $t) { ... on QueryApiKeysSuccess { data { id } } }
        organisation { name billingPlan users { id role } }
        me { role }
      }`,
      { t: tenantA },
      viewerA.token,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.tenants.edges[0].node).toEqual({ id: tenantA, apiKeys: [{ id: keyA }] });
    expect(res.data.tenant.__typename).toBe('Tenant');
    expect(res.data.apiKeys.data).toEqual([{ id: keyA }]);
    expect(res.data.organisation.name).toBe('Org A');
    expect(res.data.me.role).toBe('viewer');
  });

  /** Every mutation with arguments aimed at A's own objects ($t tenant, $k key, $u user). */
  const mutations: [string, string][] = [
    ['createTenant', 'displayName: "Viewer Made", environment: dev'],
    ['updateTenant', 'id: $t, displayName: "Viewer Renamed"'],
    ['suspendTenant', 'id: $t'],
    ['resumeTenant', 'id: $t'],
    ['deleteTenant', 'id: $t'],
    ['createApiKey', 'tenantId: $t, displayName: "viewer key"'],
    ['revokeApiKey', 'id: $k'],
    ['rollApiKey', 'id: $k, gracePeriodSeconds: 0'],
    ['createUser', 'email: $e, password: "Long-Enough-123", role: viewer'],
    ['removeUser', 'id: $u'],
    ['changePlan', 'plan: scale'],
  ];
  const varTypes = { t: 'ID!', k: 'ID!', u: 'ID!', e: 'String!' };

  it.each(mutations)('%s is FORBIDDEN and changes nothing', async (name, args) => {
    const before = await snapshotA();
    const used = Object.entries(varTypes).filter(([v]) => args.includes(`$${v}`));
    const decl = used.length ? `(${used.map(([v, type]) => `$${v}: ${type}`).join(', ')})` : '';
    const vars = { t: tenantA, k: keyA, u: adminA.id, e: uniqueEmail('by-viewer') };
    const res = await server().gql(
      `mutation${decl} { ${name}(${args}) { __typename } }`,
      Object.fromEntries(used.map(([v]) => [v, vars[v as keyof typeof vars]])),
      viewerA.token,
    );
    expect(res.status).toBe(200);
    expect(res.data?.[name] ?? null).toBeNull();
    expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(res.errors?.[0]?.message).toMatch(/viewer|owner|admin/i);
    expect(await snapshotA()).toEqual(before);
  });
});

describe('admin role', () => {
  it('cannot create an owner', async () => {
    const before = await snapshotA();
    const email = uniqueEmail('would-be-owner');
    const res = await server().gql(
      `mutation($e: String!) { createUser(email: $e, password: "Long-Enough-123", role: owner) { __typename } }`,
      { e: email },
      adminA.token,
    );
    expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await snapshotA()).toEqual(before);
    expect(JSON.stringify(before)).not.toContain(email);
  });
});

describe('anonymous callers', () => {
  it.each([
    ['tenants', `{ tenants { edges { node { id } } } }`],
    ['organisation', `{ organisation { id } }`],
    [
      'createTenant',
      `mutation { createTenant(displayName: "Anon", environment: dev) { __typename } }`,
    ],
    ['revokeApiKey', `mutation { revokeApiKey(id: "key_x") { __typename } }`],
  ])('%s is UNAUTHENTICATED', async (name, query) => {
    const res = await server().gql(query);
    expect(res.status).toBeLessThan(500);
    expect(res.data?.[name] ?? null).toBeNull();
    expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});
