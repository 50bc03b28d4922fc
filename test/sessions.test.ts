import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/lib/clock.ts';
import { useTestServer } from './helpers/app.ts';
import { PASSWORD, uniqueEmail } from './helpers/factories.ts';
import { subscribeWs } from './helpers/subscriptions.ts';

const clock = new ManualClock(new Date('2026-06-18T10:00:00Z'));
const server = useTestServer({
  env: { JWT_TTL_S: '900', SESSION_MAX_AGE_S: '36000' },
  overrides: { clock },
});

const SIGNUP = `mutation($o: String!, $e: String!, $p: String!) {
  signup(organisationName: $o, email: $e, password: $p) {
    __typename ... on AuthPayload { token expiresAt refreshToken sessionExpiresAt user { id } }
  }
}`;
const REFRESH = `mutation($r: String!) { refreshToken(refreshToken: $r) {
  __typename ... on AuthPayload { token expiresAt refreshToken sessionExpiresAt }
  ... on SessionExpiredError { message }
} }`;
const ME = '{ me { id email } }';

async function signup() {
  const email = uniqueEmail('session');
  const res = await server().gql(SIGNUP, { o: 'Sessions Org', e: email, p: PASSWORD });
  expect(res.data.signup.__typename).toBe('AuthPayload');
  return { ...res.data.signup, email };
}

const refresh = async (refreshToken: string) =>
  (await server().gql(REFRESH, { r: refreshToken })).data.refreshToken;

/** A browser's call to the cookie door: same Origin as the Host it talks to. */
function browserFetch(path: string, init: RequestInit & { cookie?: string } = {}) {
  const url = new URL(path, server().url);
  return fetch(url, {
    ...init,
    headers: {
      origin: url.origin,
      'content-type': 'application/json',
      ...(init.cookie ? { cookie: init.cookie } : {}),
      ...(init.headers ?? {}),
    },
  });
}
const cookieOf = (res: Response) => res.headers.get('set-cookie')?.split(';')[0] ?? '';

describe('sessions: refresh tokens, maximum age, logout', () => {
  it('login gives a refresh token whose access tokens last JWT_TTL_S and never past the session', async () => {
    const s = await signup();
    expect(s.refreshToken).toMatch(/^xsr_[A-Za-z0-9_-]{43}$/);
    expect(Date.parse(s.expiresAt) - clock.now().getTime()).toBe(900_000);
    expect(Date.parse(s.sessionExpiresAt) - clock.now().getTime()).toBe(36_000_000);

    // A working day of refreshes: each access token expires, the refresh token renews it.
    let token = s.token;
    for (let hour = 0; hour < 9; hour++) {
      clock.advance(3_600_000);
      expect((await server().gql(ME, {}, token)).errors?.[0]?.extensions?.code).toBe(
        'UNAUTHENTICATED',
      );
      const renewed = await refresh(s.refreshToken);
      expect(renewed.__typename).toBe('AuthPayload');
      expect(renewed.refreshToken).toBeNull();
      expect(renewed.sessionExpiresAt).toBe(s.sessionExpiresAt);
      token = renewed.token;
      expect((await server().gql(ME, {}, token)).data.me.email).toBe(s.email);
    }
    // 9 h 45 min in: the last access token is cut at the session's end, 10 h after login.
    clock.advance(45 * 60_000);
    const last = await refresh(s.refreshToken);
    expect(last.expiresAt).toBe(s.sessionExpiresAt);
    clock.advance(15 * 60_000);
    expect(await refresh(s.refreshToken)).toEqual({
      __typename: 'SessionExpiredError',
      message: 'Your session has ended; log in again',
    });
  });

  it('logout ends the access token and the refresh token at once; other sessions live on', async () => {
    const s = await signup();
    const login = await server().gql(
      `mutation($e: String!, $p: String!) { login(email: $e, password: $p) {
        ... on AuthPayload { token refreshToken } } }`,
      { e: s.email, p: PASSWORD },
    );
    const other = login.data.login;
    const out = await server().gql('mutation { logout }', {}, s.token);
    expect(out.data.logout).toBe(true);
    const after = await server().gql(ME, {}, s.token);
    expect(after.errors?.[0]?.message).toBe('Logged out; log in again');
    expect((await refresh(s.refreshToken)).__typename).toBe('SessionExpiredError');
    expect((await server().gql(ME, {}, other.token)).data.me.email).toBe(s.email);
    expect((await refresh(other.refreshToken)).__typename).toBe('AuthPayload');
  });

  it('a password change ends every earlier session, and starts one for the caller', async () => {
    const s = await signup();
    const changed = await server().gql(
      `mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) {
        ... on AuthPayload { token refreshToken } } }`,
      { c: PASSWORD, n: 'Another-Horse-10' },
      s.token,
    );
    expect((await refresh(s.refreshToken)).__typename).toBe('SessionExpiredError');
    const fresh = changed.data.changePassword;
    expect((await refresh(fresh.refreshToken)).__typename).toBe('AuthPayload');
  });

  it('refuses malformed and unknown refresh tokens the same way, without echoing them', async () => {
    for (const bad of ['', 'xsr_short', `xsr_${'A'.repeat(43)}`, 'x'.repeat(5000)]) {
      const res = await server().gql(REFRESH, { r: bad });
      expect(res.data.refreshToken).toEqual({
        __typename: 'SessionExpiredError',
        message: 'Your session has ended; log in again',
      });
    }
  });

  it('the database keeps only a hash of the refresh token', async () => {
    const s = await signup();
    const result: any = await server().database.db.execute(sql`select * from sessions`);
    const dump = JSON.stringify(Array.isArray(result) ? result : result.rows);
    expect(dump).toContain(createHash('sha256').update(s.refreshToken).digest('hex'));
    expect(dump).not.toContain(s.refreshToken);
    expect(dump).not.toContain(s.refreshToken.slice(4));
  });

  it('a subscription ends when its session logs out', async () => {
    const s = await signup();
    const sub = await subscribeWs(
      server().url,
      'subscription { orgUsageUpdated { activeSeries } }',
      {},
      s.token,
    );
    // Subscribers register asynchronously.
    for (let i = 0; i < 500 && server().app.services.usageFeed.subscriberCount < 1; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    clock.advance(60_000);
    await server().app.usageSync.runTick();
    expect((await sub.next()).data.orgUsageUpdated.activeSeries).toBe(0);
    await server().gql('mutation { logout }', {}, s.token);
    clock.advance(60_000);
    await server().app.usageSync.runTick();
    const ended = await sub.next();
    expect(ended.errors?.[0]?.message).toMatch(/expired or revoked/);
    sub.close();
  });
});

describe('the browser cookie door (/auth/session)', () => {
  it('stores the refresh token in an HttpOnly SameSite=Strict cookie and renews from it', async () => {
    const s = await signup();
    const stored = await browserFetch('/auth/session', {
      method: 'POST',
      body: JSON.stringify({ refresh_token: s.refreshToken }),
    });
    expect(stored.status).toBe(200);
    const setCookie = stored.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^xs_refresh=xsr_/);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    expect(setCookie).toContain('Path=/auth/session');
    expect(setCookie).toContain('Max-Age=36000');
    expect(setCookie).not.toContain('Secure'); // plain http here; https origins get Secure
    const body = await stored.json();
    expect(body).not.toHaveProperty('refresh_token');

    const renewed = await browserFetch('/auth/session/refresh', {
      method: 'POST',
      cookie: cookieOf(stored),
    });
    expect(renewed.status).toBe(200);
    const { token, user } = await renewed.json();
    expect(user.email).toBe(s.email);
    expect((await server().gql(ME, {}, token)).data.me.email).toBe(s.email);

    const out = await browserFetch('/auth/session', { method: 'DELETE', cookie: cookieOf(stored) });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/^xs_refresh=; .*Max-Age=0/);
    expect((await server().gql(ME, {}, token)).errors?.[0]?.message).toBe(
      'Logged out; log in again',
    );
    const gone = await browserFetch('/auth/session/refresh', {
      method: 'POST',
      cookie: cookieOf(stored),
    });
    expect(gone.status).toBe(401);
    expect(await gone.json()).toEqual({
      error: 'session_expired',
      message: 'Your session has ended; log in again',
    });
  });

  it('refuses calls from other origins or none (CSRF), and says what it expects', async () => {
    const s = await signup();
    for (const origin of [undefined, 'https://evil.example', 'null']) {
      const res = await fetch(new URL('/auth/session', server().url), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(origin ? { origin } : {}) },
        body: JSON.stringify({ refresh_token: s.refreshToken }),
      });
      expect(res.status).toBe(403);
      expect(res.headers.get('set-cookie')).toBeNull();
      expect((await res.json()).message).toMatch(/Origin matching this host/);
    }
  });

  it('answers bad input with 400/401/405, never 500', async () => {
    const noCookie = await browserFetch('/auth/session/refresh', { method: 'POST' });
    expect(noCookie.status).toBe(401);
    expect((await noCookie.json()).message).toBe('Not logged in');
    const missing = await browserFetch('/auth/session', { method: 'POST', body: '{}' });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({
      error: 'validation_error',
      field: 'refresh_token',
    });
    const notJson = await browserFetch('/auth/session', { method: 'POST', body: '{nope' });
    expect(notJson.status).toBe(400);
    const wrongMethod = await browserFetch('/auth/session/refresh', { method: 'GET' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    const unknown = await browserFetch('/auth/session', {
      method: 'POST',
      body: JSON.stringify({ refresh_token: 'xsr_nope' }),
    });
    expect(unknown.status).toBe(401);
    expect(unknown.headers.get('set-cookie')).toMatch(/Max-Age=0/);
  });
});
