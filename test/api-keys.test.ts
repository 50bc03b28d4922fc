import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/lib/clock.ts';
import { useTestServer } from './helpers/app.ts';
import { createApiKey, createTenant, signupOrg, type TestOrg } from './helpers/factories.ts';
import { postGql } from './helpers/graphql-http.ts';

const clock = new ManualClock(new Date('2026-06-18T10:00:00Z'));
const server = useTestServer({ overrides: { clock } });

const KEY = /^xag_[0-9A-Za-z]{28}$/;
const WRITE_SCOPES = ['metrics:write', 'logs:write', 'traces:write'];
const KEY_FIELDS = 'id tenantId displayName prefix createdAt expiresAt revokedAt lastUsedAt scopes';
const CREATE = `mutation($t: ID!, $n: String!, $s: [String!], $x: DateTime) {
  createApiKey(tenantId: $t, displayName: $n, scopes: $s, expiresAt: $x) {
    __typename ... on IssuedApiKey { key apiKey { ${KEY_FIELDS} } }
    ... on ValidationError { field message } } }`;
const LIST = `query($t: ID!) { apiKeys(tenantId: $t) { ... on QueryApiKeysSuccess { data { ${KEY_FIELDS} } } } }`;

let org: TestOrg;
let tenantId: string;
beforeAll(async () => {
  org = await signupOrg(server());
  // The free plan allows 5 active keys per tenant; this file makes more.
  await server().gql(`mutation { changePlan(plan: scale) { __typename } }`, {}, org.token);
  tenantId = (await createTenant(server(), org.token, { displayName: 'Key Store' })).id;
});

const create = (vars: Record<string, unknown>) =>
  server().gql(CREATE, { t: tenantId, n: 'collector', ...vars }, org.token);
const list = async () => (await server().gql(LIST, { t: tenantId }, org.token)).data.apiKeys.data;

describe('createApiKey', () => {
  it('returns the full key once, in the documented format, with write scopes by default', async () => {
    const res = await create({ n: 'prometheus' });
    const { key, apiKey } = res.data.createApiKey;
    expect(key).toMatch(KEY);
    expect(apiKey).toEqual({
      id: expect.stringMatching(/^key_[a-z2-7]{16}$/),
      tenantId,
      displayName: 'prometheus',
      prefix: key.slice(0, 8),
      createdAt: '2026-06-18T10:00:00Z',
      expiresAt: null,
      revokedAt: null,
      lastUsedAt: null,
      scopes: WRITE_SCOPES,
    });
    const other = await create({});
    expect(other.data.createApiKey.key).toMatch(KEY);
    expect(other.data.createApiKey.key).not.toBe(key);
  });

  it('takes custom scopes and drops duplicates', async () => {
    const res = await create({ s: ['metrics:read', 'logs:write', 'metrics:read'] });
    expect(res.data.createApiKey.apiKey.scopes).toEqual(['metrics:read', 'logs:write']);
    const all = [
      'metrics:write',
      'logs:write',
      'traces:write',
      'metrics:read',
      'logs:read',
      'traces:read',
    ];
    expect((await create({ s: all })).data.createApiKey.apiKey.scopes).toEqual(all);
  });

  it('rejects unknown and empty scopes, and expiry not in the future, writing nothing', async () => {
    const before = (await list()).length;
    for (const scopes of [['metrics:write', 'admin'], ['METRICS:WRITE'], ['metrics'], []]) {
      const res = await create({ s: scopes });
      expect(res.data.createApiKey.__typename, JSON.stringify(scopes)).toBe('ValidationError');
      expect(res.data.createApiKey.field).toMatch(/^scopes/);
      expect(res.data.createApiKey.message).toMatch(/scope/);
    }
    for (const at of ['2026-06-18T09:59:59Z', '2026-06-18T10:00:00Z', '2020-01-01T00:00:00Z']) {
      const res = await create({ x: at });
      expect(res.data.createApiKey).toEqual({
        __typename: 'ValidationError',
        field: 'expiresAt',
        message: expect.stringMatching(/future/),
      });
    }
    expect(await list()).toHaveLength(before);
  });

  it('keeps a future expiry, in UTC', async () => {
    const res = await create({ x: '2026-07-01T12:00:00+02:00' });
    expect(res.data.createApiKey.apiKey.expiresAt).toBe('2026-07-01T10:00:00Z');
  });

  it('has no way to read a secret back', async () => {
    const res = await server().gql(
      `query($t: ID!) { apiKeys(tenantId: $t) { ... on QueryApiKeysSuccess { data { key } } } }`,
      { t: tenantId },
      org.token,
    );
    expect(res.status).toBeLessThan(500);
    expect(res.errors?.[0]?.message).toMatch(/Cannot query field "key" on type "ApiKey"/);
  });
});

describe('apiKeys and revokeApiKey', () => {
  it('lists every key oldest first with its fields', async () => {
    clock.advance(60_000);
    const created = await createApiKey(server(), org.token, tenantId, {
      displayName: 'listed',
      scopes: ['traces:read'],
    });
    const keys = await list();
    const listed = keys.find((k: any) => k.id === created.id);
    expect(listed).toEqual({
      id: created.id,
      tenantId,
      displayName: 'listed',
      prefix: created.prefix,
      createdAt: '2026-06-18T10:01:00Z',
      expiresAt: null,
      revokedAt: null,
      lastUsedAt: null,
      scopes: ['traces:read'],
    });
    expect(keys.at(-1).id).toBe(created.id);
    const times = keys.map((k: any) => k.createdAt);
    expect([...times].sort()).toEqual(times);
  });

  it('sets revokedAt from the clock and is idempotent', async () => {
    const { id } = await createApiKey(server(), org.token, tenantId);
    clock.advance(5_000);
    const revokedAt = clock.now().toISOString().replace('.000Z', 'Z');
    const revoke = () =>
      server().gql(
        `mutation($id: ID!) { revokeApiKey(id: $id) { __typename ... on ApiKey { id revokedAt } } }`,
        { id },
        org.token,
      );
    expect((await revoke()).data.revokeApiKey).toEqual({ __typename: 'ApiKey', id, revokedAt });
    clock.advance(60_000);
    expect((await revoke()).data.revokeApiKey).toEqual({ __typename: 'ApiKey', id, revokedAt });
    expect((await list()).find((k: any) => k.id === id).revokedAt).toBe(revokedAt);

    const roll = await server().gql(
      `mutation($id: ID!) { rollApiKey(id: $id, gracePeriodSeconds: 0) { __typename ... on ValidationError { field } } }`,
      { id },
      org.token,
    );
    expect(roll.data.rollApiKey).toEqual({ __typename: 'ValidationError', field: 'id' });
  });
});

/** Every row of every table outside the system schemas, as one string. */
async function dumpDatabase(): Promise<{ text: string; tables: string[] }> {
  const rowsOf = (res: any): any[] => (Array.isArray(res) ? res : res.rows);
  const db = server().database.db;
  const tables = rowsOf(
    await db.execute(sql`select table_schema as s, table_name as t from information_schema.tables
      where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')`),
  ).map((r) => `"${r.s}"."${r.t}"`);
  let text = '';
  for (const table of tables) {
    const rows = rowsOf(await db.execute(sql.raw(`select * from ${table}`)));
    text += `${table}\n${JSON.stringify(rows, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}\n`;
  }
  return { text, tables };
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

describe('secret hygiene', () => {
  it('shows each secret in exactly one response and stores only its hash', async () => {
    const bodies: { step: string; text: string }[] = [];
    const call = async (step: string, query: string, variables: Record<string, unknown> = {}) => {
      const res = await postGql(server(), query, variables, `Bearer ${owner.token}`);
      expect(res.status, step).toBe(200);
      expect(res.json.errors, step).toBeUndefined();
      bodies.push({ step, text: res.text });
      return res.json.data;
    };
    const owner = await signupOrg(server(), 'Hygiene');
    const tenant = (
      await call(
        'createTenant',
        `mutation { createTenant(displayName: "Secret Keeper", environment: prod) { ... on Tenant { id } } }`,
      )
    ).createTenant.id;
    const issue = `mutation($t: ID!, $n: String!) { createApiKey(tenantId: $t, displayName: $n) {
      ... on IssuedApiKey { key apiKey { ${KEY_FIELDS} previousPrefix } clientConfig { prometheusRemoteWrite } } } }`;
    const first = (await call('create 1', issue, { t: tenant, n: 'active' })).createApiKey;
    const second = (await call('create 2', issue, { t: tenant, n: 'backup' })).createApiKey;
    const listKeys = `query($t: ID!) { apiKeys(tenantId: $t) { ... on QueryApiKeysSuccess { data { ${KEY_FIELDS} previousPrefix } } } }`;
    const nested = `{ tenants { edges { node { id displayName apiKeys { ${KEY_FIELDS} previousPrefix } } } } }`;
    await call('list', listKeys, { t: tenant });
    await call('nested list', nested);
    await call(
      'revoke',
      `mutation($id: ID!) { revokeApiKey(id: $id) { ... on ApiKey { ${KEY_FIELDS} } } }`,
      { id: first.apiKey.id },
    );
    const rolled = (
      await call(
        'roll',
        `mutation($id: ID!) { rollApiKey(id: $id, gracePeriodSeconds: 300) {
        ... on IssuedApiKey { key apiKey { ${KEY_FIELDS} previousPrefix } } } }`,
        { id: second.apiKey.id },
      )
    ).rollApiKey;
    await call('list after roll', listKeys, { t: tenant });
    await call('nested after roll', nested);

    expect(rolled.key).toMatch(KEY);
    expect(rolled.key).not.toBe(second.key);
    expect(rolled.apiKey.prefix).toBe(rolled.key.slice(0, 8));
    expect(rolled.apiKey.previousPrefix).toBe(second.key.slice(0, 8));

    const secrets = [
      { key: first.key, shownIn: 'create 1' },
      { key: second.key, shownIn: 'create 2' },
      { key: rolled.key, shownIn: 'roll' },
    ];
    for (const { key, shownIn } of secrets) {
      const showing = bodies.filter((b) => b.text.includes(key)).map((b) => b.step);
      expect(showing).toEqual([shownIn]);
      // Not even the part after the displayed prefix leaks elsewhere.
      const rest = bodies.filter((b) => b.step !== shownIn && b.text.includes(key.slice(8)));
      expect(rest).toEqual([]);
    }

    const dump = await dumpDatabase();
    expect(dump.tables).toEqual(
      expect.arrayContaining(['"public"."api_keys"', '"public"."audit_events"']),
    );
    expect(dump.text).toContain(tenant);
    for (const { key } of secrets) {
      expect(dump.text).not.toContain(key);
      expect(dump.text).not.toContain(key.slice(8));
      expect(dump.text).toContain(sha256(key));
    }
  });
});
