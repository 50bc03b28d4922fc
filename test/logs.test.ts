import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { createClient } from 'graphql-ws';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../src/config.ts';
import { createHttpServer } from '../src/http/server.ts';
import { createLogger, REDACTED } from '../src/lib/logger.ts';
import { DISPLAY_PREFIX_LENGTH } from '../src/modules/api-keys/key-format.ts';
import { testEnv, useTestServer } from './helpers/app.ts';
import { engine } from './helpers/database.ts';
import { basic, bearer, verifyRequest } from './helpers/http.ts';
import { captureLog, type LogLine } from './helpers/log-capture.ts';
import { spawnPortal, waitFor } from './helpers/process.ts';
import { rawRequest } from './helpers/raw-http.ts';
import { restCall } from './helpers/rest.ts';
import { subscribeWs } from './helpers/subscriptions.ts';

/**
 * The portal's own log, captured at debug level from a real server under real traffic: request
 * IDs, access lines, and no secret anywhere in it.
 */
const log = captureLog('debug');
const server = useTestServer({ overrides: { logger: log.logger } });
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PASSWORD = 'Log-Test-Password-7q';

const accessLines = (requestId: string) =>
  log.lines.filter((l) => l.requestId === requestId && /^request /.test(l.msg));

/** The one access line of a request, waited for: it is written when the response closes. */
async function accessLine(requestId: string): Promise<LogLine> {
  await expect.poll(() => accessLines(requestId).length, { timeout: 5_000 }).toBe(1);
  return accessLines(requestId)[0]!;
}

async function gqlPost(
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${server().url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { res, body: (await res.json()) as { data?: any; errors?: any[] } };
}

const SIGNUP = `mutation Signup($o: String!, $e: String!, $p: String!) {
  signup(organisationName: $o, email: $e, password: $p) {
    __typename ... on AuthPayload { token refreshToken } ... on Error { message }
  }
}`;
const LOGIN = `mutation Login($e: String!, $p: String!) {
  login(email: $e, password: $p) {
    __typename ... on AuthPayload { token refreshToken } ... on Error { message }
  }
}`;
const REFRESH = `mutation Refresh($r: String!) {
  refreshToken(refreshToken: $r) { __typename ... on AuthPayload { token } ... on Error { message } }
}`;

const email = (label: string) => `${label}-${Math.random().toString(36).slice(2, 10)}@logs.example`;

describe('logs under traffic', () => {
  it('holds no password, JWT, refresh token or API key, whatever the doors were asked', async () => {
    const url = server().url;
    const secrets: string[] = [PASSWORD];
    const keep = (...values: string[]) => {
      for (const v of values) {
        expect(typeof v === 'string' && v.length >= 8, `secret ${v}`).toBe(true);
        secrets.push(v);
      }
    };
    // JWTs: the whole token and its signature, which alone would let no one in but is its own.
    const keepJwt = (jwt: string) => keep(jwt, jwt.split('.')[2]!);

    // Signup and login over GraphQL; signup and login over REST.
    const gqlEmail = email('gql');
    const signup = (await gqlPost(SIGNUP, { o: 'Logs Org', e: gqlEmail, p: PASSWORD })).body.data
      .signup;
    expect(signup.__typename).toBe('AuthPayload');
    keepJwt(signup.token);
    keep(signup.refreshToken);
    const login = (await gqlPost(LOGIN, { e: gqlEmail, p: PASSWORD })).body.data.login;
    keepJwt(login.token);
    keep(login.refreshToken);
    const restEmail = email('rest');
    const restSignup = await restCall(url, 'POST', '/auth/signup', {
      body: { organisation_name: 'Logs REST Org', email: restEmail, password: PASSWORD },
    });
    expect(restSignup.status).toBe(201);
    keepJwt(restSignup.json.token);
    keep(restSignup.json.refresh_token);
    const restLogin = await restCall(url, 'POST', '/auth/login', {
      body: { email: restEmail, password: PASSWORD },
    });
    expect(restLogin.status).toBe(200);
    keepJwt(restLogin.json.token);
    keep(restLogin.json.refresh_token);

    // Wrong passwords, on both doors (the typed password is a secret too).
    const wrong = 'Wrong-Password-Typed-3x';
    keep(wrong);
    expect((await gqlPost(LOGIN, { e: gqlEmail, p: wrong })).body.data.login.__typename).not.toBe(
      'AuthPayload',
    );
    expect(
      (await restCall(url, 'POST', '/auth/login', { body: { email: restEmail, password: wrong } }))
        .status,
    ).toBe(401);

    // A tenant and a key over GraphQL, another key over REST.
    const token = login.token as string;
    const tenant = (
      await gqlPost(
        'mutation T { createTenant(displayName: "Logs Tenant", environment: prod) { ... on Tenant { id } } }',
        {},
        { authorization: bearer(token) },
      )
    ).body.data.createTenant;
    const issued = (
      await gqlPost(
        'mutation K($t: ID!) { createApiKey(tenantId: $t, displayName: "c") { ... on IssuedApiKey { key } } }',
        { t: tenant.id },
        { authorization: bearer(token) },
      )
    ).body.data.createApiKey;
    keep(issued.key, issued.key.slice(DISPLAY_PREFIX_LENGTH));
    const restKey = await restCall(url, 'POST', `/tenants/${tenant.id}/keys`, {
      token,
      body: { display_name: 'rest collector' },
    });
    expect(restKey.status).toBe(201);
    keep(restKey.json.key, restKey.json.key.slice(DISPLAY_PREFIX_LENGTH));

    // The keys at /auth/verify, Bearer and Basic, good and tampered.
    for (const key of [issued.key, restKey.json.key]) {
      expect((await verifyRequest(url, bearer(key))).status).toBe(200);
      const asBasic = basic(tenant.id, key);
      keep(asBasic.slice('Basic '.length));
      expect((await verifyRequest(url, asBasic)).status).toBe(200);
      expect((await verifyRequest(url, basic('xs_other_tenant', key))).status).toBe(401);
    }

    // Refresh: the mutation, and the UI's cookie routes.
    const refreshed = (await gqlPost(REFRESH, { r: login.refreshToken })).body.data.refreshToken;
    keepJwt(refreshed.token);
    const origin = { origin: url };
    const cookie = await restCall(url, 'POST', '/auth/session', {
      headers: origin,
      body: { refresh_token: restLogin.json.refresh_token },
    });
    expect(cookie.status).toBe(200);
    keepJwt(cookie.json.token);
    const fromCookie = await restCall(url, 'POST', '/auth/session/refresh', {
      headers: { ...origin, cookie: `${cookie.headers.get('set-cookie')!.split(';')[0]}` },
    });
    expect(fromCookie.status).toBe(200);
    keepJwt(fromCookie.json.token);

    // graphql-ws with the token in connectionParams.
    const ws = subscribeWs(url, 'query Me { me { id } }', {}, token);
    expect((await ws.next()).data.me.id).toBeTruthy();
    ws.close();

    // A bug (a constraint the code does not know) on a signup carrying a password.
    await server().database.db.execute(
      sql.raw('alter table users add constraint logs_no_users check (false) not valid'),
    );
    try {
      const masked = await gqlPost(SIGNUP, { o: 'Masked Org', e: email('masked'), p: PASSWORD });
      expect(masked.body.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
      const maskedRest = await restCall(url, 'POST', '/auth/signup', {
        body: { organisation_name: 'Masked', email: email('masked'), password: PASSWORD },
      });
      expect(maskedRest.status).toBe(500);
    } finally {
      await server().database.db.execute(
        sql.raw('alter table users drop constraint if exists logs_no_users'),
      );
    }

    // The log is there and full: access lines of every door, debug ones included, the errors.
    await expect
      .poll(() => log.lines.filter((l) => l.door === 'graphql').length, { timeout: 5_000 })
      .toBeGreaterThan(5);
    const doors = new Set(log.lines.map((l) => l.door));
    for (const door of ['graphql', 'rest', 'verify']) expect(doors).toContain(door);
    expect(log.lines.filter((l) => l.msg === 'unexpected error')).toHaveLength(2);

    const text = log.lines.map((l) => JSON.stringify(l)).join('\n');
    expect(secrets.length).toBeGreaterThan(20);
    for (const secret of new Set(secrets))
      expect(text, 'a secret in the log').not.toContain(secret);
    expect(text).not.toMatch(/authorization|cookie/i);
  });

  it("pino's redact censors credentials a call site passes by mistake", () => {
    const lines: string[] = [];
    const logger = createLogger('info', (line) => void lines.push(line));
    logger.info(
      {
        authorization: 'Bearer top-level-secret',
        headers: {
          authorization: 'Basic aGVhZGVyLXNlY3JldA==',
          cookie: 'xs_refresh=cookie-secret',
        },
        body: { password: 'body-password', refreshToken: 'refresh-secret', key: 'xag_key-secret' },
        apiKey: 'api-key-secret',
        keyId: 'ak_visible',
      },
      'oops',
    );
    const line = JSON.parse(lines[0]!);
    expect(line).toMatchObject({
      authorization: REDACTED,
      headers: { authorization: REDACTED, cookie: REDACTED },
      body: { password: REDACTED, refreshToken: REDACTED, key: REDACTED },
      apiKey: REDACTED,
      keyId: 'ak_visible',
      level: 'info',
      msg: 'oops',
    });
    expect(lines[0]).not.toMatch(/secret|password"?:"b/);
  });
});

describe('request IDs', () => {
  it("takes a sane X-Request-Id, echoes it on every door and writes it on the request's access line", async () => {
    const url = server().url;
    const yogaAccept = { accept: 'application/graphql-response+json' };
    const calls: [door: string, id: string, call: (id: string) => Promise<Response>][] = [
      ['graphql', 'id-graphql-direct', (id) => fetch(`${url}/graphql`, post('{ __typename }', id))],
      [
        'graphql',
        'id-graphql-yoga',
        (id) => fetch(`${url}/graphql`, post('{ __typename }', id, yogaAccept)),
      ],
      [
        'graphql',
        'id-graphql-get',
        (id) => fetch(`${url}/graphql?query=%7B__typename%7D`, get(id)),
      ],
      ['rest', 'id-rest', (id) => fetch(`${url}/tenants`, get(id))],
      ['verify', 'id-verify', (id) => fetch(`${url}/auth/verify?scope=metrics:write`, get(id))],
      ['health', 'id-healthz', (id) => fetch(`${url}/healthz`, get(id))],
      ['health', 'id-readyz', (id) => fetch(`${url}/readyz`, get(id))],
      ['ui', 'id-ui', (id) => fetch(`${url}/ui/`, get(id))],
      ['ui', 'id-root', (id) => fetch(`${url}/`, { ...get(id), redirect: 'manual' })],
      ['none', 'id-unrouted', (id) => fetch(`${url}/no/such/door`, get(id))],
    ];
    for (const [door, id, call] of calls) {
      const res = await call(id);
      await res.arrayBuffer();
      expect(res.headers.get('x-request-id'), door).toBe(id);
      expect(await accessLine(id)).toMatchObject({ requestId: id, door, status: res.status });
    }
    // Also on an answer written before routing (an odd method).
    const odd = await fetch(`${url}/graphql`, { method: 'PROPFIND', headers: rid('id-propfind') });
    expect(odd.status).toBe(405);
    expect(odd.headers.get('x-request-id')).toBe('id-propfind');
  });

  it('generates a UUID when none is sent, or the one sent is too long or not plain', async () => {
    const url = server().url;
    const absent = await fetch(`${url}/healthz`);
    expect(absent.headers.get('x-request-id')).toMatch(UUID);
    await accessLine(absent.headers.get('x-request-id')!);
    for (const bad of ['a'.repeat(500), 'has space', 'quote"d', '{"json":1}', 'semi;colon', 'é']) {
      const res = await fetch(`${url}/healthz`, { headers: { 'x-request-id': bad } });
      const id = res.headers.get('x-request-id')!;
      expect(id, bad).toMatch(UUID);
      await accessLine(id);
    }
    expect(log.lines.some((l) => JSON.stringify(l).includes('a'.repeat(200)))).toBe(false);
    // A raw request with a control character and a line break folded into the header.
    const raw = await rawRequest(
      url,
      'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: abc\x01def\r\nConnection: close\r\n\r\n',
    );
    if (raw.status === 200) expect(raw.headers['x-request-id']).toMatch(UUID);
    else expect(raw.status).toBe(400);
    const folded = await rawRequest(
      url,
      'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: abc\r\n def\r\nConnection: close\r\n\r\n',
    );
    if (folded.status === 200) expect(folded.headers['x-request-id']).toMatch(UUID);
    else expect(folded.status).toBe(400);
    // Two X-Request-Id headers: Node keeps the first... or joins them; either way no comma gets in.
    const twice = await rawRequest(
      url,
      'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: one\r\nX-Request-Id: two\r\nConnection: close\r\n\r\n',
    );
    expect(twice.headers['x-request-id']).toMatch(/^(one|[0-9a-f-]{36})$/);
  });

  it('is the requestId a masked error reports, on both GraphQL doors, REST and graphql-ws', async () => {
    await server().database.db.execute(
      sql.raw('alter table users add constraint logs_no_users2 check (false) not valid'),
    );
    try {
      for (const [id, accept] of [
        ['masked-direct', undefined],
        ['masked-yoga', 'application/graphql-response+json'],
      ] as const) {
        const { res, body } = await gqlPost(
          SIGNUP,
          { o: 'Masked', e: email('m'), p: PASSWORD },
          { 'x-request-id': id, ...(accept ? { accept } : {}) },
        );
        expect(res.headers.get('x-request-id')).toBe(id);
        expect(body.errors?.[0]?.extensions).toMatchObject({
          code: 'INTERNAL_SERVER_ERROR',
          requestId: id,
        });
        const logged = log.lines.filter((l) => l.requestId === id && l.level === 'error');
        expect(logged).toHaveLength(1);
        expect(logged[0]).toMatchObject({ msg: 'unexpected error', path: 'signup' });
        expect(await accessLine(id)).toMatchObject({ door: 'graphql', operation: 'Signup' });
      }
      const rest = await restCall(server().url, 'POST', '/auth/signup', {
        headers: { 'x-request-id': 'masked-rest' },
        body: { organisation_name: 'Masked', email: email('m'), password: PASSWORD },
      });
      expect(rest.status).toBe(500);
      expect(rest.json.requestId).toBe('masked-rest');
      expect(rest.headers.get('x-request-id')).toBe('masked-rest');
      expect(
        log.lines.filter((l) => l.requestId === 'masked-rest' && l.level === 'error'),
      ).toHaveLength(1);
      expect(await accessLine('masked-rest')).toMatchObject({
        door: 'rest',
        route: '/auth/signup',
        status: 500,
      });

      // graphql-ws: the connection's ID (its upgrade request's X-Request-Id) names its operations.
      const ws = createClient({
        url: `${server().url.replace(/^http/, 'ws')}/graphql`,
        webSocketImpl: class extends WebSocket {
          constructor(address: string, protocols?: string | string[]) {
            super(address, protocols, { headers: { 'x-request-id': 'masked-ws' } });
          }
        },
        retryAttempts: 0,
      });
      try {
        const result = await new Promise<any>((resolve, reject) => {
          ws.subscribe(
            { query: SIGNUP, variables: { o: 'Masked', e: email('m'), p: PASSWORD } },
            { next: resolve, error: reject, complete: () => {} },
          );
        });
        expect(result.errors?.[0]?.extensions).toMatchObject({
          code: 'INTERNAL_SERVER_ERROR',
          requestId: 'masked-ws',
        });
        expect(
          log.lines.filter((l) => l.requestId === 'masked-ws' && l.level === 'error'),
        ).toHaveLength(1);
      } finally {
        await ws.dispose();
      }

      // Without an X-Request-Id, the generated one is the same in the header, the answer and the log.
      const { res, body } = await gqlPost(SIGNUP, { o: 'Masked', e: email('m'), p: PASSWORD });
      const id = res.headers.get('x-request-id')!;
      expect(id).toMatch(UUID);
      expect(body.errors?.[0]?.extensions?.requestId).toBe(id);
      expect(log.lines.filter((l) => l.requestId === id && l.level === 'error')).toHaveLength(1);
    } finally {
      await server().database.db.execute(
        sql.raw('alter table users drop constraint if exists logs_no_users2'),
      );
    }
  });
});

describe('access lines', () => {
  it('name the door, the route template (never the IDs), method, status, duration and operation', async () => {
    const url = server().url;
    const signup = await restCall(url, 'POST', '/auth/signup', {
      body: { organisation_name: 'Access Org', email: email('access'), password: PASSWORD },
    });
    const token = signup.json.token as string;
    const tenant = await restCall(url, 'POST', '/tenants', {
      token,
      body: { display_name: 'Access Tenant', environment: 'prod' },
    });
    expect(tenant.status).toBe(201);
    const tenantId = tenant.json.id as string;

    const keys = await restCall(url, 'GET', `/tenants/${tenantId}/keys`, {
      token,
      headers: { 'x-request-id': 'access-keys' },
    });
    expect(keys.status).toBe(200);
    const line = await accessLine('access-keys');
    expect(line).toMatchObject({
      level: 'info',
      msg: 'request completed',
      door: 'rest',
      method: 'GET',
      route: '/tenants/{id}/keys',
      status: 200,
      requestId: 'access-keys',
    });
    expect(typeof line.ms).toBe('number');
    expect(line.ms as number).toBeGreaterThanOrEqual(0);
    expect(JSON.stringify(line)).not.toContain(tenantId);

    // A 404 under a REST prefix, and a 405: templates, never the raw path.
    await restCall(url, 'GET', `/tenants/${tenantId}/nope/123`, {
      token,
      headers: { 'x-request-id': 'access-404' },
    });
    expect(JSON.stringify(await accessLine('access-404'))).not.toContain(tenantId);
    await restCall(url, 'PUT', `/tenants/${tenantId}/keys`, {
      token,
      headers: { 'x-request-id': 'access-405' },
    });
    expect(await accessLine('access-405')).toMatchObject({
      route: '/tenants/{id}/keys',
      status: 405,
      method: 'PUT',
    });

    const gql = await gqlPost(
      'query Tenants { tenants(first: 1) { edges { node { id } } } }',
      {},
      { authorization: bearer(token), 'x-request-id': 'access-gql' },
    );
    expect(gql.res.status).toBe(200);
    expect(await accessLine('access-gql')).toMatchObject({
      level: 'info',
      door: 'graphql',
      route: '/graphql',
      method: 'POST',
      operation: 'Tenants',
      status: 200,
    });

    // /auth/verify and the probes: at debug, so a busy proxy does not flood the info log.
    await fetch(`${url}/auth/verify/some/original/path`, {
      headers: { 'x-request-id': 'access-verify', 'x-required-scope': 'metrics:write' },
    });
    expect(await accessLine('access-verify')).toMatchObject({
      level: 'debug',
      door: 'verify',
      route: '/auth/verify/*',
      status: 401,
    });
    await fetch(`${url}/readyz`, { headers: { 'x-request-id': 'access-ready' } });
    expect(await accessLine('access-ready')).toMatchObject({ level: 'debug', door: 'health' });
  });

  it('leaves verify, metrics and health hits out of an info-level log, and keeps the rest', async () => {
    const lines: LogLine[] = [];
    const logger = createLogger('info', (line) => void lines.push(JSON.parse(line)));
    const ok: Parameters<typeof createHttpServer>[0][number]['handler'] = (_req, res) => {
      res.writeHead(200, { 'content-length': 0 });
      res.end();
    };
    const http = createHttpServer(
      [
        { path: '/auth/verify', door: 'verify', handler: ok },
        { path: '/metrics', handler: ok },
        { path: '/healthz', door: 'health', handler: ok },
        { path: '/graphql', handler: ok },
      ],
      logger,
    );
    await new Promise<void>((resolve) => http.server.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(http.server.address() as AddressInfo).port}`;
      for (const path of ['/auth/verify', '/metrics', '/healthz', '/graphql', '/nowhere']) {
        (await fetch(`${base}${path}`)).body?.cancel();
      }
      await expect.poll(() => lines.length, { timeout: 5_000 }).toBe(2);
      await new Promise((r) => setTimeout(r, 100));
      expect(lines.map((l) => [l.door, l.route ?? null, l.status])).toEqual([
        ['graphql', '/graphql', 200],
        ['none', null, 404],
      ]);
    } finally {
      await http.close(1_000);
    }
  });

  it('costs a response nothing above info (no line could be written): no listener at warn', async () => {
    const closeListeners = async (level: 'info' | 'warn') => {
      const lines: unknown[] = [];
      const logger = createLogger(level, (line) => void lines.push(line));
      let count = -1;
      const http = createHttpServer(
        [
          {
            path: '/graphql',
            handler: (_req, res) => {
              count = res.listenerCount('close');
              res.writeHead(200, { 'content-length': 0 });
              res.end();
            },
          },
        ],
        logger,
      );
      await new Promise<void>((resolve) => http.server.listen(0, '127.0.0.1', resolve));
      try {
        const port = (http.server.address() as AddressInfo).port;
        (await fetch(`http://127.0.0.1:${port}/graphql`)).body?.cancel();
        await new Promise((r) => setTimeout(r, 100));
        return { count, lines: lines.length };
      } finally {
        await http.close(1_000);
      }
    };
    const info = await closeListeners('info');
    const warn = await closeListeners('warn');
    expect(info.lines).toBe(1);
    expect(warn).toEqual({ count: info.count - 1, lines: 0 });
  });
});

function rid(id: string) {
  return { 'x-request-id': id };
}
function post(query: string, id: string, headers: Record<string, string> = {}): RequestInit {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...rid(id), ...headers },
    body: JSON.stringify({ query }),
  };
}
function get(id: string): RequestInit {
  return { headers: rid(id) };
}

// A spawned portal on embedded PGlite whatever the project: the log does not depend on the engine.
describe.skipIf(engine === 'postgres')('the process log', () => {
  it('writes JSON lines to stderr by default, pino-pretty lines with LOG_FORMAT=pretty', async () => {
    expect(loadConfig(testEnv()).logFormat).toBe('json');
    expect(loadConfig(testEnv({ NODE_ENV: 'development' })).logFormat).toBe(
      process.stderr.isTTY ? 'pretty' : 'json',
    );
    expect(loadConfig(testEnv({ LOG_FORMAT: 'pretty' })).logFormat).toBe('pretty');
    expect(() => loadConfig(testEnv({ LOG_FORMAT: 'xml' }))).toThrow(/LOG_FORMAT/);

    for (const format of ['json', 'pretty']) {
      const portal = await spawnPortal({
        LOG_LEVEL: 'info',
        LOG_FORMAT: format,
        PGLITE_DIR: 'memory://',
        DATABASE_URL: undefined,
      });
      try {
        const res = await fetch(`${portal.url}/tenants`, {
          headers: { 'x-request-id': `spawned-${format}` },
        });
        expect(res.status).toBe(401);
        await waitFor(async () => portal.output().includes(`spawned-${format}`), 10_000);
        const line = portal
          .output()
          .split('\n')
          .find((l) => l.includes(`spawned-${format}`))!;
        if (format === 'json') {
          expect(JSON.parse(line)).toMatchObject({
            level: 'info',
            msg: 'request completed',
            requestId: 'spawned-json',
            door: 'rest',
            route: '/tenants',
            status: 401,
          });
        } else {
          expect(portal.output()).toMatch(/INFO.*request completed/);
          expect(line).not.toMatch(/^\{/);
          expect(line).toContain('requestId: "spawned-pretty"');
        }
      } finally {
        await portal.kill();
      }
    }
  });
});
