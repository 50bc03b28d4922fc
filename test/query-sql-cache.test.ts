import { beforeAll, describe, expect, it, vi } from 'vitest';
import { useTestServer } from './helpers/app.ts';
import { createApiKey, createTenant, signupOrg, type TestOrg } from './helpers/factories.ts';

// patches/drizzle-orm (pg-core/async/query.js): a relational query's SQL and row mapper are built
// once per exact config and reused. This counts drizzle's own SQL builds (a spy on the real
// dialect, which still runs), so it fails if an upgrade drops the patch; and it checks that what
// is reused is the SQL, never a result or another organisation's parameters.

const server = useTestServer({ env: { USAGE_SYNC_INTERVAL_S: '3600' } });
const NESTED = '{ tenants(first: 50) { edges { node { id apiKeys { id prefix } } } } }';

let a: TestOrg;
let b: TestOrg;

beforeAll(async () => {
  a = await signupOrg(server(), 'Cache A');
  b = await signupOrg(server(), 'Cache B');
  for (const org of [a, b]) {
    const tenant = await createTenant(server(), org.token, { displayName: 'Cached' });
    await createApiKey(server(), org.token, tenant.id);
  }
});

/** Counts the relational SQL builds while fn runs. */
async function countBuilds<T>(fn: () => Promise<T>): Promise<{ result: T; builds: number }> {
  const { dialect } = server().database.db as unknown as {
    dialect: { buildRelationalQuery(...args: unknown[]): unknown };
  };
  const spy = vi.spyOn(dialect, 'buildRelationalQuery');
  try {
    return { result: await fn(), builds: spy.mock.calls.length };
  } finally {
    spy.mockRestore();
  }
}

const tenantIds = (result: { data: any }) =>
  result.data.tenants.edges.map((e: { node: { id: string } }) => e.node.id);

describe('relational SQL built once per query config', () => {
  it('builds the nested read once, then reuses it for the same organisation and arguments', async () => {
    const first = await countBuilds(() => server().gql(NESTED, {}, a.token));
    expect(first.result.errors).toBeUndefined();
    const again = await countBuilds(() => server().gql(NESTED, {}, a.token));
    expect(again.result.errors).toBeUndefined();
    expect(again.builds).toBe(0);
    expect(again.result.data).toEqual(first.result.data);
  });

  it('builds anew for another organisation, which sees only its own tenants', async () => {
    const ofA = await server().gql(NESTED, {}, a.token);
    const ofB = await countBuilds(() => server().gql(NESTED, {}, b.token));
    expect(ofB.builds).toBeGreaterThan(0);
    expect(tenantIds(ofB.result)).toHaveLength(1);
    expect(tenantIds(ofB.result)).not.toContain(tenantIds(ofA)[0]);
    // And A, read again after B, still gets A's.
    expect(tenantIds(await server().gql(NESTED, {}, a.token))).toEqual(tenantIds(ofA));
  });

  it('builds anew for other arguments or another selection', async () => {
    await server().gql(NESTED, {}, a.token);
    const other = await countBuilds(() =>
      server().gql(
        '{ tenants(first: 49) { edges { node { id apiKeys { id prefix } } } } }',
        {},
        a.token,
      ),
    );
    expect(other.builds).toBeGreaterThan(0);
    const more = await countBuilds(() =>
      server().gql('{ tenants(first: 50) { edges { node { id displayName } } } }', {}, a.token),
    );
    expect(more.builds).toBeGreaterThan(0);
    expect(more.result.data.tenants.edges[0].node.displayName).toBe('Cached');
  });

  it('reuses the SQL, not the rows: a new tenant and key show up on the next read', async () => {
    await server().gql(NESTED, {}, a.token);
    const tenant = await createTenant(server(), a.token, { displayName: 'Later' });
    const key = await createApiKey(server(), a.token, tenant.id);
    const next = await countBuilds(() => server().gql(NESTED, {}, a.token));
    expect(next.builds).toBe(0);
    const node = next.result.data.tenants.edges.find(
      (e: { node: { id: string } }) => e.node.id === tenant.id,
    )?.node;
    expect(node?.apiKeys.map((k: { id: string }) => k.id)).toEqual([key.id]);
  });
});
