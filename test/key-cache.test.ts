import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/lib/clock.ts';
import { hashApiKey } from '../src/modules/api-keys/key-format.ts';
import { KeyCache, type KeyGrant, type KeyLookup } from '../src/modules/verify/key-cache.ts';
import { useTestServer } from './helpers/app.ts';
import { createApiKey, createTenant, signupOrg } from './helpers/factories.ts';
import { bearer, verifyRequest } from './helpers/http.ts';

const grant: KeyGrant = {
  keyId: 'key_a',
  tenantId: 'xs_a_aaaaaaaa',
  scopes: ['metrics:write'],
  validUntil: undefined,
};
const known: KeyLookup = { grant, tenantId: grant.tenantId };
const unknown: KeyLookup = { grant: null, tenantId: undefined };

describe('KeyCache', () => {
  it('drops the oldest entry when full, so random keys cannot grow it', () => {
    const cache = new KeyCache(new ManualClock(), 15_000, 2_000, 3);
    for (let i = 0; i < 1000; i++) cache.set(`hash-${i}`, unknown);
    expect(cache.size).toBe(3);
    expect(cache.get('hash-999')).toBeNull();
    expect(cache.get('hash-0')).toBeUndefined();
  });

  it('keeps unknown keys apart: a flood of them never pushes out a known key', () => {
    const cache = new KeyCache(new ManualClock(), 15_000, 2_000, 100, 10);
    cache.set('known', known);
    for (let i = 0; i < 10_000; i++) cache.set(`random-${i}`, unknown);
    expect(cache.size).toBe(11);
    expect(cache.get('known')).toEqual(grant);
  });

  it('keeps unknown keys for less time than known ones', () => {
    const clock = new ManualClock();
    const cache = new KeyCache(clock, 15_000, 2_000, 10);
    cache.set('known', known);
    cache.set('unknown', unknown);
    clock.advance(2_001);
    expect(cache.get('unknown')).toBeUndefined();
    expect(cache.get('known')).toEqual(grant);
  });

  it('remembers lately usable keys past their entry, bounded, and forgets a refused one', async () => {
    const cache = new KeyCache(new ManualClock(), 15_000, 2_000, 3);
    for (let i = 0; i < 10; i++) await cache.lookup(`usable-${i}`, async () => known);
    cache.clear();
    expect(cache.wasUsable('usable-9')).toBe(true);
    expect(cache.wasUsable('usable-0')).toBe(false);
    await cache.lookup('usable-9', async () => ({ grant: null, tenantId: grant.tenantId }));
    expect(cache.wasUsable('usable-9')).toBe(false);
    await cache.lookup('never', async () => unknown);
    expect(cache.wasUsable('never')).toBe(false);
  });

  it("evicts a tenant's entries, refusals included, and nobody else's", () => {
    const cache = new KeyCache(new ManualClock(), 15_000, 2_000, 10);
    cache.set('usable', known);
    cache.set('revoked', { grant: null, tenantId: grant.tenantId });
    cache.set('other', {
      grant: { ...grant, tenantId: 'xs_b_bbbbbbbb' },
      tenantId: 'xs_b_bbbbbbbb',
    });
    cache.evictTenant(grant.tenantId);
    expect(cache.get('usable')).toBeUndefined();
    expect(cache.get('revoked')).toBeUndefined();
    expect(cache.get('other')).not.toBeUndefined();
    expect(cache.size).toBe(1);
  });
});

const clock = new ManualClock(new Date());
const server = useTestServer({ overrides: { clock } });

const revokeKey = (id: string, token: string) =>
  server().gql('mutation($id: ID!) { revokeApiKey(id: $id) { __typename } }', { id }, token);
const suspendTenant = (id: string, token: string) =>
  server().gql('mutation($id: ID!) { suspendTenant(id: $id) { __typename } }', { id }, token);

describe('a lookup that raced an eviction is not cached', () => {
  // The service's own cache and database lookup; the change lands between read and store.
  const lookupWith = (hash: string, between: () => Promise<unknown>) => {
    const { cache, load } = server().app.services.verify;
    return cache.lookup(hash, async (h) => {
      const read = await load(h);
      await between();
      return read;
    });
  };

  it('revoke between read and store: the key is refused at once, not for 15 s more', async () => {
    const org = await signupOrg(server());
    const tenant = await createTenant(server(), org.token);
    const key = await createApiKey(server(), org.token, tenant.id);
    const hash = hashApiKey(key.key);

    const read = await lookupWith(hash, () => revokeKey(key.id, org.token));
    // The read happened before the revoke (true then), but it must not outlive it.
    expect(read.grant?.keyId).toBe(key.id);
    expect(server().app.services.verify.cache.get(hash)).toBeUndefined();
    expect((await verifyRequest(server().url, bearer(key.key))).status).toBe(401);
  });

  it('suspension between read and store: refused at once', async () => {
    const org = await signupOrg(server());
    const tenant = await createTenant(server(), org.token);
    const key = await createApiKey(server(), org.token, tenant.id);
    const hash = hashApiKey(key.key);

    await lookupWith(hash, () => suspendTenant(tenant.id, org.token));
    expect(server().app.services.verify.cache.get(hash)).toBeUndefined();
    expect((await verifyRequest(server().url, bearer(key.key))).status).toBe(401);
  });

  it('with no eviction in between, the answer is cached (the check can fail)', async () => {
    const org = await signupOrg(server());
    const tenant = await createTenant(server(), org.token);
    const key = await createApiKey(server(), org.token, tenant.id);
    const hash = hashApiKey(key.key);
    await lookupWith(hash, async () => {});
    expect(server().app.services.verify.cache.get(hash)?.keyId).toBe(key.id);
  });
});

describe('revocation without a notification (NOTIFY lost)', () => {
  it('still works at 14.9 s from the lookup and is refused at 15.1 s', async () => {
    const org = await signupOrg(server());
    const tenant = await createTenant(server(), org.token);
    const key = await createApiKey(server(), org.token, tenant.id);
    expect((await verifyRequest(server().url, bearer(key.key))).status).toBe(200);

    // Revoke behind the portal's back: no event reaches the cache, only the TTL protects us.
    await server().database.db.execute(
      sql`update api_keys set revoked_at = now() where id = ${key.id}`,
    );
    clock.advance(14_900);
    expect((await verifyRequest(server().url, bearer(key.key))).status).toBe(200);
    clock.advance(200);
    expect((await verifyRequest(server().url, bearer(key.key))).status).toBe(401);
  });

  it('refuses KEY_CACHE_TTL_S above 15', async () => {
    const { loadConfig } = await import('../src/config.ts');
    expect(() => loadConfig({ KEY_CACHE_TTL_S: '16' })).toThrow(
      /KEY_CACHE_TTL_S must be at most 15/,
    );
    expect(loadConfig({}).keyCache.ttlSeconds).toBe(15);
  });
});
