import { eq } from 'drizzle-orm';
import { type JWTPayload, SignJWT, UnsecuredJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { users } from '../src/db/schema.ts';
import { ManualClock } from '../src/lib/clock.ts';
import { Passwords } from '../src/modules/auth/password.ts';
import { TEST_JWT_SECRET, useTestServer } from './helpers/app.ts';
import { PASSWORD, signupOrg, type TestOrg, uniqueEmail } from './helpers/factories.ts';
import { postGql } from './helpers/graphql-http.ts';

const clock = new ManualClock();
const server = useTestServer({ overrides: { clock } });

const ISSUER = 'xscaler-portal';
const AUDIENCE = 'xscaler-portal-api';
const SECRET = new TextEncoder().encode(TEST_JWT_SECRET);
const TENANTS = `{ tenants { edges { node { id } } } }`;

const LOGIN = `mutation($e: String!, $p: String!) { login(email: $e, password: $p) {
  __typename ... on AuthPayload { token expiresAt user { id email } } ... on Error { message } } }`;
const login = (email: string, password: string) => server().gql(LOGIN, { e: email, p: password });

const nowS = () => Math.floor(clock.now().getTime() / 1000);

/** A token as the server would issue it, with parts overridable to break one thing at a time. */
function sign(
  claims: JWTPayload,
  opts: { alg?: string; secret?: Uint8Array; iss?: string; aud?: string; exp?: number | null } = {},
) {
  const jwt = new SignJWT({ ver: 1, ...claims })
    .setProtectedHeader({ alg: opts.alg ?? 'HS256', typ: 'JWT' })
    .setIssuer(opts.iss ?? ISSUER)
    .setAudience(opts.aud ?? AUDIENCE)
    .setIssuedAt(nowS());
  if (opts.exp !== null) jwt.setExpirationTime(opts.exp ?? nowS() + 600);
  return jwt.sign(opts.secret ?? SECRET);
}

async function expectUnauthenticated(authorization: string) {
  const res = await postGql(server(), TENANTS, {}, authorization);
  expect(res.status).toBeLessThan(500);
  expect(res.json.data?.tenants ?? null).toBeNull();
  expect(res.json.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  expect(res.text).not.toContain('Unexpected error');
}

async function expectAccepted(token: string) {
  const res = await server().gql(TENANTS, {}, token);
  expect(res.errors).toBeUndefined();
  expect(res.data.tenants.edges).toEqual([]);
}

let org: TestOrg;
beforeAll(async () => {
  org = await signupOrg(server());
});

describe('signup and login', () => {
  it('logs in with the signup credentials, email case-insensitive', async () => {
    const res = await login(org.email.toUpperCase(), PASSWORD);
    expect(res.data.login.__typename).toBe('AuthPayload');
    expect(res.data.login.user).toEqual({ id: org.userId, email: org.email });
    // The token lives for the configured hour, measured on the injected clock.
    expect(Date.parse(res.data.login.expiresAt)).toBe(clock.now().getTime() + 3600_000);
    await expectAccepted(res.data.login.token);
  });

  it('refuses a second signup with the same email as login refuses a wrong password, creating nothing', async () => {
    const signup = (p: string) =>
      server().gql(
        `mutation($e: String!, $p: String!) { signup(organisationName: "Dup", email: $e, password: $p) {
        __typename ... on Error { message } } }`,
        { e: org.email, p },
      );
    const before = await server().database.db.select({ id: users.id }).from(users);
    // The right password and a wrong one get the same answer: signup is no password oracle.
    for (const res of [await signup(PASSWORD), await signup('Another-Password-1')]) {
      expect(res.data.signup).toEqual({
        __typename: 'InvalidCredentialsError',
        message: 'Invalid email or password',
      });
    }
    const wrongLogin = await login(org.email, 'Wrong-Password-1');
    expect(wrongLogin.data.login.message).toBe('Invalid email or password');
    expect(await server().database.db.select({ id: users.id }).from(users)).toHaveLength(
      before.length,
    );
  });

  it('answers an unknown email and a wrong password identically', async () => {
    const unknown = await login(uniqueEmail('nobody'), PASSWORD);
    const wrong = await login(org.email, 'Wrong-Password-1');
    expect(unknown.data.login.__typename).toBe('InvalidCredentialsError');
    expect(wrong).toEqual(unknown);
  });

  it('stores the password as scrypt (r=8, p=1) with the configured cost; N=2^17 unless told', async () => {
    const [row] = await server()
      .database.db.select({ hash: users.passwordHash })
      .from(users)
      .where(eq(users.id, org.userId));
    // The suite runs with PASSWORD_HASH_LOG_N=12 (test/helpers/app.ts); production keeps 17.
    expect(row!.hash.startsWith('scrypt$12$8$1$')).toBe(true);
    const standard = await new Passwords({ concurrency: 1, queue: 0 }).hash(PASSWORD);
    expect(standard.startsWith('scrypt$17$8$1$')).toBe(true);
    expect(loadConfig({}).credentials.hashLogN).toBe(17);
    expect(() =>
      loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), PASSWORD_HASH_LOG_N: '12' }),
    ).toThrow(/PASSWORD_HASH_LOG_N: 12 is below OWASP's scrypt minimum \(17\)/);
    // A hash of either cost verifies: the cost is read from the stored hash.
    expect(await new Passwords({ concurrency: 1, queue: 0 }, 12).verify(PASSWORD, standard)).toBe(
      true,
    );
    const [, , , , salt, key] = row!.hash.split('$');
    expect(Buffer.from(salt!, 'base64').length).toBeGreaterThanOrEqual(16);
    expect(Buffer.from(key!, 'base64').length).toBeGreaterThanOrEqual(32);
    expect(row!.hash).not.toContain(PASSWORD);
  });
});

describe('JWT matrix', () => {
  it('accepts a correctly signed token (so every refusal below is about one broken part)', async () => {
    await expectAccepted(await sign({ sub: org.userId }));
  });

  it('refuses an expired token', async () => {
    await expectUnauthenticated(`Bearer ${await sign({ sub: org.userId }, { exp: nowS() - 1 })}`);
  });

  it('refuses an issued token once the injected clock passes its hour', async () => {
    const start = clock.now();
    const { token } = (await login(org.email, PASSWORD)).data.login;
    try {
      clock.advance(3599_000);
      await expectAccepted(token);
      clock.advance(2_000);
      await expectUnauthenticated(`Bearer ${token}`);
    } finally {
      // Back to the start, so the other tests' tokens stay valid.
      clock.set(start);
    }
  });

  it('refuses a token without exp', async () => {
    await expectUnauthenticated(`Bearer ${await sign({ sub: org.userId }, { exp: null })}`);
  });

  it('refuses other algorithms: HS512 with the same secret, and alg "none"', async () => {
    await expectUnauthenticated(`Bearer ${await sign({ sub: org.userId }, { alg: 'HS512' })}`);
    const unsigned = new UnsecuredJWT({ sub: org.userId, ver: 1 })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(nowS())
      .setExpirationTime(nowS() + 600)
      .encode();
    expect(unsigned.endsWith('.')).toBe(true);
    await expectUnauthenticated(`Bearer ${unsigned}`);
  });

  it('refuses a tampered payload', async () => {
    const other = await signupOrg(server(), 'Victim');
    const [header, , signature] = (await sign({ sub: org.userId })).split('.');
    const forged = Buffer.from(
      JSON.stringify({
        sub: other.userId,
        ver: 1,
        iss: ISSUER,
        aud: AUDIENCE,
        iat: nowS(),
        exp: nowS() + 600,
      }),
    ).toString('base64url');
    await expectUnauthenticated(`Bearer ${header}.${forged}.${signature}`);
    // A flipped signature character is just as dead.
    const good = await sign({ sub: org.userId });
    const flipped = good.slice(0, -2) + (good.at(-2) === 'A' ? 'B' : 'A') + good.at(-1);
    await expectUnauthenticated(`Bearer ${flipped}`);
  });

  it('refuses a wrong audience, issuer or secret', async () => {
    await expectUnauthenticated(`Bearer ${await sign({ sub: org.userId }, { aud: 'other-api' })}`);
    await expectUnauthenticated(
      `Bearer ${await sign({ sub: org.userId }, { iss: 'someone-else' })}`,
    );
    const wrongSecret = new TextEncoder().encode(
      'another-secret-that-is-also-long-enough-0123456789',
    );
    await expectUnauthenticated(
      `Bearer ${await sign({ sub: org.userId }, { secret: wrongSecret })}`,
    );
  });

  it('refuses unknown users and stale token versions', async () => {
    await expectUnauthenticated(`Bearer ${await sign({ sub: 'usr_doesnotexist' })}`);
    await expectUnauthenticated(`Bearer ${await sign({ sub: org.userId, ver: 2 })}`);
  });

  it.each([
    ['Bearer'],
    ['Bearer '],
    ['Basic xyz'],
    ['Bearer not-a-jwt'],
    ['Bearer a.b.c'],
    ['Token abc.def.ghi'],
  ])('refuses the malformed header %j', async (header) => {
    await expectUnauthenticated(header);
  });
});

describe('token lifetime ends with the account', () => {
  it('changePassword refuses the old token and accepts the new one', async () => {
    const user = await signupOrg(server(), 'Rotating');
    const oldToken = user.token;
    const res = await server().gql(
      `mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) {
        __typename ... on AuthPayload { token } } }`,
      { c: PASSWORD, n: 'Brand-New-Password-2' },
      oldToken,
    );
    expect(res.data.changePassword.__typename).toBe('AuthPayload');
    await expectUnauthenticated(`Bearer ${oldToken}`);
    await expectAccepted(res.data.changePassword.token);
    expect((await login(user.email, PASSWORD)).data.login.__typename).toBe(
      'InvalidCredentialsError',
    );
    expect((await login(user.email, 'Brand-New-Password-2')).data.login.__typename).toBe(
      'AuthPayload',
    );
  });

  it('changePassword with a wrong current password changes nothing', async () => {
    const res = await server().gql(
      `mutation { changePassword(currentPassword: "Not-The-Password", newPassword: "Whatever-12345") {
        __typename ... on ValidationError { field } } }`,
      {},
      org.token,
    );
    expect(res.data.changePassword).toEqual({
      __typename: 'ValidationError',
      field: 'currentPassword',
    });
    await expectAccepted(org.token);
  });

  it('removeUser refuses the removed user token at once', async () => {
    const email = uniqueEmail('leaver');
    const created = await server().gql(
      `mutation($e: String!, $p: String!) { createUser(email: $e, password: $p, role: admin) {
        ... on User { id } } }`,
      { e: email, p: PASSWORD },
      org.token,
    );
    const { token } = (await login(email, PASSWORD)).data.login;
    await expectAccepted(token);
    const removed = await server().gql(
      `mutation($id: ID!) { removeUser(id: $id) { __typename ... on User { id } } }`,
      { id: created.data.createUser.id },
      org.token,
    );
    expect(removed.errors).toBeUndefined();
    expect(removed.data.removeUser).toEqual({ __typename: 'User', id: created.data.createUser.id });
    await expectUnauthenticated(`Bearer ${token}`);
    expect((await login(email, PASSWORD)).data.login.__typename).toBe('InvalidCredentialsError');
  });
});
