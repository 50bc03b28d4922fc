import { createClient } from 'graphql-ws';
import { describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { ManualClock } from '../src/lib/clock.ts';
import { useTestServer } from './helpers/app.ts';
import {
  type From,
  gqlLogin,
  LOGIN_GQL,
  outcome,
  postJson,
  restLogin,
} from './helpers/auth-abuse.ts';
import { PASSWORD, uniqueEmail } from './helpers/factories.ts';

/**
 * Which address the login limits count: the socket's peer, or X-Forwarded-For when the peer is
 * a trusted proxy (TRUSTED_PROXIES); IPv6 per /64. Then the per-account limit across
 * addresses, with its capped backoff that never holds back an address the owner used.
 */
// Each checked password is a full scrypt: slow on a busy CI machine.
vi.setConfig({ testTimeout: 240_000 });

const clock = new ManualClock(new Date('2026-06-18T10:00:00Z'));
const server = useTestServer({ env: { TRUSTED_PROXIES: '127.0.0.1' }, overrides: { clock } });

const untrusted = (forwardedFor?: string): From => ({ localAddress: '127.0.0.2', forwardedFor });
const via = (client: string): From => ({ forwardedFor: client });

async function signupFrom(from: From) {
  const email = uniqueEmail('abuse');
  const res = await postJson(
    server().url,
    '/auth/signup',
    { organisation_name: 'Abuse', email, password: PASSWORD },
    from,
  );
  expect(res.status).toBe(201);
  return email;
}

async function failTimes(n: number, email: string, from: (i: number) => From) {
  for (let i = 0; i < n; i++) {
    expect(outcome(await restLogin(server().url, email, `wrong-${i}`, from(i)))).toBe('invalid');
  }
}

/** A login over graphql-ws, the upgrade request carrying X-Forwarded-For. */
async function wsLogin(email: string, password: string, forwardedFor: string) {
  class Forwarded extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers: { 'x-forwarded-for': forwardedFor } });
    }
  }
  const client = createClient({
    url: `${server().url.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: Forwarded,
    retryAttempts: 0,
  });
  try {
    const it = client.iterate({ query: LOGIN_GQL, variables: { e: email, p: password } });
    const { value } = await it.next();
    return (value as any).data.login;
  } finally {
    await client.dispose();
  }
}

describe('client address for the login limits', () => {
  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    const email = await signupFrom(untrusted());
    // Ten different claimed clients, one real peer (127.0.0.2): one count.
    await failTimes(10, email, (i) => untrusted(`203.0.113.${i + 1}`));
    const limited = await restLogin(server().url, email, PASSWORD, untrusted('198.51.100.9'));
    expect(limited.status).toBe(429);
    // The proxy's own clients are not affected by what 127.0.0.2 did.
    expect(outcome(await restLogin(server().url, email, PASSWORD, via('203.0.113.1')))).toBe('ok');
  });

  it('believes X-Forwarded-For from the trusted proxy, but only its right-most hop', async () => {
    const email = await signupFrom(via('198.51.100.1'));
    await failTimes(10, email, () => via('203.0.113.7'));
    expect((await restLogin(server().url, email, PASSWORD, via('203.0.113.7'))).status).toBe(429);
    expect(outcome(await gqlLogin(server().url, email, 'wrong', via('203.0.113.7')))).toBe(
      'limited',
    );
    // A client prepending a made-up hop is still the address the proxy saw.
    const spoofed = via('203.0.113.8, 203.0.113.7');
    expect((await restLogin(server().url, email, PASSWORD, spoofed)).status).toBe(429);
    // Over graphql-ws the upgrade request's address counts the same way.
    expect((await wsLogin(email, PASSWORD, '203.0.113.7')).__typename).toBe('RateLimitedError');
    // Another client behind the same proxy logs in: the proxy's address is not the key.
    expect(outcome(await restLogin(server().url, email, PASSWORD, via('203.0.113.8')))).toBe('ok');
    expect((await wsLogin(email, PASSWORD, '203.0.113.9')).__typename).toBe('AuthPayload');
  });

  it('counts IPv6 clients per /64, so rotating addresses inside one does not escape', async () => {
    const email = await signupFrom(via('198.51.100.1'));
    await failTimes(10, email, (i) => via(`2001:db8:aa:bb::${(i + 1).toString(16)}`));
    const rotated = await restLogin(server().url, email, PASSWORD, via('2001:db8:aa:bb:ffff::1'));
    expect(rotated.status).toBe(429);
    expect(outcome(await restLogin(server().url, email, PASSWORD, via('2001:db8:aa:cc::1')))).toBe(
      'ok',
    );
  });
});

describe('per-account limit across addresses', () => {
  it('backs off 15 s, doubling to a 5-minute cap; the owner’s own address stays free', async () => {
    const home = via('198.51.100.50');
    const email = await signupFrom(home); // a signup is a successful login from its address
    // 20 guesses from 20 addresses: each pair is far from its own limit.
    await failTimes(20, email, (i) => via(`203.0.113.${100 + i}`));
    const next = (n: number) => via(`192.0.2.${n}`);
    const first = await gqlLogin(server().url, email, PASSWORD, next(1));
    expect(first.json.data.login.__typename).toBe('RateLimitedError');
    expect(first.json.data.login.retryAfterSeconds).toBe(15);
    expect(first.json.data.login.message).toMatch(/this account/);
    const rest = await restLogin(server().url, email, PASSWORD, next(2));
    expect([rest.status, rest.retryAfter]).toEqual([429, '15']);

    // The owner, from an address that logged in lately, is not held back, nor counted.
    expect(outcome(await restLogin(server().url, email, 'typo-password', home))).toBe('invalid');
    expect(outcome(await restLogin(server().url, email, PASSWORD, home))).toBe('ok');

    // Each allowed guess doubles the wait after it, up to 5 minutes, never more.
    const waits: number[] = [];
    for (let i = 0; i < 7; i++) {
      const refused = await restLogin(server().url, email, 'guess', next(10 + i));
      expect(refused.status).toBe(429);
      waits.push(Number(refused.retryAfter));
      clock.advance(Number(refused.retryAfter) * 1000);
      expect(outcome(await restLogin(server().url, email, 'guess', next(20 + i)))).toBe('invalid');
    }
    expect(waits).toEqual([15, 30, 60, 120, 240, 300, 300]);

    // Not a lasting lockout: an hour after the last guess a new address logs in.
    clock.advance(60 * 60_000);
    expect(outcome(await restLogin(server().url, email, PASSWORD, next(99)))).toBe('ok');
  });
});
