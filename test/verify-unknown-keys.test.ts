import { describe, expect, it } from 'vitest';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { cryptoRandom } from '../src/lib/ids.ts';
import { createLogger } from '../src/lib/logger.ts';
import { generateApiKey } from '../src/modules/api-keys/key-format.ts';
import { UnknownKeyLimiter } from '../src/modules/verify/unknown-key-limiter.ts';
import { testEnv, useTestServer } from './helpers/app.ts';
import { createApiKey, createTenant, signupOrg } from './helpers/factories.ts';
import { bearer } from './helpers/http.ts';

const clock = new ManualClock(new Date());
// 5 misses at once, then 1 per second, per source; the test client is the trusted proxy.
const server = useTestServer({
  overrides: { clock },
  env: {
    VERIFY_UNKNOWN_KEY_RATE: '1',
    VERIFY_UNKNOWN_KEY_BURST: '5',
    TRUSTED_PROXIES: '127.0.0.1',
  },
});

/** /auth/verify as the proxy asks it for the client at `from`. */
async function verifyFrom(from: string, key: string) {
  const res = await fetch(`${server().url}/auth/verify?scope=metrics:write`, {
    headers: { authorization: bearer(key), 'x-forwarded-for': from },
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.text() };
}

const randomKey = () => generateApiKey(cryptoRandom);

/** Counts the key lookups that reach the database while fn runs. */
async function lookupsDuring(fn: () => Promise<void>): Promise<number> {
  let lookups = 0;
  const off = server().database.onQuery((q) => {
    if (/from "api_key_secrets"/i.test(q)) lookups++;
  });
  try {
    await fn();
  } finally {
    off();
  }
  return lookups;
}

describe('unknown keys are limited per source', () => {
  it('answers 429 with Retry-After past the burst, and the database sees only the burst', async () => {
    const from = '203.0.113.10';
    const answers: { status: number; retryAfter: string | null; body: string }[] = [];
    const lookups = await lookupsDuring(async () => {
      for (let i = 0; i < 50; i++) answers.push(await verifyFrom(from, randomKey()));
    });
    expect(lookups).toBe(5);
    expect(answers.slice(0, 5).map((a) => a.status)).toEqual([401, 401, 401, 401, 401]);
    for (const refused of answers.slice(5)) {
      expect(refused.status).toBe(429);
      expect(refused.retryAfter).toBe('1');
      expect(JSON.parse(refused.body)).toEqual({
        error: 'too_many_requests',
        message: 'Too many unknown API keys from this address; retry in 1 s',
      });
    }
    // Other sources keep their own budget.
    expect((await verifyFrom('203.0.113.11', randomKey())).status).toBe(401);
    // Paid back by time: one more lookup after a second, then refused again.
    clock.advance(1_000);
    expect((await verifyFrom(from, randomKey())).status).toBe(401);
    expect((await verifyFrom(from, randomKey())).status).toBe(429);
  });

  it('never slows a known key: a cached key is answered while its source is limited', async () => {
    const org = await signupOrg(server());
    const tenant = await createTenant(server(), org.token);
    const key = await createApiKey(server(), org.token, tenant.id);
    const from = '203.0.113.20';
    // Known keys looked up again and again (each past the cache TTL) spend nothing.
    for (let i = 0; i < 10; i++) {
      expect((await verifyFrom(from, key.key)).status).toBe(200);
      clock.advance(15_000);
    }
    expect((await verifyFrom(from, key.key)).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await verifyFrom(from, randomKey())).status).toBe(401);
    expect((await verifyFrom(from, randomKey())).status).toBe(429);
    for (let i = 0; i < 20; i++) {
      const answer = await verifyFrom(from, key.key);
      expect(answer.status).toBe(200);
    }
    // Its entry gone (cleared, as on a listener reconnect): a key that worked is still looked up.
    server().app.services.verify.cache.clear();
    expect((await verifyFrom(from, key.key)).status).toBe(200);
    expect((await verifyFrom(from, randomKey())).status).toBe(429);
    // That lookup still asks the database: a key revoked meanwhile is refused, not waved through.
    await server().gql(
      'mutation($id: ID!) { revokeApiKey(id: $id) { __typename } }',
      { id: key.id },
      org.token,
    );
    expect((await verifyFrom(from, key.key)).status).toBe(401);
  });

  it('a repeated unknown key is answered from the negative cache, not counted again', async () => {
    const from = '203.0.113.30';
    const same = randomKey();
    const lookups = await lookupsDuring(async () => {
      for (let i = 0; i < 20; i++) expect((await verifyFrom(from, same)).status).toBe(401);
    });
    expect(lookups).toBe(1);
    for (let i = 0; i < 4; i++) expect((await verifyFrom(from, randomKey())).status).toBe(401);
    expect((await verifyFrom(from, randomKey())).status).toBe(429);
  });

  it('bounds a flood sent all at once: no more lookups than the burst', async () => {
    const from = '203.0.113.40';
    const lookups = await lookupsDuring(async () => {
      const answers = await Promise.all(
        Array.from({ length: 40 }, () => verifyFrom(from, randomKey())),
      );
      expect(answers.filter((a) => a.status === 401)).toHaveLength(5);
      expect(answers.filter((a) => a.status === 429)).toHaveLength(35);
    });
    expect(lookups).toBe(5);
  });

  it('a new instance knows the keys used lately: their first lookup there skips a spent budget', async () => {
    const org = await signupOrg(server());
    const tenant = await createTenant(server(), org.token);
    const key = await createApiKey(server(), org.token, tenant.id);
    const unused = await createApiKey(server(), org.token, tenant.id);
    expect((await verifyFrom('203.0.113.50', key.key)).status).toBe(200);
    await server().app.services.verify.flushLastUsed();
    // A second portal on the same database, as after a restart or a scale-out.
    const fresh = await createApp(
      loadConfig(
        testEnv({
          TRUSTED_PROXIES: '127.0.0.1',
          VERIFY_UNKNOWN_KEY_RATE: '1',
          VERIFY_UNKNOWN_KEY_BURST: '5',
        }),
      ),
      {
        logger: createLogger('silent'),
        clock,
        database: server().database,
      },
    );
    const { url } = await fresh.start();
    try {
      const from = '203.0.113.51';
      const ask = async (k: string) =>
        (
          await fetch(`${url}/auth/verify?scope=metrics:write`, {
            headers: { authorization: bearer(k), 'x-forwarded-for': from },
          })
        ).status;
      for (let i = 0; i < 5; i++) expect(await ask(randomKey())).toBe(401);
      expect(await ask(randomKey())).toBe(429);
      expect(await ask(key.key)).toBe(200);
      // A valid key never used anywhere is not known yet: it waits for its source's budget.
      expect(await ask(unused.key)).toBe(429);
    } finally {
      await fresh.stop();
    }
  });

  it('counts an IPv6 /64 as one source', async () => {
    for (let i = 0; i < 5; i++) {
      expect((await verifyFrom(`2001:db8:1:2::${i + 1}`, randomKey())).status).toBe(401);
    }
    expect((await verifyFrom('2001:db8:1:2:ffff::9', randomKey())).status).toBe(429);
    expect((await verifyFrom('2001:db8:1:3::1', randomKey())).status).toBe(401);
  });
});

describe('UnknownKeyLimiter', () => {
  it('keeps memory bounded: at most maxSources, and a source paid back is forgotten', () => {
    const limiterClock = new ManualClock();
    const limiter = new UnknownKeyLimiter(limiterClock, 10, 20, 1_000);
    for (let i = 0; i < 100_000; i++) limiter.take(`198.51.${i >> 8}.${i & 255}`);
    expect(limiter.size).toBe(1_000);
    // A lookup that found a usable key gives its token back: the bucket is full again, and gone.
    limiter.refund('198.51.390.159');
    expect(limiter.size).toBe(999);
  });

  it('takes the token before the lookup: of 50 at once, only the burst reaches the database', () => {
    const limiterClock = new ManualClock();
    const limiter = new UnknownKeyLimiter(limiterClock, 10, 20);
    const waits = Array.from({ length: 50 }, () => limiter.take('a'));
    expect(waits.filter((w) => w === 0)).toHaveLength(20);
    expect(waits.slice(20)).toEqual(Array(30).fill(1));
    limiterClock.advance(1_000);
    expect(Array.from({ length: 11 }, () => limiter.take('a'))).toEqual([...Array(10).fill(0), 1]);
  });

  it('refuses a bad setting by name, and defaults to 10/s with a burst of 100', async () => {
    const { loadConfig } = await import('../src/config.ts');
    for (const [name, value] of [
      ['VERIFY_UNKNOWN_KEY_RATE', '-1'],
      ['VERIFY_UNKNOWN_KEY_RATE', 'fast'],
      ['VERIFY_UNKNOWN_KEY_BURST', '0'],
      ['VERIFY_UNKNOWN_KEY_BURST', '2.5'],
    ] as const) {
      expect(() => loadConfig({ [name]: value }), `${name}=${value}`).toThrow(name);
    }
    expect(loadConfig({}).unknownKeys).toEqual({ perSecond: 10, burst: 100 });
  });

  it('rate 0 turns the limit off', () => {
    const limiter = new UnknownKeyLimiter(new ManualClock(), 0, 1);
    for (let i = 0; i < 10; i++) expect(limiter.take('a')).toBe(0);
    expect(limiter.size).toBe(0);
  });
});
