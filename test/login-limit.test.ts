import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/lib/clock.ts';
import { useTestServer } from './helpers/app.ts';
import { PASSWORD, signupOrg } from './helpers/factories.ts';

const clock = new ManualClock(new Date());
const server = useTestServer({ overrides: { clock } });

const LOGIN = `mutation($e: String!, $p: String!) { login(email: $e, password: $p) {
  __typename ... on RateLimitedError { retryAfterSeconds message } } }`;

describe('login rate limit, shared by GraphQL and REST', () => {
  it('refuses an email after 10 failures from one address, on both doors, until the window passes', async () => {
    const org = await signupOrg(server());
    for (let i = 0; i < 10; i++) {
      const res = await server().gql(LOGIN, { e: org.email, p: 'wrong-password-1' });
      expect(res.data.login.__typename).toBe('InvalidCredentialsError');
    }
    // Even the right password is refused now: the limit is checked before the password.
    const limited = await server().gql(LOGIN, { e: org.email, p: PASSWORD });
    expect(limited.data.login.__typename).toBe('RateLimitedError');
    expect(limited.data.login.retryAfterSeconds).toBeGreaterThan(0);
    expect(limited.data.login.retryAfterSeconds).toBeLessThanOrEqual(300);

    const rest = await fetch(`${server().url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: org.email, password: PASSWORD }),
    });
    expect(rest.status).toBe(429);
    expect(Number(rest.headers.get('retry-after'))).toBeGreaterThan(0);

    clock.advance(5 * 60_000 + 1_000);
    const again = await server().gql(LOGIN, { e: org.email, p: PASSWORD });
    expect(again.data.login.__typename).toBe('AuthPayload');
  });
});
