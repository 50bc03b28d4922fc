import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/lib/clock.ts';
import { useTestServer } from './helpers/app.ts';
import { PASSWORD, uniqueEmail } from './helpers/factories.ts';
import { restCall } from './helpers/rest.ts';

/** Login rate limit: 10 failures per email and address in 5 minutes, then 429 until the window moves. */
const clock = new ManualClock(new Date('2026-06-18T10:00:00Z'));
const server = useTestServer({ overrides: { clock } });
const login = (email: string, password: string) =>
  restCall(server().url, 'POST', '/auth/login', { body: { email, password } });

let email = '';
beforeAll(async () => {
  email = uniqueEmail('limited');
  const signup = await restCall(server().url, 'POST', '/auth/signup', {
    body: { organisation_name: 'Limited', email, password: PASSWORD },
  });
  expect(signup.status).toBe(201);
});

describe('POST /auth/login rate limit', () => {
  it('refuses the 11th attempt within 5 minutes with 429 and Retry-After, even the right password', async () => {
    for (let i = 0; i < 10; i++) {
      expect((await login(email, `wrong-${i}`)).status).toBe(401);
      clock.advance(10_000);
    }
    const limited = await login(email, PASSWORD);
    expect(limited.status).toBe(429);
    expect(limited.json.error).toBe('too_many_requests');
    // The first failure (at 10:00:00) leaves the window at 10:05:00; it is now 10:01:40.
    expect(limited.headers.get('retry-after')).toBe('200');
    // Case and spaces do not make a new key.
    expect((await login(` ${email.toUpperCase()} `, PASSWORD)).status).toBe(429);
  });

  it('limits per email: another account from the same address still logs in', async () => {
    const other = uniqueEmail('other');
    await restCall(server().url, 'POST', '/auth/signup', {
      body: { organisation_name: 'Other', email: other, password: PASSWORD },
    });
    expect((await login(other, PASSWORD)).status).toBe(200);
    expect((await login('unknown@example.com', 'x')).status).toBe(401);
  });

  it('lets the account in again once the window has moved past the failures', async () => {
    clock.advance(199_000);
    expect((await login(email, PASSWORD)).status).toBe(429);
    clock.advance(1_000);
    const ok = await login(email, PASSWORD);
    expect(ok.status).toBe(200);
    // A success clears the count: one new failure does not lock again.
    expect((await login(email, 'wrong-again')).status).toBe(401);
    expect((await login(email, PASSWORD)).status).toBe(200);
  });
});
