import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/lib/clock.ts';
import { useTestServer } from './helpers/app.ts';
import { createApiKey, createTenant, signupOrg } from './helpers/factories.ts';

// The clock stands still and the usage sync runs hourly, so no background tick can add a
// statement while one is being counted.
const clock = new ManualClock(new Date('2026-06-18T10:00:00Z'));
const server = useTestServer({ env: { USAGE_SYNC_INTERVAL_S: '3600' }, overrides: { clock } });

const NESTED = `{ tenants(first: 50) { edges { node { id apiKeys { id prefix } } } } }`;

/** Runs fn while recording every SQL statement the app sends. */
async function recordStatements<T>(
  fn: () => Promise<T>,
): Promise<{ result: T; statements: string[] }> {
  const statements: string[] = [];
  const stop = server().database.onQuery((sql) => statements.push(sql));
  try {
    return { result: await fn(), statements };
  } finally {
    stop();
  }
}

const touches = (table: string) => (sql: string) => new RegExp(`"${table}"`).test(sql);

describe('nested tenants query', () => {
  it('loads 10 tenants x 2 keys in one SQL statement', async () => {
    const org = await signupOrg(server());
    const plan = await server().gql(
      `mutation { changePlan(plan: scale) { __typename } }`,
      {},
      org.token,
    );
    expect(plan.data.changePlan.__typename).toBe('Organisation');
    const seeded = new Map<string, string[]>();
    for (let i = 0; i < 10; i++) {
      const tenant = await createTenant(server(), org.token, { displayName: `Counted ${i}` });
      const keys = [];
      for (let k = 0; k < 2; k++)
        keys.push((await createApiKey(server(), org.token, tenant.id)).id);
      seeded.set(tenant.id, keys);
    }
    // Another organisation's data must not change the count or the answer.
    const other = await signupOrg(server(), 'Noise');
    const noise = await createTenant(server(), other.token);
    await createApiKey(server(), other.token, noise.id);

    const { result, statements } = await recordStatements(() =>
      server().gql(NESTED, {}, org.token),
    );

    expect(result.errors).toBeUndefined();
    const tenants = result.data.tenants.edges.map((e: any) => e.node);
    expect(tenants).toHaveLength(10);
    for (const t of tenants) {
      expect(t.apiKeys.map((k: any) => k.id).sort()).toEqual([...seeded.get(t.id)!].sort());
      for (const k of t.apiKeys) expect(k.prefix).toMatch(/^xag_[0-9A-Za-z]{4}$/);
    }

    // Two statements in all: authenticating the bearer token reads the user row (one statement
    // on "users", needed to refuse tokens of removed users or from before a password change),
    // and the whole tree (tenants, their keys, the page) is one statement with a lateral join.
    const data = statements.filter((s) => touches('tenants')(s) || touches('api_keys')(s));
    const auth = statements.filter(touches('users'));
    expect(data, data.join('\n---\n')).toHaveLength(1);
    expect(data[0]).toMatch(/"api_keys"/);
    expect(auth).toHaveLength(1);
    expect(auth[0]).not.toMatch(/"tenants"|"api_keys"/);
    expect(statements, statements.join('\n---\n')).toHaveLength(2);
  });

  it('stays at one data statement with more fields and a second page', async () => {
    const org = await signupOrg(server());
    for (let i = 0; i < 3; i++) {
      const tenant = await createTenant(server(), org.token, { displayName: `Paged ${i}` });
      await createApiKey(server(), org.token, tenant.id);
    }
    const first = await server().gql(
      `{ tenants(first: 2) { pageInfo { endCursor hasNextPage } edges { node { id } } } }`,
      {},
      org.token,
    );
    expect(first.data.tenants.pageInfo.hasNextPage).toBe(true);

    const { result, statements } = await recordStatements(() =>
      server().gql(
        `query($after: String) { tenants(first: 2, after: $after) { pageInfo { hasNextPage }
          edges { node { id displayName metricsHost status createdAt
            apiKeys { id displayName scopes createdAt revokedAt } } } } }`,
        { after: first.data.tenants.pageInfo.endCursor },
        org.token,
      ),
    );
    expect(result.errors).toBeUndefined();
    expect(result.data.tenants.edges).toHaveLength(1);
    expect(result.data.tenants.edges[0].node.apiKeys).toHaveLength(1);
    expect(result.data.tenants.pageInfo.hasNextPage).toBe(false);
    expect(statements.filter((s) => touches('tenants')(s) || touches('api_keys')(s))).toHaveLength(
      1,
    );
    expect(statements).toHaveLength(2);
  });
});
