import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/lib/clock.ts';
import { cryptoRandom } from '../src/lib/ids.ts';
import { generateApiKey } from '../src/modules/api-keys/key-format.ts';
import { useTestServer } from './helpers/app.ts';
import { createApiKey, createTenant, signupOrg } from './helpers/factories.ts';
import { basic, bearer, verifyRequest } from './helpers/http.ts';

const clock = new ManualClock(new Date());
const server = useTestServer({ overrides: { clock } });

async function setup(scopes?: string[], expiresAt?: string) {
  const org = await signupOrg(server());
  const tenant = await createTenant(server(), org.token);
  const key = await createApiKey(server(), org.token, tenant.id, { scopes, expiresAt });
  return { org, tenant, key };
}

const mutate = (query: string, variables: Record<string, unknown>, token: string) =>
  server().gql(query, variables, token);

describe('GET /auth/verify', () => {
  it('accepts bearer and basic auth and returns the tenant in X-Scope-OrgID', async () => {
    const { tenant, key } = await setup();
    const viaBearer = await verifyRequest(server().url, bearer(key.key));
    expect(viaBearer).toMatchObject({ status: 200, orgId: tenant.id });
    const viaBasic = await verifyRequest(server().url, basic(tenant.id, key.key), 'logs:write');
    expect(viaBasic).toMatchObject({ status: 200, orgId: tenant.id });
    // Envoy ext_authz appends the original path.
    const res = await fetch(`${server().url}/auth/verify/api/v1/push`, {
      headers: { authorization: bearer(key.key), 'x-required-scope': 'metrics:write' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-scope-orgid')).toBe(tenant.id);
  });

  it('takes the scope from the proxy, never from the client, and fails closed without one', async () => {
    const { tenant, key } = await setup(['logs:write']);
    const at = (path: string, headers: Record<string, string> = {}) =>
      fetch(`${server().url}${path}`, { headers: { authorization: bearer(key.key), ...headers } });
    // Envoy appends the client's path and query: a ?scope= there is the client's word.
    const envoy = await at('/auth/verify/api/v1/push?scope=logs:write', {
      'x-required-scope': 'metrics:write',
    });
    expect(envoy.status).toBe(403);
    expect(envoy.headers.get('x-scope-orgid')).toBeNull();
    const noHeader = await at('/auth/verify/loki/api/v1/push?scope=logs:write');
    expect(noHeader.status).toBe(400);
    expect(await noHeader.json()).toMatchObject({ error: 'missing_scope' });
    const logs = await at('/auth/verify/loki/api/v1/push', { 'x-required-scope': 'logs:write' });
    expect(logs.status).toBe(200);
    expect(logs.headers.get('x-scope-orgid')).toBe(tenant.id);
    // On the exact path the query is the proxy's own (nginx writes it in its config).
    expect((await at('/auth/verify?scope=logs:write')).status).toBe(200);
    expect((await at('/auth/verify?scope=metrics:write')).status).toBe(403);
    // A proxy that forgets the scope gets an answer that says so, never a pass.
    for (const path of ['/auth/verify', '/auth/verify?scope=', '/auth/verify/v1/traces']) {
      const res = await at(path);
      expect(res.status).toBe(400);
      expect((await res.json()).error).toBe('missing_scope');
    }
  });

  it('gives the same 401 for every cause, and 403 for a missing scope', async () => {
    const { org, tenant, key } = await setup(['metrics:write']);
    const other = await createTenant(server(), org.token, { displayName: 'Other' });
    const otherKey = await createApiKey(server(), org.token, other.id);
    const flipped = `${key.key.slice(0, -1)}${key.key.endsWith('A') ? 'B' : 'A'}`;
    const causes = {
      missing: undefined,
      checksum: bearer(flipped),
      garbage: bearer('xag_nope'),
      wrongTenantInBasic: basic(tenant.id, otherKey.key),
      unknownTenantInBasic: basic('xs_nobody_aaaaaaaa', key.key),
      emptyBasic: 'Basic ',
      nonBase64: 'Basic %%%%',
      noColon: `Basic ${Buffer.from('justakey').toString('base64')}`,
      unicode: `Basic ${Buffer.from(`ténant:${key.key}`).toString('base64')}`,
      huge: bearer('x'.repeat(10_000)),
      schemeOnly: 'Bearer',
    };
    const bodies = new Set<string>();
    for (const [cause, header] of Object.entries(causes)) {
      const res = await verifyRequest(server().url, header);
      expect(res.status, cause).toBe(401);
      expect(res.orgId, cause).toBeNull();
      bodies.add(res.body);
    }
    expect(bodies.size).toBe(1);
    const noScope = await verifyRequest(server().url, bearer(key.key), 'logs:write');
    expect(noScope.status).toBe(403);
    expect(noScope.body).toContain('logs:write');
    const badScope = await verifyRequest(server().url, bearer(key.key), 'everything');
    expect(badScope.status).toBe(400);
  });

  it('refuses a revoked key at once on this instance', async () => {
    const { org, key } = await setup();
    expect((await verifyRequest(server().url, bearer(key.key))).status).toBe(200);
    await mutate(
      'mutation($id: ID!) { revokeApiKey(id: $id) { __typename } }',
      { id: key.id },
      org.token,
    );
    expect((await verifyRequest(server().url, bearer(key.key))).status).toBe(401);
  });

  it('stops a key at its exact expiry even while cached', async () => {
    const expiresAt = new Date(clock.now().getTime() + 60_000);
    const { key } = await setup(undefined, expiresAt.toISOString());
    clock.set(new Date(expiresAt.getTime() - 1));
    expect((await verifyRequest(server().url, bearer(key.key))).status).toBe(200);
    clock.set(expiresAt);
    expect((await verifyRequest(server().url, bearer(key.key))).status).toBe(401);
  });

  it('refuses every key of a suspended or deleted tenant, across signals', async () => {
    const { org, tenant, key } = await setup();
    for (const scope of ['metrics:write', 'logs:write', 'traces:write']) {
      expect((await verifyRequest(server().url, bearer(key.key), scope)).status).toBe(200);
    }
    await mutate(
      'mutation($id: ID!) { suspendTenant(id: $id) { __typename } }',
      { id: tenant.id },
      org.token,
    );
    for (const scope of ['metrics:write', 'logs:write', 'traces:write']) {
      expect((await verifyRequest(server().url, bearer(key.key), scope)).status).toBe(401);
    }
    await mutate(
      'mutation($id: ID!) { resumeTenant(id: $id) { __typename } }',
      { id: tenant.id },
      org.token,
    );
    expect((await verifyRequest(server().url, bearer(key.key))).status).toBe(200);
    await mutate(
      'mutation($id: ID!) { deleteTenant(id: $id) { __typename } }',
      { id: tenant.id },
      org.token,
    );
    expect((await verifyRequest(server().url, bearer(key.key))).status).toBe(401);
  });

  it('rolls a key: new secret at once, old one until the grace period ends', async () => {
    const { org, key } = await setup();
    const rolled = await mutate(
      `mutation($id: ID!) { rollApiKey(id: $id, gracePeriodSeconds: 300) {
        ... on IssuedApiKey { key apiKey { prefix previousPrefix previousExpiresAt } } } }`,
      { id: key.id },
      org.token,
    );
    const issued = rolled.data.rollApiKey;
    expect(issued.key).not.toBe(key.key);
    expect(issued.apiKey.previousPrefix).toBe(key.prefix);
    expect(issued.apiKey.prefix).toBe(issued.key.slice(0, 8));
    expect((await verifyRequest(server().url, bearer(issued.key))).status).toBe(200);
    expect((await verifyRequest(server().url, bearer(key.key))).status).toBe(200);
    clock.advance(301_000);
    expect((await verifyRequest(server().url, bearer(key.key))).status).toBe(401);
    expect((await verifyRequest(server().url, bearer(issued.key))).status).toBe(200);

    const immediate = await mutate(
      'mutation($id: ID!) { rollApiKey(id: $id, gracePeriodSeconds: 0) { ... on IssuedApiKey { key } } }',
      { id: key.id },
      org.token,
    );
    expect((await verifyRequest(server().url, bearer(issued.key))).status).toBe(401);
    expect((await verifyRequest(server().url, bearer(immediate.data.rollApiKey.key))).status).toBe(
      200,
    );
  });

  it('records lastUsedAt in batches, due when the clock passes 5 s, and shows it in apiKeys', async () => {
    const { org, tenant, key } = await setup();
    const { verify } = server().app.services;
    await verify.flushLastUsed();
    const updates: string[] = [];
    const off = server().database.onQuery((q) => {
      if (/update\s+"?api_keys/i.test(q)) updates.push(q);
    });
    try {
      // The clock stands still: however long this takes in real time, no flush is due.
      for (let i = 0; i < 20; i++) await verifyRequest(server().url, bearer(key.key));
      await verify.lastUsedSettled();
      expect(updates).toHaveLength(0);
      clock.advance(4_999);
      await verifyRequest(server().url, bearer(key.key));
      await verify.lastUsedSettled();
      expect(updates).toHaveLength(0);
      // 5 s on the clock since the last flush: the next use starts one, for all 22 uses.
      clock.advance(1);
      await verifyRequest(server().url, bearer(key.key));
      await verify.lastUsedSettled();
      expect(updates).toHaveLength(1);
    } finally {
      off();
    }
    const res = await server().gql(
      'query($t: ID!) { apiKeys(tenantId: $t) { ... on QueryApiKeysSuccess { data { id lastUsedAt } } } }',
      { t: tenant.id },
      org.token,
    );
    const listed = res.data.apiKeys.data.find((k: { id: string }) => k.id === key.id);
    expect(listed.lastUsedAt).toBe(
      clock
        .now()
        .toISOString()
        .replace(/\.\d{3}Z$/, 'Z'),
    );
  });

  it('never reaches the database for a key whose checksum fails', async () => {
    const { key } = await setup();
    const statements: string[] = [];
    const off = server().database.onQuery((q) => statements.push(q));
    try {
      for (let i = 0; i < 50; i++) {
        // A well-formed key with one character of its body changed: the checksum catches it.
        const body = generateApiKey(cryptoRandom);
        const typo = `${body.slice(0, 10)}${body[10] === 'a' ? 'b' : 'a'}${body.slice(11)}`;
        expect((await verifyRequest(server().url, bearer(typo))).status).toBe(401);
      }
      const flipped = `${key.key.slice(0, -1)}${key.key.endsWith('A') ? 'B' : 'A'}`;
      expect((await verifyRequest(server().url, bearer(flipped))).status).toBe(401);
      expect(statements).toEqual([]);
      // The check can fail: a well-formed unknown key is looked up.
      await verifyRequest(server().url, bearer(generateApiKey(cryptoRandom)));
      expect(statements.length).toBeGreaterThan(0);
    } finally {
      off();
    }
  });

  it('refuses unknown, revoked, expired and suspended keys byte for byte like a malformed one', async () => {
    const answer = async (authorization: string) => {
      const res = await fetch(`${server().url}/auth/verify?scope=metrics:write`, {
        headers: { authorization },
      });
      // Date and X-Request-Id differ on every answer, whatever the cause.
      const headers = Object.fromEntries(
        [...res.headers].filter(([name]) => name !== 'date' && name !== 'x-request-id').sort(),
      );
      return { status: res.status, headers, body: await res.text() };
    };
    const reference = await answer(bearer('xag_nope'));
    expect(reference.status).toBe(401);

    const revoked = await setup();
    await mutate(
      'mutation($id: ID!) { revokeApiKey(id: $id) { __typename } }',
      { id: revoked.key.id },
      revoked.org.token,
    );
    const expiring = await setup(undefined, new Date(clock.now().getTime() + 1_000).toISOString());
    clock.advance(1_000);
    const suspended = await setup();
    await mutate(
      'mutation($id: ID!) { suspendTenant(id: $id) { __typename } }',
      { id: suspended.tenant.id },
      suspended.org.token,
    );
    const fromDatabase = {
      unknown: generateApiKey(cryptoRandom),
      revoked: revoked.key.key,
      expired: expiring.key.key,
      suspended: suspended.key.key,
    };
    for (const [cause, key] of Object.entries(fromDatabase)) {
      // Looked up (first) and cached (second): both the same as the malformed key's answer.
      expect(await answer(bearer(key)), cause).toEqual(reference);
      expect(await answer(bearer(key)), `${cause}, cached`).toEqual(reference);
    }
  });
});
