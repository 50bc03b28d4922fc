import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/lib/clock.ts';
import { apiKeyStatus, EXPIRING_WITHIN_MS } from '../src/modules/api-keys/key-status.ts';
import { BILLING_PLANS, PLAN_LIMITS } from '../src/modules/organisations/plans.ts';
import { type TestServer, useTestServer } from './helpers/app.ts';
import {
  createApiKey,
  createTenant,
  PASSWORD,
  signupOrg,
  type TestOrg,
  uniqueEmail,
} from './helpers/factories.ts';

const clock = new ManualClock(new Date('2026-06-18T10:00:00Z'));
const server = useTestServer({ overrides: { clock } });

/** A second portal whose CELLS_FILE has two regions, one of them with two cells. */
const cellsDir = mkdtempSync(join(tmpdir(), 'xs-cells-'));
const cellsFile = join(cellsDir, 'cells.json');
const cell = (region: string, name: string) => ({
  region,
  cell: name,
  metricsHost: `${name}.m.example.test`,
  logsHost: `${name}.l.example.test`,
  tracesHost: `${name}.t.example.test`,
});
// The default region is listed second in the file: `regions` must still put it first.
writeFileSync(
  cellsFile,
  JSON.stringify([
    cell('eu-central-1', 'euc1-01'),
    cell('us-east-1', 'use1-01'),
    cell('eu-central-1', 'euc1-02'),
  ]),
);
const cellsServer = useTestServer({ env: { CELLS_FILE: cellsFile, DEFAULT_REGION: 'us-east-1' } });
afterAll(() => rmSync(cellsDir, { recursive: true, force: true }));

const login = async (s: TestServer, email: string): Promise<string> => {
  const res = await s.gql(
    `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { ... on AuthPayload { token } } }`,
    { e: email, p: PASSWORD },
  );
  const token = res.data?.login?.token;
  if (!token) throw new Error(`login failed: ${JSON.stringify(res)}`);
  return token;
};

async function addUser(owner: TestOrg, role: 'owner' | 'admin' | 'viewer') {
  const email = uniqueEmail(role);
  const res = await server().gql(
    `mutation($e: String!, $p: String!, $r: Role!) { createUser(email: $e, password: $p, role: $r) {
      __typename ... on User { id } } }`,
    { e: email, p: PASSWORD, r: role },
    owner.token,
  );
  expect(res.data.createUser.__typename).toBe('User');
  return { id: res.data.createUser.id as string, email, token: await login(server(), email) };
}

const iso = (ms: number) => new Date(ms).toISOString();

describe('ApiKey.status', () => {
  it('apiKeyStatus: boundaries of expiring, expired and the grace period', () => {
    const now = new Date('2026-06-18T10:00:00Z');
    const at = (deltaMs: number) => new Date(now.getTime() + deltaMs);
    const key = (k: { revokedAt?: Date; expiresAt?: Date; previousExpiresAt?: Date }) => ({
      revokedAt: k.revokedAt ?? null,
      expiresAt: k.expiresAt ?? null,
      previousExpiresAt: k.previousExpiresAt ?? null,
    });
    expect(apiKeyStatus(key({}), now)).toBe('active');
    expect(apiKeyStatus(key({ expiresAt: at(EXPIRING_WITHIN_MS + 1) }), now)).toBe('active');
    expect(apiKeyStatus(key({ expiresAt: at(EXPIRING_WITHIN_MS) }), now)).toBe('expiring');
    expect(apiKeyStatus(key({ expiresAt: at(1) }), now)).toBe('expiring');
    expect(apiKeyStatus(key({ expiresAt: at(0) }), now)).toBe('expired');
    expect(apiKeyStatus(key({ previousExpiresAt: at(1) }), now)).toBe('in_grace');
    expect(apiKeyStatus(key({ previousExpiresAt: at(0) }), now)).toBe('active');
    // An expired key is refused whatever grace its old secret had; revoked beats everything.
    expect(apiKeyStatus(key({ expiresAt: at(0), previousExpiresAt: at(60_000) }), now)).toBe(
      'expired',
    );
    expect(
      apiKeyStatus(key({ revokedAt: at(-1), expiresAt: at(-1), previousExpiresAt: at(1) }), now),
    ).toBe('revoked');
  });

  it('follows the clock through expiring, expired, in_grace and revoked', async () => {
    const org = await signupOrg(server(), 'Key Status Org');
    const t = await createTenant(server(), org.token, { displayName: 'Key Status' });
    const t0 = clock.now().getTime();
    const forever = await createApiKey(server(), org.token, t.id, { displayName: 'forever' });
    const month = await createApiKey(server(), org.token, t.id, {
      displayName: 'month',
      expiresAt: iso(t0 + 30 * 86_400_000),
    });
    const week = await createApiKey(server(), org.token, t.id, {
      displayName: 'week',
      expiresAt: iso(t0 + EXPIRING_WITHIN_MS),
    });
    const weekAndASecond = await createApiKey(server(), org.token, t.id, {
      displayName: 'week+1s',
      expiresAt: iso(t0 + EXPIRING_WITHIN_MS + 1000),
    });
    let token = org.token;
    const statuses = async () => {
      const res = await server().gql(
        `query($t: ID!) { apiKeys(tenantId: $t) { ... on QueryApiKeysSuccess { data { id status } } } }`,
        { t: t.id },
        token,
      );
      expect(res.errors).toBeUndefined();
      return Object.fromEntries(
        res.data.apiKeys.data.map((k: { id: string; status: string }) => [k.id, k.status]),
      );
    };
    const roll = async (id: string, grace: number) => {
      const res = await server().gql(
        `mutation($id: ID!, $g: Int!) { rollApiKey(id: $id, gracePeriodSeconds: $g) {
          __typename ... on IssuedApiKey { apiKey { status previousExpiresAt } } } }`,
        { id, g: grace },
        token,
      );
      expect(res.data.rollApiKey.__typename).toBe('IssuedApiKey');
      return res.data.rollApiKey.apiKey;
    };

    expect(await statuses()).toEqual({
      [forever.id]: 'active',
      [month.id]: 'active',
      [week.id]: 'expiring',
      [weekAndASecond.id]: 'active',
    });
    clock.advance(1000);
    expect((await statuses())[weekAndASecond.id]).toBe('expiring');

    // Past the week: tokens expired too, so log in again.
    clock.set(new Date(t0 + EXPIRING_WITHIN_MS));
    token = await login(server(), org.email);
    expect(await statuses()).toMatchObject({
      [forever.id]: 'active',
      [month.id]: 'active',
      [week.id]: 'expired',
      [weekAndASecond.id]: 'expiring',
    });

    // A roll with a grace period: in_grace until the old secret's expiry, then active again.
    const rolled = await roll(forever.id, 3600);
    expect(rolled.status).toBe('in_grace');
    expect(Date.parse(rolled.previousExpiresAt)).toBe(clock.now().getTime() + 3_600_000);
    clock.advance(3_599_000);
    expect((await statuses())[forever.id]).toBe('in_grace');
    clock.advance(1000);
    token = await login(server(), org.email);
    expect((await statuses())[forever.id]).toBe('active');
    // A roll without grace leaves nothing to be in grace for.
    expect((await roll(month.id, 0)).status).toBe('active');

    // Revoked wins over in_grace, expired and expiring.
    await roll(forever.id, 3600);
    for (const k of [forever, week, weekAndASecond]) {
      const res = await server().gql(
        'mutation($id: ID!) { revokeApiKey(id: $id) { __typename ... on ApiKey { status } } }',
        { id: k.id },
        token,
      );
      expect(res.data.revokeApiKey).toEqual({ __typename: 'ApiKey', status: 'revoked' });
    }
    expect(await statuses()).toEqual({
      [forever.id]: 'revoked',
      [month.id]: 'active',
      [week.id]: 'revoked',
      [weekAndASecond.id]: 'revoked',
    });
    // Same status through Tenant.apiKeys.
    const viaTenant = await server().gql(
      'query($t: ID!) { tenant(id: $t) { ... on Tenant { apiKeys { id status } } } }',
      { t: t.id },
      token,
    );
    expect(viaTenant.data.tenant.apiKeys).toHaveLength(4);
    for (const k of viaTenant.data.tenant.apiKeys) {
      expect(k.status).toBe(k.id === month.id ? 'active' : 'revoked');
    }
  });
});

describe('Tenant.clientConfig', () => {
  it('every tenant has one, with <API_KEY>, its ID as username, its hosts and no real key', async () => {
    const org = await signupOrg(server(), 'Config Org');
    const withKey = await createTenant(server(), org.token, { displayName: 'Config Keyed' });
    await createTenant(server(), org.token, { displayName: 'Config Bare', environment: 'dev' });
    const key = await createApiKey(server(), org.token, withKey.id);
    const res = await server().gql(
      `{ tenants { edges { node { id metricsHost logsHost tracesHost
        clientConfig { prometheusRemoteWrite grafanaAlloy openTelemetryCollector } } } } }`,
      {},
      org.token,
    );
    expect(res.errors).toBeUndefined();
    const nodes = res.data.tenants.edges.map((e: any) => e.node);
    expect(nodes).toHaveLength(2);
    for (const n of nodes) {
      const {
        prometheusRemoteWrite: prom,
        grafanaAlloy: alloy,
        openTelemetryCollector: otel,
      } = n.clientConfig;
      expect(prom).toContain(`url: https://${n.metricsHost}/api/v1/push`);
      expect(prom).toContain(`username: ${n.id}`);
      expect(prom).toContain('password: <API_KEY>');
      expect(alloy).toContain(`url = "https://${n.metricsHost}/api/v1/push"`);
      expect(alloy).toContain(`url = "https://${n.logsHost}/loki/api/v1/push"`);
      expect(alloy).toContain(`endpoint = "https://${n.tracesHost}"`);
      expect(alloy).toContain(`username = "${n.id}"`);
      expect(alloy).toContain('password = "<API_KEY>"');
      expect(otel).toContain(`username: ${n.id}`);
      expect(otel).toContain('password: <API_KEY>');
      for (const host of [`${n.metricsHost}/otlp`, `${n.logsHost}/otlp`, n.tracesHost]) {
        expect(otel).toContain(`endpoint: https://${host}`);
      }
      for (const text of [prom, alloy, otel]) {
        expect(text).not.toContain(key.key);
        expect(text).not.toMatch(/xag_[0-9A-Za-z]{4}/);
      }
    }
  });
});

describe('regions and plans', () => {
  it('default configuration: one region, eu-west-1, the default', async () => {
    const org = await signupOrg(server(), 'Regions Default');
    const res = await server().gql('{ regions { name isDefault } }', {}, org.token);
    expect(res.data.regions).toEqual([{ name: 'eu-west-1', isDefault: true }]);
  });

  it('CELLS_FILE: each region once, the default first; createTenant places by region', async () => {
    const s = cellsServer();
    const org = await signupOrg(s, 'Regions Org');
    const res = await s.gql('{ regions { name isDefault } }', {}, org.token);
    expect(res.data.regions).toEqual([
      { name: 'us-east-1', isDefault: true },
      { name: 'eu-central-1', isDefault: false },
    ]);
    const placed = async (region?: string) => {
      const r = await s.gql(
        `mutation($r: String) { createTenant(displayName: "Placed", environment: prod, region: $r) {
          __typename ... on Tenant { region metricsHost logsHost tracesHost
            clientConfig { prometheusRemoteWrite } }
          ... on ValidationError { field message } } }`,
        { r: region },
        org.token,
      );
      return r.data.createTenant;
    };
    expect(await placed()).toMatchObject({
      region: 'us-east-1',
      metricsHost: 'use1-01.m.example.test',
    });
    const first = await placed('eu-central-1');
    expect(first).toMatchObject({
      region: 'eu-central-1',
      metricsHost: 'euc1-01.m.example.test',
      logsHost: 'euc1-01.l.example.test',
      tracesHost: 'euc1-01.t.example.test',
    });
    expect(first.clientConfig.prometheusRemoteWrite).toContain('https://euc1-01.m.example.test/');
    // The least-loaded cell of the region takes the next one.
    expect((await placed('eu-central-1')).metricsHost).toBe('euc1-02.m.example.test');
    const unknown = await placed('eu-west-1');
    expect(unknown).toMatchObject({ __typename: 'ValidationError', field: 'region' });
    expect(unknown.message).toContain('eu-central-1');
  });

  it('plans: free and scale with the limits of PLAN_LIMITS; regions and plans need a token', async () => {
    const org = await signupOrg(server(), 'Plans Org');
    const res = await server().gql(
      '{ plans { name limits { maxTenants maxActiveSeries maxApiKeysPerTenant maxLogsGbPerMonth } } }',
      {},
      org.token,
    );
    expect(res.data.plans).toEqual(
      BILLING_PLANS.map((name) => ({ name, limits: PLAN_LIMITS[name] })),
    );
    expect(res.data.plans.map((p: any) => p.name)).toEqual(['free', 'scale']);
    for (const q of ['{ plans { name } }', '{ regions { name } }']) {
      const anon = await server().gql(q);
      expect(anon.data).toBeNull();
      expect(anon.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
  });
});

const TENANTS = `query($s: String, $e: Environment, $first: Int, $after: String) {
  tenants(search: $s, environment: $e, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id displayName } } } }`;

describe('tenants(search:, environment:) and totalCount', () => {
  let a: TestOrg;
  let b: TestOrg;
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    a = await signupOrg(server(), 'Search A');
    b = await signupOrg(server(), 'Search B');
    await server().gql('mutation { changePlan(plan: scale) { __typename } }', {}, a.token);
    for (const [name, env] of [
      ['100% Done', 'prod'],
      ['1000 Done', 'dev'],
      ['Payments_API', 'prod'],
      ['Alpha Search', 'staging'],
    ] as const) {
      // One second apart, so "oldest first" is the order they are listed here.
      clock.advance(1000);
      ids[name] = (
        await createTenant(server(), a.token, { displayName: name, environment: env })
      ).id;
    }
    // B has look-alikes of A's names: none may show up or count for A.
    await createTenant(server(), b.token, { displayName: '100% Done', environment: 'prod' });
    await createTenant(server(), b.token, { displayName: 'Payments_API', environment: 'prod' });
    await createTenant(server(), b.token, { displayName: 'C:\\Temp', environment: 'dev' });
  });

  const list = async (vars: Record<string, unknown>, token = a.token) => {
    const res = await server().gql(TENANTS, vars, token);
    expect(res.errors).toBeUndefined();
    const c = res.data.tenants;
    return { total: c.totalCount, names: c.edges.map((e: any) => e.node.displayName), c };
  };

  it('matches display name or ID, case-insensitively, as a substring', async () => {
    expect(await list({})).toMatchObject({ total: 4 });
    expect(await list({ s: 'done' })).toMatchObject({
      total: 2,
      names: ['100% Done', '1000 Done'],
    });
    expect(await list({ s: 'DONE' })).toMatchObject({ total: 2 });
    expect(await list({ s: '  aLpHa sEa  ' })).toMatchObject({ total: 1, names: ['Alpha Search'] });
    // The random part of an ID is in no display name.
    const suffix = ids['Alpha Search']!.slice(-8);
    expect(await list({ s: suffix.toUpperCase() })).toMatchObject({ names: ['Alpha Search'] });
    expect(await list({ s: ids['1000 Done'] })).toMatchObject({ total: 1, names: ['1000 Done'] });
    expect(await list({ s: 'nothing like it' })).toMatchObject({ total: 0, names: [] });
  });

  it('takes % _ and \\ literally', async () => {
    expect(await list({ s: '0%' })).toMatchObject({ total: 1, names: ['100% Done'] });
    expect(await list({ s: '%' })).toMatchObject({ total: 1, names: ['100% Done'] });
    expect(await list({ s: '1%0' })).toMatchObject({ total: 0 });
    // Every ID is xs_<slug>_<random>, so a literal "_" matches every tenant through its ID...
    expect(await list({ s: '_' })).toMatchObject({ total: 4 });
    // ...but elsewhere only where the underscore really is: in Payments_API's name.
    expect(await list({ s: 'TS_API' })).toMatchObject({ total: 1, names: ['Payments_API'] });
    // As wildcards these would match "Alpha Search", and both "Done"s.
    expect(await list({ s: 'Alpha_Search' })).toMatchObject({ total: 0 });
    expect(await list({ s: '1_0' })).toMatchObject({ total: 0 });
    // A backslash is no escape character either: it finds the one name that has one.
    expect(await list({ s: '\\' })).toMatchObject({ total: 0 });
    expect(await list({ s: ':\\t' }, b.token)).toMatchObject({ total: 1, names: ['C:\\Temp'] });
    expect(await list({ s: '\\%' }, b.token)).toMatchObject({ total: 0 });
  });

  it('totalCount counts every page and follows the filters', async () => {
    const page1 = await list({ first: 1 });
    expect(page1.total).toBe(4);
    expect(page1.names).toEqual(['100% Done']);
    expect(page1.c.pageInfo.hasNextPage).toBe(true);
    const page2 = await list({ first: 1, after: page1.c.pageInfo.endCursor, s: 'done' });
    expect(page2).toMatchObject({ total: 2, names: ['1000 Done'] });
    expect(await list({ e: 'prod' })).toMatchObject({
      total: 2,
      names: ['100% Done', 'Payments_API'],
    });
    expect(await list({ e: 'prod', s: 'done', first: 1 })).toMatchObject({
      total: 1,
      names: ['100% Done'],
    });
    expect(await list({ e: 'staging', s: 'done' })).toMatchObject({ total: 0, names: [] });
    // A deleted tenant neither appears nor counts.
    await server().gql(
      'mutation($id: ID!) { deleteTenant(id: $id) { __typename } }',
      { id: ids['1000 Done'] },
      a.token,
    );
    expect(await list({ s: 'done' })).toMatchObject({ total: 1, names: ['100% Done'] });
  });

  it("never shows or counts another organisation's tenants", async () => {
    expect(await list({ s: ids['Alpha Search'] }, b.token)).toMatchObject({ total: 0 });
    expect(await list({ s: '0%' }, b.token)).toMatchObject({ total: 1, names: ['100% Done'] });
    expect(await list({ s: '_' }, b.token)).toMatchObject({ total: 3 });
    expect(await list({ s: 'alpha' }, b.token)).toMatchObject({ total: 0 });
  });

  it('a search of 100 characters works; 101 is a clear input error, not a 500', async () => {
    expect(await list({ s: 'x'.repeat(100) })).toMatchObject({ total: 0 });
    const res = await server().gql(TENANTS, { s: 'x'.repeat(101) }, a.token);
    expect(res.status).toBe(200);
    expect(res.data).toBeNull();
    expect(res.errors?.length).toBeGreaterThan(0);
    for (const e of res.errors!) {
      expect(e.extensions?.code).toBe('BAD_USER_INPUT');
      expect(e.message).toBe('search: must be at most 100 characters');
    }
    const nul = await server().gql(TENANTS, { s: 'a\u0000b' }, a.token);
    expect(nul.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(nul.errors?.[0]?.message).toMatch(/^search: /);
    const wrongType = await server().gql(
      TENANTS.replace('$s: String', '$s: Int'),
      { s: 5 },
      a.token,
    );
    expect(wrongType.status).toBeLessThan(500);
    expect(wrongType.data ?? null).toBeNull();
    expect(wrongType.errors?.[0]?.message).toMatch(/"String"/);
  });
});

describe('updateUserRole', () => {
  const ROLE = `mutation($id: ID!, $r: Role!) { updateUserRole(id: $id, role: $r) {
    __typename ... on User { id role email } ... on ValidationError { field message }
    ... on NotFoundError { id resource } } }`;
  const setRole = (token: string, id: string, role: string) =>
    server().gql(ROLE, { id, r: role }, token);
  const roles = async (token: string) => {
    const res = await server().gql('{ organisation { users { id role } } }', {}, token);
    return Object.fromEntries(res.data.organisation.users.map((u: any) => [u.id, u.role]));
  };
  const me = async (token: string) =>
    (await server().gql('{ me { role } }', {}, token)).data.me.role;

  it('an owner promotes a viewer; the viewer sees it on the next request with the same token', async () => {
    const org = await signupOrg(server(), 'Roles A');
    const viewer = await addUser(org, 'viewer');
    expect(await me(viewer.token)).toBe('viewer');
    const res = await setRole(org.token, viewer.id, 'admin');
    expect(res.data.updateUserRole).toEqual({
      __typename: 'User',
      id: viewer.id,
      role: 'admin',
      email: viewer.email,
    });
    expect(await me(viewer.token)).toBe('admin');
    // The new role is enforced too: the former viewer may now create a tenant.
    const created = await server().gql(
      'mutation { createTenant(displayName: "By Promoted", environment: dev) { __typename } }',
      {},
      viewer.token,
    );
    expect(created.data.createTenant.__typename).toBe('Tenant');
    // Setting the role a user already has changes nothing and is no error.
    expect((await setRole(org.token, viewer.id, 'admin')).data.updateUserRole.role).toBe('admin');
  });

  it('admins change admins and viewers but never the owner role; viewers change nothing', async () => {
    const org = await signupOrg(server(), 'Roles B');
    const admin = await addUser(org, 'admin');
    const viewer = await addUser(org, 'viewer');
    const before = await roles(org.token);
    for (const [token, id, role] of [
      [admin.token, viewer.id, 'owner'],
      [admin.token, org.userId, 'admin'],
      [admin.token, org.userId, 'viewer'],
      [viewer.token, viewer.id, 'admin'],
      [viewer.token, admin.id, 'viewer'],
      [viewer.token, org.userId, 'viewer'],
    ] as const) {
      const res = await setRole(token, id, role);
      expect(res.data, `${id} -> ${role}`).toBeNull();
      expect(res.errors?.[0]?.extensions?.code, `${id} -> ${role}`).toBe('FORBIDDEN');
    }
    expect(await roles(org.token)).toEqual(before);
    expect((await setRole(admin.token, viewer.id, 'admin')).data.updateUserRole.role).toBe('admin');
    expect((await setRole(admin.token, viewer.id, 'viewer')).data.updateUserRole.role).toBe(
      'viewer',
    );
    // An admin demoted to viewer loses the right on their next request.
    expect((await setRole(org.token, admin.id, 'viewer')).data.updateUserRole.role).toBe('viewer');
    expect((await setRole(admin.token, viewer.id, 'admin')).errors?.[0]?.extensions?.code).toBe(
      'FORBIDDEN',
    );
  });

  it('the last owner stays one; with two owners one may demote the other', async () => {
    const org = await signupOrg(server(), 'Roles C');
    const last = await setRole(org.token, org.userId, 'admin');
    expect(last.data.updateUserRole).toMatchObject({
      __typename: 'ValidationError',
      field: 'role',
    });
    expect(await me(org.token)).toBe('owner');
    const second = await addUser(org, 'admin');
    expect((await setRole(org.token, second.id, 'owner')).data.updateUserRole.role).toBe('owner');
    expect(await me(second.token)).toBe('owner');
    expect((await setRole(second.token, org.userId, 'viewer')).data.updateUserRole.role).toBe(
      'viewer',
    );
    expect(await me(org.token)).toBe('viewer');
    const again = await setRole(second.token, second.id, 'admin');
    expect(again.data.updateUserRole).toMatchObject({
      __typename: 'ValidationError',
      field: 'role',
    });
  });

  it('unknown, malformed and other-organisation user IDs are not found; bad roles are refused', async () => {
    const org = await signupOrg(server(), 'Roles D');
    const other = await signupOrg(server(), 'Roles E');
    const otherViewer = await addUser(other, 'viewer');
    for (const id of [otherViewer.id, other.userId, 'usr_doesnotexist000000', 'not an id']) {
      const res = await setRole(org.token, id, 'admin');
      expect(res.data.updateUserRole, id).toEqual({
        __typename: 'NotFoundError',
        id,
        resource: 'User',
      });
    }
    expect(await roles(other.token)).toEqual({
      [other.userId]: 'owner',
      [otherViewer.id]: 'viewer',
    });
    const bad = await setRole(org.token, org.userId, 'superuser');
    expect(bad.status).toBeLessThan(500);
    expect(bad.data ?? null).toBeNull();
    expect(bad.errors?.[0]?.message).toMatch(/superuser/);
    const anon = await server().gql(ROLE, { id: org.userId, r: 'viewer' });
    expect(anon.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('two owners demoting each other at once leave exactly one owner', async () => {
    for (let round = 0; round < 3; round++) {
      const org = await signupOrg(server(), 'Roles Race');
      const second = await addUser(org, 'owner');
      const results = await Promise.all([
        setRole(org.token, second.id, 'admin'),
        setRole(second.token, org.userId, 'admin'),
      ]);
      const won = results.filter((r) => r.data?.updateUserRole?.__typename === 'User');
      expect(won).toHaveLength(1);
      const lost = results.find((r) => r !== won[0])!;
      // The loser is refused as the last owner or, if it was authenticated after, as an admin.
      expect(
        lost.data?.updateUserRole?.field === 'role' ||
          lost.errors?.[0]?.extensions?.code === 'FORBIDDEN',
        JSON.stringify(lost),
      ).toBe(true);
      const after = await roles(won[0] === results[0] ? org.token : second.token);
      expect(Object.values(after).filter((r) => r === 'owner')).toHaveLength(1);
    }
  });
});

describe('NotFoundError.id is an ID', () => {
  it('merges with Tenant.id in one selection', async () => {
    const org = await signupOrg(server(), 'Not Found Org');
    const other = await signupOrg(server(), 'Not Found Other');
    const mine = await createTenant(server(), org.token);
    const theirs = await createTenant(server(), other.token);
    const q = `query($id: ID!) { tenant(id: $id) { __typename
      ... on Tenant { id } ... on NotFoundError { id resource } } }`;
    for (const id of ['xs_nothing_aaaaaaaa', theirs.id, 'garbage']) {
      const res = await server().gql(q, { id }, org.token);
      expect(res.errors, id).toBeUndefined();
      expect(res.data.tenant).toEqual({ __typename: 'NotFoundError', id, resource: 'Tenant' });
    }
    const found = await server().gql(q, { id: mine.id }, org.token);
    expect(found.data.tenant).toEqual({ __typename: 'Tenant', id: mine.id });
  });
});
