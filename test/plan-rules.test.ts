import { and, count, eq, isNull } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { apiKeys } from '../src/db/schema.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { useTestServer } from './helpers/app.ts';
import { createApiKey, createTenant, signupOrg } from './helpers/factories.ts';
import { bearer, verifyRequest } from './helpers/http.ts';
import { restAs } from './helpers/rest.ts';

/** The README's key rules: 5 active keys per tenant on free, a roll's grace at most 7 days. */
const clock = new ManualClock(new Date('2026-06-18T10:00:00Z'));
const server = useTestServer({ overrides: { clock } });

const CREATE = `mutation($t: ID!, $n: String!) { createApiKey(tenantId: $t, displayName: $n) {
  __typename ... on IssuedApiKey { apiKey { id } } ... on PlanLimitExceededError { plan limit max message } } }`;
const createKey = (token: string, tenantId: string, name = 'collector') =>
  server().gql(CREATE, { t: tenantId, n: name }, token);

async function activeKeysInDb(tenantId: string): Promise<number> {
  const [row] = await server()
    .database.db.select({ n: count() })
    .from(apiKeys)
    .where(and(eq(apiKeys.tenantId, tenantId), isNull(apiKeys.revokedAt)));
  return row!.n;
}

describe('5 active keys per tenant on the free plan', () => {
  it('the 6th is refused with a typed error over GraphQL and a 402 over REST; a revoke frees a slot', async () => {
    const org = await signupOrg(server(), 'Key Limit A');
    const tenant = await createTenant(server(), org.token);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await createKey(org.token, tenant.id, `key ${i}`);
      expect(res.data.createApiKey.__typename).toBe('IssuedApiKey');
      ids.push(res.data.createApiKey.apiKey.id);
    }
    const sixth = await createKey(org.token, tenant.id);
    expect(sixth.errors).toBeUndefined();
    expect(sixth.data.createApiKey).toEqual({
      __typename: 'PlanLimitExceededError',
      plan: 'free',
      limit: 'active API keys per tenant',
      max: 5,
      message: expect.stringMatching(/free.*5/),
    });
    const rest = await restAs(server().url, org.token)('POST', `/tenants/${tenant.id}/keys`, {
      body: { display_name: 'sixth over REST' },
    });
    expect(rest.status).toBe(402);
    expect(rest.json).toMatchObject({
      error: 'plan_limit_exceeded',
      plan: 'free',
      limit: 'active API keys per tenant',
      max: 5,
    });
    expect(await activeKeysInDb(tenant.id)).toBe(5);

    // The limit is per tenant: another tenant of the organisation has its own five.
    const other = await createTenant(server(), org.token, { displayName: 'Other Tenant' });
    expect((await createKey(org.token, other.id)).data.createApiKey.__typename).toBe(
      'IssuedApiKey',
    );

    // Revoked keys do not count.
    await server().gql(
      'mutation($id: ID!) { revokeApiKey(id: $id) { __typename } }',
      { id: ids[0] },
      org.token,
    );
    expect((await createKey(org.token, tenant.id)).data.createApiKey.__typename).toBe(
      'IssuedApiKey',
    );
    expect((await createKey(org.token, tenant.id)).data.createApiKey.__typename).toBe(
      'PlanLimitExceededError',
    );
  });

  it('holds under concurrency: 12 creates at once on a tenant with 2 keys leave exactly 5', async () => {
    const org = await signupOrg(server(), 'Key Limit B');
    const tenant = await createTenant(server(), org.token);
    await createApiKey(server(), org.token, tenant.id);
    await createApiKey(server(), org.token, tenant.id);
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => createKey(org.token, tenant.id, `race ${i}`)),
    );
    const kinds = results.map((r) => r.data.createApiKey.__typename);
    expect(kinds.filter((k) => k === 'IssuedApiKey')).toHaveLength(3);
    expect(kinds.filter((k) => k === 'PlanLimitExceededError')).toHaveLength(9);
    expect(await activeKeysInDb(tenant.id)).toBe(5);
  });
});

describe("a roll's grace period is at most 7 days", () => {
  const ROLL = `mutation($id: ID!, $g: Int!) { rollApiKey(id: $id, gracePeriodSeconds: $g) {
    __typename ... on IssuedApiKey { key apiKey { previousExpiresAt } } ... on ValidationError { field message } } }`;

  it('refuses 604801 s over GraphQL and REST, changing nothing', async () => {
    const org = await signupOrg(server(), 'Roll Cap A');
    const tenant = await createTenant(server(), org.token);
    const key = await createApiKey(server(), org.token, tenant.id);
    const res = await server().gql(ROLL, { id: key.id, g: 7 * 86_400 + 1 }, org.token);
    expect(res.data.rollApiKey).toEqual({
      __typename: 'ValidationError',
      field: 'gracePeriodSeconds',
      message: 'gracePeriodSeconds: must be at most 604800 (7 days)',
    });
    const rest = await restAs(server().url, org.token)(
      'POST',
      `/tenants/${tenant.id}/keys/${key.id}/roll`,
      { body: { grace_period_seconds: 7 * 86_400 + 1 } },
    );
    expect(rest.status).toBe(400);
    expect(rest.json).toEqual({
      error: 'validation_error',
      field: 'grace_period_seconds',
      message: 'grace_period_seconds: must be at most 604800 (7 days)',
    });
    // Neither refusal rolled the key: its secret still verifies, nothing is in grace.
    expect((await verifyRequest(server().url, bearer(key.key))).status).toBe(200);
    const [row] = await server()
      .database.db.select({ previous: apiKeys.previousHash })
      .from(apiKeys)
      .where(eq(apiKeys.id, key.id));
    expect(row!.previous).toBeNull();
  });

  it('accepts exactly 7 days: the old secret works until then and not a second after', async () => {
    const org = await signupOrg(server(), 'Roll Cap B');
    const tenant = await createTenant(server(), org.token);
    const key = await createApiKey(server(), org.token, tenant.id);
    const res = await server().gql(ROLL, { id: key.id, g: 7 * 86_400 }, org.token);
    expect(res.data.rollApiKey.__typename).toBe('IssuedApiKey');
    const graceEnd = new Date(clock.now().getTime() + 7 * 86_400_000);
    expect(res.data.rollApiKey.apiKey.previousExpiresAt).toBe(
      graceEnd.toISOString().replace('.000Z', 'Z'),
    );
    const fresh = res.data.rollApiKey.key as string;
    const start = clock.now().getTime();
    clock.set(new Date(graceEnd.getTime() - 1_000));
    expect((await verifyRequest(server().url, bearer(key.key))).status).toBe(200);
    clock.set(new Date(graceEnd.getTime() + 1_000));
    expect((await verifyRequest(server().url, bearer(key.key))).status).toBe(401);
    expect((await verifyRequest(server().url, bearer(fresh))).status).toBe(200);
    clock.set(new Date(start));
  });
});
