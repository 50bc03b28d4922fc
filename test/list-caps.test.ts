import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { apiKeys, tenants, users } from '../src/db/schema.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { MAX_KEYS_LISTED } from '../src/modules/api-keys/key-listing.ts';
import { MAX_USERS_PER_ORGANISATION } from '../src/modules/organisations/users.service.ts';
import { MAX_HISTORY_POINTS } from '../src/modules/usage/usage.service.ts';
import { useTestServer } from './helpers/app.ts';
import {
  createApiKey,
  createTenant,
  PASSWORD,
  signupOrg,
  type TestOrg,
  uniqueEmail,
} from './helpers/factories.ts';
import { restAs } from './helpers/rest.ts';

/**
 * Every list answer is bounded: connections page (first <= 100), and plain lists are capped at
 * a size the rules keep the data within. Rows the API would refuse to create (101 live tenants,
 * hundreds of revoked keys, 500 users) are written straight into the database to reach the caps.
 */
const clock = new ManualClock(new Date('2026-06-18T10:00:00Z'));
const server = useTestServer({ overrides: { clock } });
const db = () => server().database.db;

async function organisationOf(org: TestOrg): Promise<string> {
  const [row] = await db()
    .select({ id: users.organisationId })
    .from(users)
    .where(eq(users.id, org.userId));
  return row!.id;
}

const seconds = (n: number) => new Date(clock.now().getTime() + n * 1000);

describe('tenants', () => {
  it('the connection serves at most 100 per page and pages on; REST holds the largest plan’s limit', async () => {
    const org = await signupOrg(server(), 'Many Tenants');
    const organisationId = await organisationOf(org);
    await db()
      .insert(tenants)
      .values(
        Array.from({ length: 130 }, (_, i) => ({
          id: `xs_bulk_${String(i).padStart(3, '0')}aaaaa`,
          organisationId,
          displayName: `Bulk ${i}`,
          environment: 'dev' as const,
          region: 'eu-west-1',
          cell: 'euw1-01',
          createdAt: seconds(i),
          updatedAt: seconds(i),
        })),
      );
    const PAGE = `query($first: Int, $after: String) { tenants(first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } }`;
    const big = await server().gql(PAGE, { first: 1000 }, org.token);
    expect(big.errors).toBeUndefined();
    expect(big.data.tenants.totalCount).toBe(130);
    expect(big.data.tenants.edges).toHaveLength(100);
    expect(big.data.tenants.pageInfo.hasNextPage).toBe(true);
    const rest = await server().gql(
      PAGE,
      { first: 1000, after: big.data.tenants.pageInfo.endCursor },
      org.token,
    );
    expect(rest.data.tenants.edges).toHaveLength(30);
    expect(rest.data.tenants.pageInfo.hasNextPage).toBe(false);
    expect(rest.data.tenants.edges[29].node.id).toBe('xs_bulk_129aaaaa');
    expect((await server().gql(PAGE, {}, org.token)).data.tenants.edges).toHaveLength(20);

    const negative = await server().gql(PAGE, { first: -1 }, org.token);
    expect(negative.data ?? null).toBeNull();
    expect(negative.errors?.[0]?.message).toMatch(/first.*non-negative/);

    const listed = await restAs(server().url, org.token)('GET', '/tenants');
    expect(listed.status).toBe(200);
    expect(listed.json).toHaveLength(100);
    expect(listed.json[0].id).toBe('xs_bulk_000aaaaa');
  });
});

describe('API keys', () => {
  it('every live key, then the most recently revoked, at most 100; includeRevoked: false for live only', async () => {
    const org = await signupOrg(server(), 'Many Keys');
    const tenant = await createTenant(server(), org.token);
    const early = await createApiKey(server(), org.token, tenant.id, { displayName: 'early' });
    // 150 revoked keys, created before the live ones and revoked one second apart.
    await db()
      .insert(apiKeys)
      .values(
        Array.from({ length: 150 }, (_, i) => ({
          id: `key_revoked${String(i).padStart(4, '0')}`,
          tenantId: tenant.id,
          displayName: `old ${i}`,
          prefix: 'xag_old0',
          hash: `revoked-hash-${i}`,
          scopes: ['metrics:write'],
          createdAt: seconds(-1000 + i),
          revokedAt: seconds(-500 + i),
        })),
      );
    const live = [early.id];
    for (let i = 0; i < 4; i++) {
      clock.advance(1_000);
      live.push((await createApiKey(server(), org.token, tenant.id)).id);
    }
    const newestRevoked = Array.from(
      { length: MAX_KEYS_LISTED - live.length },
      (_, i) => `key_revoked${String(149 - i).padStart(4, '0')}`,
    );

    const KEYS = `query($t: ID!, $r: Boolean) {
      apiKeys(tenantId: $t, includeRevoked: $r) { ... on QueryApiKeysSuccess { data { id } } }
      tenant(id: $t) { ... on Tenant { apiKeys(includeRevoked: $r) { id status } } } }`;
    const all = await server().gql(KEYS, { t: tenant.id }, org.token);
    expect(all.errors).toBeUndefined();
    const ids = all.data.apiKeys.data.map((k: { id: string }) => k.id);
    expect(ids).toEqual([...live, ...newestRevoked]);
    expect(all.data.tenant.apiKeys.map((k: { id: string }) => k.id)).toEqual(ids);
    expect(all.data.tenant.apiKeys.slice(0, 5).map((k: { status: string }) => k.status)).toEqual(
      Array(5).fill('active'),
    );

    const liveOnly = await server().gql(KEYS, { t: tenant.id, r: false }, org.token);
    expect(liveOnly.data.apiKeys.data.map((k: { id: string }) => k.id)).toEqual(live);
    expect(liveOnly.data.tenant.apiKeys.map((k: { id: string }) => k.id)).toEqual(live);

    const api = restAs(server().url, org.token);
    const listed = await api('GET', `/tenants/${tenant.id}/keys`);
    expect(listed.json.map((k: { id: string }) => k.id)).toEqual(ids);
    const restLive = await api('GET', `/tenants/${tenant.id}/keys?include_revoked=false`);
    expect(restLive.json.map((k: { id: string }) => k.id)).toEqual(live);
    const bad = await api('GET', `/tenants/${tenant.id}/keys?include_revoked=maybe`);
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ error: 'validation_error', field: 'include_revoked' });
  });
});

describe('users', () => {
  it(`an organisation holds at most ${MAX_USERS_PER_ORGANISATION} users; the lists hold them all`, async () => {
    const org = await signupOrg(server(), 'Many Users');
    const organisationId = await organisationOf(org);
    await db()
      .insert(users)
      .values(
        Array.from({ length: MAX_USERS_PER_ORGANISATION - 2 }, (_, i) => ({
          id: `usr_bulk${String(i).padStart(4, '0')}aaaaaaa`,
          organisationId,
          email: `bulk-${i}-${organisationId}@example.com`,
          passwordHash: 'not-a-login',
          role: 'viewer' as const,
          createdAt: seconds(i + 1),
        })),
      );
    const CREATE = `mutation($e: String!, $p: String!) { createUser(email: $e, password: $p, role: viewer) {
      __typename ... on User { id } ... on ConflictError { message } } }`;
    const last = await server().gql(CREATE, { e: uniqueEmail('last'), p: PASSWORD }, org.token);
    expect(last.data.createUser.__typename).toBe('User');
    const over = await server().gql(CREATE, { e: uniqueEmail('over'), p: PASSWORD }, org.token);
    expect(over.data.createUser).toEqual({
      __typename: 'ConflictError',
      message: `An organisation has at most ${MAX_USERS_PER_ORGANISATION} users; remove one first`,
    });
    const api = restAs(server().url, org.token);
    const overRest = await api('POST', '/users', {
      body: { email: uniqueEmail('over'), password: PASSWORD, role: 'viewer' },
    });
    expect(overRest.status).toBe(409);
    expect(overRest.json.error).toBe('conflict');

    const listed = await server().gql('{ organisation { users { id } } }', {}, org.token);
    expect(listed.data.organisation.users).toHaveLength(MAX_USERS_PER_ORGANISATION);
    expect(listed.data.organisation.users.map((u: { id: string }) => u.id)).toContain(org.userId);
    expect((await api('GET', '/users')).json).toHaveLength(MAX_USERS_PER_ORGANISATION);
  });
});

describe('usage history', () => {
  it(`REST and GraphQL answer at most ${MAX_HISTORY_POINTS} points over 8,641 stored ticks`, async () => {
    const org = await signupOrg(server(), 'Long History');
    const tenant = await createTenant(server(), org.token);
    // A sample every 10 s over the last 24 hours, the tenant's and so its organisation's.
    const every10s = sql`generate_series(${seconds(-86_400).toISOString()}::timestamptz,
      ${clock.now().toISOString()}::timestamptz, interval '10 seconds') g`;
    await db().execute(sql`
      insert into usage_samples (tenant_id, at, active_series, logs_bytes_this_month, traces_bytes_this_month)
      select ${tenant.id}, g, 1, 0, 0 from ${every10s}`);
    await db().execute(sql`
      insert into usage_org_samples (organisation_id, at, active_series, logs_bytes_this_month, traces_bytes_this_month)
      select (select organisation_id from users where id = ${org.userId}), g, 1, 0, 0 from ${every10s}`);
    const api = restAs(server().url, org.token);
    for (const path of ['/dashboard/org/history', `/dashboard/tenants/${tenant.id}/history`]) {
      const res = await api('GET', path);
      expect(res.status, path).toBe(200);
      expect(res.json.length, path).toBeGreaterThan(100);
      expect(res.json.length, path).toBeLessThanOrEqual(MAX_HISTORY_POINTS);
      const fine = await api('GET', `${path}?step=10`);
      expect(fine.status, path).toBe(400);
      expect(fine.json).toMatchObject({ error: 'validation_error', field: 'step' });
      expect(fine.json.message).toContain(`more than ${MAX_HISTORY_POINTS} points`);
    }
    const gql = await server().gql(
      `query($id: ID!, $from: DateTime!, $to: DateTime!) { tenant(id: $id) { ... on Tenant {
        usageHistory(from: $from, to: $to) { ... on TenantUsageHistorySuccess { data { at } } } } } }`,
      { id: tenant.id, from: seconds(-86_400).toISOString(), to: clock.now().toISOString() },
      org.token,
    );
    const points = gql.data.tenant.usageHistory.data.length;
    expect(points).toBeGreaterThan(100);
    expect(points).toBeLessThanOrEqual(MAX_HISTORY_POINTS);
  });
});
