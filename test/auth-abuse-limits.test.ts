import { describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../src/lib/clock.ts';
import { useTestServer } from './helpers/app.ts';
import { type From, gqlFrom, outcome, postJson, restLogin } from './helpers/auth-abuse.ts';
import { PASSWORD, uniqueEmail } from './helpers/factories.ts';

/**
 * Expensive anonymous work: one credential field per GraphQL operation; signups limited per
 * client address (SIGNUP_LIMIT_PER_HOUR), password changes per user and per address
 * (PASSWORD_CHANGE_LIMIT); an existing email at signup gets login's wrong-password answer.
 */
vi.setConfig({ testTimeout: 240_000 });
const clock = new ManualClock(new Date('2026-06-18T10:00:00Z'));
const server = useTestServer({
  env: { TRUSTED_PROXIES: '127.0.0.1', SIGNUP_LIMIT_PER_HOUR: '3', PASSWORD_CHANGE_LIMIT: '2' },
  overrides: { clock },
});
const via = (client: string, token?: string): From => ({ forwardedFor: client, token });

const restSignup = (email: string, from: From, password = PASSWORD) =>
  postJson(server().url, '/auth/signup', { organisation_name: 'Limits', email, password }, from);

const SIGNUP = `mutation($e: String!, $p: String!) { signup(organisationName: "Limits", email: $e, password: $p) {
  __typename ... on AuthPayload { token } ... on RateLimitedError { retryAfterSeconds } ... on Error { message } } }`;

const CHANGE = `mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) {
  __typename ... on AuthPayload { token } ... on RateLimitedError { retryAfterSeconds message } ... on Error { message } } }`;

describe('one credential-checking field per operation', () => {
  const twoLogins = `mutation { a: login(email: "x@example.com", password: "p1") { __typename }
    b: login(email: "x@example.com", password: "p2") { __typename } }`;

  it('refuses aliased logins, login with signup, and fields hidden in fragments, on both HTTP paths', async () => {
    const documents = [
      twoLogins,
      `mutation { login(email: "x@example.com", password: "p") { __typename }
        signup(organisationName: "o", email: "y@example.com", password: "pppppppppp") { __typename } }`,
      `mutation { ...A ... on Mutation { refreshToken(refreshToken: "t") { __typename } } }
        fragment A on Mutation { login(email: "x@example.com", password: "p") { __typename } }`,
      `mutation { changePassword(currentPassword: "a", newPassword: "bbbbbbbbbb") { __typename }
        again: changePassword(currentPassword: "a", newPassword: "bbbbbbbbbb") { __typename } }`,
    ];
    // The direct JSON path (no Origin) and Yoga's own (a browser's Origin).
    for (const headers of [{}, { origin: 'http://portal.example' }] as Record<string, string>[]) {
      for (const query of documents) {
        const res = await gqlFrom(server().url, query, {}, { headers });
        expect(res.status).toBeLessThan(500);
        expect(res.json.data).toBeUndefined();
        expect(res.json.errors).toHaveLength(1);
        expect(res.json.errors[0].message).toMatch(
          /^At most one credential field \(login, signup, changePassword, refreshToken\) per operation; this one has 2/,
        );
      }
    }
  });

  it('runs none of them: twenty refused aliased logins leave the limit untouched', async () => {
    const email = uniqueEmail('aliases');
    const aliased = `mutation { ${Array.from(
      { length: 20 },
      (_, i) => `a${i}: login(email: "${email}", password: "wrong-${i}") { __typename }`,
    ).join(' ')} }`;
    const refused = await gqlFrom(server().url, aliased, {}, via('203.0.113.20'));
    expect(refused.json.errors[0].message).toMatch(/this one has 20/);
    // Had any been checked, the tenth of these would already be refused.
    for (let i = 0; i < 10; i++) {
      expect(outcome(await restLogin(server().url, email, 'wrong', via('203.0.113.20')))).toBe(
        'invalid',
      );
    }
    // One login with other, harmless fields is fine.
    const single = await gqlFrom(
      server().url,
      `mutation($e: String!) { __typename login(email: $e, password: "p") { __typename } }`,
      { e: uniqueEmail('single') },
    );
    expect(single.json.data.login.__typename).toBe('InvalidCredentialsError');
  });
});

describe('signup', () => {
  it('allows SIGNUP_LIMIT_PER_HOUR signups per address, then 429 / RateLimitedError until the hour passes', async () => {
    const from = via('198.51.100.10');
    for (let i = 0; i < 3; i++) {
      expect((await restSignup(uniqueEmail('many'), from)).status).toBe(201);
    }
    const rest = await restSignup(uniqueEmail('many'), from);
    expect([rest.status, rest.json.error, rest.retryAfter]).toEqual([
      429,
      'too_many_requests',
      '3600',
    ]);
    expect(rest.json.message).toMatch(/Too many signups from this address/);
    const gql = await gqlFrom(server().url, SIGNUP, { e: uniqueEmail('many'), p: PASSWORD }, from);
    expect(gql.json.data.signup).toMatchObject({
      __typename: 'RateLimitedError',
      retryAfterSeconds: 3600,
    });
    // Bad input is refused before it counts, and another address is not affected.
    expect((await restSignup('not-an-email', via('198.51.100.11'))).status).toBe(400);
    expect((await restSignup(uniqueEmail('other'), via('198.51.100.11'))).status).toBe(201);
    clock.advance(60 * 60_000);
    expect((await restSignup(uniqueEmail('later'), from)).status).toBe(201);
  });

  it('answers an existing email exactly as login answers a wrong password, with the right password too', async () => {
    const email = uniqueEmail('taken');
    expect((await restSignup(email, via('198.51.100.20'))).status).toBe(201);
    const login = await restLogin(server().url, email, 'Wrong-Password-1', via('198.51.100.21'));
    for (const password of [PASSWORD, 'Another-Password-1']) {
      const again = await restSignup(email, via('198.51.100.22'), password);
      expect([again.status, again.json]).toEqual([login.status, login.json]);
      const gql = await gqlFrom(
        server().url,
        SIGNUP,
        { e: email, p: password },
        via('198.51.100.23'),
      );
      expect(gql.json.data.signup).toEqual({
        __typename: 'InvalidCredentialsError',
        message: 'Invalid email or password',
      });
    }
    expect(login.json).toEqual({
      error: 'invalid_credentials',
      message: 'Invalid email or password',
    });
  });
});

describe('changePassword', () => {
  it('allows PASSWORD_CHANGE_LIMIT attempts per user in 15 minutes, then refuses even the right password', async () => {
    const email = uniqueEmail('changer');
    const { json } = await restSignup(email, via('198.51.100.30'));
    const token = json.token as string;
    const from = via('198.51.100.31', token);
    for (let i = 0; i < 2; i++) {
      const wrong = await gqlFrom(
        server().url,
        CHANGE,
        { c: `guess-${i}`, n: 'New-Password-1' },
        from,
      );
      expect(wrong.json.data.changePassword.__typename).toBe('ValidationError');
    }
    const limited = await gqlFrom(server().url, CHANGE, { c: PASSWORD, n: 'New-Password-1' }, from);
    expect(limited.json.data.changePassword).toMatchObject({
      __typename: 'RateLimitedError',
      retryAfterSeconds: 900,
    });
    expect(limited.json.data.changePassword.message).toMatch(/Too many password changes/);
    // The user is the key: another address with the same token is refused as well (REST).
    const rest = await postJson(
      server().url,
      '/auth/password',
      { current_password: PASSWORD, new_password: 'New-Password-1' },
      via('198.51.100.32', token),
    );
    expect([rest.status, rest.json.error, rest.retryAfter]).toEqual([
      429,
      'too_many_requests',
      '900',
    ]);
    clock.advance(15 * 60_000);
    const ok = await gqlFrom(server().url, CHANGE, { c: PASSWORD, n: 'New-Password-1' }, from);
    expect(ok.json.data.changePassword.__typename).toBe('AuthPayload');
  });

  it('limits one address across users (three times the per-user limit)', async () => {
    const shared = '198.51.100.40';
    const tokens: string[] = [];
    for (let i = 0; i < 4; i++) {
      const { json } = await restSignup(uniqueEmail(`user${i}`), via(`198.51.100.${41 + i}`));
      tokens.push(json.token);
    }
    for (const token of tokens.slice(0, 3)) {
      for (let i = 0; i < 2; i++) {
        const wrong = await gqlFrom(
          server().url,
          CHANGE,
          { c: 'guess', n: 'New-Password-1' },
          via(shared, token),
        );
        expect(wrong.json.data.changePassword.__typename).toBe('ValidationError');
      }
    }
    const fourth = await gqlFrom(
      server().url,
      CHANGE,
      { c: PASSWORD, n: 'New-Password-1' },
      via(shared, tokens[3]),
    );
    expect(fourth.json.data.changePassword.__typename).toBe('RateLimitedError');
    // The same user from its own address is fine: the refusal above did not count for it.
    const own = await gqlFrom(
      server().url,
      CHANGE,
      { c: PASSWORD, n: 'New-Password-1' },
      via('198.51.100.49', tokens[3]),
    );
    expect(own.json.data.changePassword.__typename).toBe('AuthPayload');
  });
});
