import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/client.ts';
import { createLogger } from '../src/lib/logger.ts';
import { startTestServer, type TestServer } from './helpers/app.ts';
import { createTestDatabase } from './helpers/database.ts';
import { createApiKey, createTenant, signupOrg, type TestOrg } from './helpers/factories.ts';
import { bearer } from './helpers/http.ts';
import { restCall } from './helpers/rest.ts';
import { subscribeWs } from './helpers/subscriptions.ts';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.ts';

/**
 * Every door answers a database it cannot reach the same way: REST and /auth/verify 503
 * `unavailable` with Retry-After, GraphQL the code SERVICE_UNAVAILABLE (503 for
 * application/graphql-response+json); logged as a warning, never as an error with a stack.
 * On PostgreSQL the network to the database is cut (and restored); PGlite is closed.
 */
const logLines: string[] = [];
let server: TestServer;
let proxy: TcpProxy | undefined;
let org: TestOrg;
let tenantId: string;
let key: string;

beforeAll(async () => {
  const testDatabase = await createTestDatabase();
  let open = testDatabase.open;
  if (testDatabase.url) {
    const target = new URL(testDatabase.url);
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    const viaProxy = new URL(testDatabase.url);
    viaProxy.port = String(proxy.port);
    open = () =>
      openDatabase({
        databaseUrl: viaProxy.toString(),
        pgliteDir: '',
        poolMax: 4,
        deadlines: { connectTimeoutMs: 1000, poolWaitMs: 1000 },
      });
  }
  server = await startTestServer({
    testDatabase: { ...testDatabase, open },
    // Every verification reaches the database (no 15 s cache to hide the outage).
    env: { KEY_CACHE_TTL_S: '0' },
    overrides: { logger: createLogger('debug', (line) => void logLines.push(line)) },
  });
  org = await signupOrg(server);
  tenantId = (await createTenant(server, org.token)).id;
  key = (await createApiKey(server, org.token, tenantId)).key;
  // Going down is the last thing this file does on PGlite: stop() then finds it closed.
  const stop = server.stop;
  server.stop = async () => {
    await proxy?.restore();
    await stop().catch(() => {});
    await proxy?.close();
    await testDatabase.drop();
  };
});

afterAll(async () => {
  await server?.stop();
});

const gqlWith = (accept: string, query: string) =>
  fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept, authorization: `Bearer ${org.token}` },
    body: JSON.stringify({ query }),
  });

const levels = () => logLines.map((line) => JSON.parse(line) as Record<string, unknown>);

async function expectUnavailableEverywhere() {
  const verify = await fetch(`${server.url}/auth/verify?scope=metrics:write`, {
    headers: { authorization: bearer(key) },
  });
  expect(verify.status).toBe(503);
  expect(verify.headers.get('retry-after')).toBe('1');
  expect((await verify.json()).error).toBe('unavailable');

  const list = await restCall(server.url, 'GET', '/tenants', { token: org.token });
  expect(list.status).toBe(503);
  expect(list.json).toMatchObject({ error: 'unavailable', message: expect.any(String) });
  expect(list.headers.get('retry-after')).toBe('1');

  const create = await restCall(server.url, 'POST', '/tenants', {
    token: org.token,
    body: { display_name: 'Down Service', environment: 'dev' },
  });
  expect(create.status).toBe(503);
  expect(create.json.error).toBe('unavailable');

  // application/json: 200 as the GraphQL over HTTP spec asks, the code says what happened.
  const plain = await gqlWith('application/json', '{ tenants(first: 5) { totalCount } }');
  expect(plain.status).toBe(200);
  expect(plain.headers.get('retry-after')).toBe('1');
  const plainBody = await plain.json();
  expect(plainBody.errors[0].extensions.code).toBe('SERVICE_UNAVAILABLE');
  expect(plainBody.errors[0].message).not.toBe('Unexpected error.');
  expect(plainBody.errors[0].extensions.http).toBeUndefined();

  const spec = await gqlWith(
    'application/graphql-response+json',
    `mutation { createTenant(displayName: "Down", environment: dev) { __typename } }`,
  );
  expect(spec.status).toBe(503);
  expect(spec.headers.get('retry-after')).toBe('1');
  expect((await spec.json()).errors[0].extensions.code).toBe('SERVICE_UNAVAILABLE');

  // graphql-ws: the subscription's session lookup meets the database.
  const live = subscribeWs(
    server.url,
    'subscription { orgUsageUpdated { activeSeries } }',
    {},
    org.token,
  );
  const refused = await live.next();
  live.close();
  expect(refused.errors[0].extensions.code).toBe('SERVICE_UNAVAILABLE');

  expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  expect((await fetch(`${server.url}/readyz`)).status).toBe(503);

  const lines = levels();
  expect(lines.filter((l) => l.level === 'error')).toEqual([]);
  const warnings = lines.filter((l) => l.msg === 'database unavailable');
  expect(warnings.length).toBeGreaterThan(0);
  for (const w of warnings) expect(w.stack).toBeUndefined();
}

describe('the database down', () => {
  it('answers "unavailable, retry" on every door, and serves again once it is back', async () => {
    // Up: the key is good and the portal is ready.
    const up = await fetch(`${server.url}/auth/verify?scope=metrics:write`, {
      headers: { authorization: bearer(key) },
    });
    expect(up.status).toBe(200);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);

    if (proxy) await proxy.cut();
    else await server.database.close();
    await expectUnavailableEverywhere();

    if (!proxy) return; // a closed PGlite stays closed; PostgreSQL comes back below
    await proxy.restore();
    // postgres.js reconnects on the next query: the first request after the network is back.
    const back = await restCall(server.url, 'GET', '/tenants', { token: org.token });
    expect(back.status).toBe(200);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    const again = await fetch(`${server.url}/auth/verify?scope=metrics:write`, {
      headers: { authorization: bearer(key) },
    });
    expect(again.status).toBe(200);
  });
});
