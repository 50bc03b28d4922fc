import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/lib/clock.ts';
import { KeyCache, type KeyGrant } from '../src/modules/verify/key-cache.ts';
import { useTestServer } from './helpers/app.ts';
import { createApiKey, createTenant, signupOrg } from './helpers/factories.ts';
import { bearer, verifyRequest } from './helpers/http.ts';

const grant: KeyGrant = {
  keyId: 'key_a',
  tenantId: 'xs_a_aaaaaaaa',
  scopes: ['metrics:write'],
  validUntil: undefined,
};

describe('KeyCache', () => {
  it('drops the oldest entry when full, so random keys cannot grow it', () => {
    const cache = new KeyCache(new ManualClock(), 15_000, 2_000, 3);
    for (let i = 0; i < 1000; i++) cache.set(`hash-${i}`, null);
    expect(cache.size).toBe(3);
    expect(cache.get('hash-999')).toBeNull();
    expect(cache.get('hash-0')).toBeUndefined();
  });

  it('keeps unknown keys for less time than known ones', () => {
    const clock = new ManualClock();
    const cache = new KeyCache(clock, 15_000, 2_000, 10);
    cache.set('known', grant);
    cache.set('unknown', null);
    clock.advance(2_001);
    expect(cache.get('unknown')).toBeUndefined();
    expect(cache.get('known')).toEqual(grant);
  });
});

const clock = new ManualClock(new Date());
const server = useTestServer({ overrides: { clock } });

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
