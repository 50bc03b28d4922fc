import { randomBytes } from 'node:crypto';
import { count, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { tenants } from '../src/db/schema.ts';
import { generateTenantId, slugify } from '../src/modules/tenants/tenant-id.ts';
import { useTestServer } from './helpers/app.ts';
import { createTenant, signupOrg, type TestOrg } from './helpers/factories.ts';

const TENANT_ID = /^xs_[a-z0-9]{1,20}_[a-z2-7]{8}$/;

/**
 * Randomness the tests can steer: 5-byte requests (tenant ID suffixes) return `forced` while
 * `forcedLeft` > 0; everything else is the real CSPRNG.
 */
const steer = { forced: Buffer.alloc(5), forcedLeft: 0, suffixRequests: 0 };
function steeredRandom(size: number): Buffer {
  if (size !== 5) return randomBytes(size);
  steer.suffixRequests++;
  if (steer.forcedLeft > 0) {
    steer.forcedLeft--;
    return Buffer.from(steer.forced);
  }
  return randomBytes(size);
}

const server = useTestServer({ overrides: { random: steeredRandom } });

describe('slugify', () => {
  it.each([
    ['Payment Service Production', 'payment'],
    ['Zürich Payments', 'zurich'],
    ['Ångström Labs', 'angstrom'],
    ['Straße Ops', 'strasse'],
    ['Ｐａｙｍｅｎｔ fullwidth', 'payment'],
    ['日本 サービス', 'tenant'],
    ['🚀🚀', 'tenant'],
    ['--Payment!! Service', 'payment'],
    ['  ...checkout-api v2', 'checkout'],
    ['payment_service', 'payment'],
    ['2024 Budget', '2024'],
    ['Team42 Alpha', 'team42'],
    ['Supercalifragilisticexpialidocious app', 'supercalifragilistic'],
  ])('%j -> %s', (name, slug) => {
    expect(slugify(name)).toBe(slug);
  });

  it('caps the slug at 20 characters of [a-z0-9]', () => {
    const slug = slugify('A'.repeat(200));
    expect(slug).toBe('a'.repeat(20));
  });
});

describe('generateTenantId', () => {
  it('asks for exactly 40 random bits and encodes them as RFC 4648 base32, lower case', () => {
    const sizes: number[] = [];
    // RFC 4648 test vector: base32("fooba") = "MZXW6YTB".
    const id = generateTenantId('Payment Service', (n) => {
      sizes.push(n);
      return Buffer.from('fooba');
    });
    expect(sizes).toEqual([5]);
    expect(id).toBe('xs_payment_mzxw6ytb');
    expect(generateTenantId('x', () => Buffer.alloc(5, 0))).toBe('xs_x_aaaaaaaa');
    expect(generateTenantId('x', () => Buffer.alloc(5, 0xff))).toBe('xs_x_77777777');
  });

  it('produces 8 characters of a-z2-7 and varies with the randomness', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const id = generateTenantId('日本 サービス', (n) => randomBytes(n));
      expect(id).toMatch(/^xs_tenant_[a-z2-7]{8}$/);
      ids.add(id);
    }
    expect(ids.size).toBe(500);
  });
});

describe('tenant display names through the API', () => {
  const create = (org: TestOrg, displayName: unknown) =>
    server().gql(
      `mutation($n: String!) { createTenant(displayName: $n, environment: prod) {
        __typename ... on Tenant { id displayName } ... on ValidationError { field message } } }`,
      { n: displayName },
      org.token,
    );
  const liveTenants = async (org: TestOrg) => {
    const res = await server().gql(`{ tenants { edges { node { id } } } }`, {}, org.token);
    return res.data.tenants.edges.length as number;
  };

  it('builds the ID from the name and trims it', async () => {
    const org = await signupOrg(server());
    const res = await create(org, '  Zürich Payments  ');
    expect(res.data.createTenant.__typename).toBe('Tenant');
    expect(res.data.createTenant.id).toMatch(/^xs_zurich_[a-z2-7]{8}$/);
    expect(res.data.createTenant.displayName).toBe('Zürich Payments');
    const cjk = await create(org, '日本 サービス');
    expect(cjk.data.createTenant.id).toMatch(/^xs_tenant_[a-z2-7]{8}$/);
    // Exactly 100 characters is allowed.
    const long = await create(org, `L${'x'.repeat(99)}`);
    expect(long.data.createTenant.id).toMatch(/^xs_lxxxxxxxxxxxxxxxxxxx_[a-z2-7]{8}$/);
  });

  it('rejects empty, whitespace-only, overlong and control-character names', async () => {
    const org = await signupOrg(server());
    const cases: [string, RegExp][] = [
      ['', /empty/],
      ['   ', /empty|whitespace/],
      [' \u00a0\u2003 ', /empty|whitespace/],
      ['x'.repeat(101), /100/],
      ['Pay\u0000ment', /control/],
      ['Payment\nService', /control/],
      ['Payment\u001bService', /control/],
    ];
    for (const [name, message] of cases) {
      const res = await create(org, name);
      expect(res.status, JSON.stringify(name)).toBe(200);
      const result = res.data.createTenant;
      expect(result.__typename, JSON.stringify(name)).toBe('ValidationError');
      expect(result.field).toBe('displayName');
      expect(result.message).toMatch(message);
      expect(result.message).toMatch(/displayName/);
    }
    expect(await liveTenants(org)).toBe(0);
  });

  it('rejects the same names on update and keeps the old one', async () => {
    const org = await signupOrg(server());
    const tenant = await createTenant(server(), org.token, { displayName: 'Keep Me' });
    for (const name of ['', '  ', 'y'.repeat(101), 'bad\u0007name']) {
      const res = await server().gql(
        `mutation($id: ID!, $n: String) { updateTenant(id: $id, displayName: $n) {
          __typename ... on ValidationError { field } } }`,
        { id: tenant.id, n: name },
        org.token,
      );
      expect(res.data.updateTenant).toEqual({
        __typename: 'ValidationError',
        field: 'displayName',
      });
    }
    const [row] = await server()
      .database.db.select()
      .from(tenants)
      .where(eq(tenants.id, tenant.id));
    expect(row?.displayName).toBe('Keep Me');
  });

  it('does not let the client choose the ID', async () => {
    const org = await signupOrg(server());
    const res = await server().gql(
      `mutation { createTenant(id: "xs_mine_aaaaaaaa", displayName: "Mine", environment: prod) {
        __typename } }`,
      {},
      org.token,
    );
    expect(res.status).toBeGreaterThanOrEqual(200);
    expect(res.status).toBeLessThan(500);
    expect(res.data ?? null).toBeNull();
    expect(res.errors?.[0]?.message).toMatch(/Unknown argument "id"/);
    const [n] = await server()
      .database.db.select({ n: count() })
      .from(tenants)
      .where(eq(tenants.id, 'xs_mine_aaaaaaaa'));
    expect(n?.n).toBe(0);
  });

  it('retries when a generated ID collides', async () => {
    const org = await signupOrg(server());
    steer.forced = Buffer.from('fooba');
    // The first tenant takes the forced suffix; the second collides twice, then gets a fresh one.
    steer.forcedLeft = 3;
    steer.suffixRequests = 0;
    const first = await createTenant(server(), org.token, { displayName: 'Collide' });
    const second = await createTenant(server(), org.token, { displayName: 'Collide' });
    expect(first.id).toBe('xs_collide_mzxw6ytb');
    expect(second.id).toMatch(/^xs_collide_[a-z2-7]{8}$/);
    expect(second.id).not.toBe(first.id);
    expect(steer.suffixRequests).toBe(4);
    expect(steer.forcedLeft).toBe(0);
    for (const id of [first.id, second.id]) expect(id).toMatch(TENANT_ID);
  });

  it('never reuses the ID of a deleted tenant', async () => {
    const org = await signupOrg(server());
    steer.forced = Buffer.from('reuse');
    steer.forcedLeft = 2;
    const first = await createTenant(server(), org.token, { displayName: 'Again' });
    await server().gql(
      `mutation($id: ID!) { deleteTenant(id: $id) { __typename } }`,
      { id: first.id },
      org.token,
    );
    const second = await createTenant(server(), org.token, { displayName: 'Again' });
    expect(second.id).not.toBe(first.id);
    expect(steer.forcedLeft).toBe(0);
  });
});
