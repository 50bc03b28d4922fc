import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/lib/logger.ts';
import { startTestServer, type TestServer } from './helpers/app.ts';
import { createTestDatabaseWithDeadlines, engine } from './helpers/database.ts';
import { createApiKey, createTenant, signupOrg, type TestOrg } from './helpers/factories.ts';
import { bearer } from './helpers/http.ts';
import { restCall } from './helpers/rest.ts';

/**
 * A statement blocked on a lock, or a pool whose connections are all held, fails fast with the
 * unavailable answer instead of hanging the request; /healthz answers throughout.
 */
const POOL_MAX = 2;
const logLines: string[] = [];
let server: TestServer;
let admin: postgres.Sql;
let org: TestOrg;
let tenantId: string;
let key: string;

// PGlite runs in process, one statement at a time: no pool to saturate and no statement_timeout.
describe.skipIf(engine === 'pglite')('deadlines on PostgreSQL', () => {
  beforeAll(async () => {
    const testDatabase = await createTestDatabaseWithDeadlines(POOL_MAX, {
      statementTimeoutMs: 300,
      poolWaitMs: 300,
    });
    const url = testDatabase.url;
    admin = postgres(url, { max: 1, onnotice: () => {} });
    server = await startTestServer({
      testDatabase,
      env: { KEY_CACHE_TTL_S: '0' },
      overrides: { logger: createLogger('debug', (line) => void logLines.push(line)) },
    });
    org = await signupOrg(server);
    tenantId = (await createTenant(server, org.token)).id;
    key = (await createApiKey(server, org.token, tenantId)).key;
  });

  afterAll(async () => {
    await admin?.end();
    await server?.stop();
    await server?.testDatabase.drop();
  });

  const listTenants = () => restCall(server.url, 'GET', '/tenants', { token: org.token });
  const gqlTenants = async () => {
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json',
        authorization: `Bearer ${org.token}`,
      },
      body: JSON.stringify({ query: '{ tenants(first: 5) { totalCount } }' }),
    });
    return { status: res.status, body: await res.json() };
  };
  const verify = () =>
    fetch(`${server.url}/auth/verify?scope=metrics:write`, {
      headers: { authorization: bearer(key) },
    });
  const errorLines = () =>
    logLines.map((l) => JSON.parse(l)).filter((l: { level: string }) => l.level === 'error');

  it('a statement waiting on a lock times out into the unavailable answer', async () => {
    const held = admin.begin(async (tx) => {
      // Every table a door reads: uncached verify reads only api_key_secrets.
      await tx`lock table tenants, api_keys, api_key_secrets in access exclusive mode`;
      const list = await listTenants();
      expect(list.status).toBe(503);
      expect(list.json.error).toBe('unavailable');
      expect(list.headers.get('retry-after')).toBe('1');
      const gql = await gqlTenants();
      expect(gql.status).toBe(503);
      expect(gql.body.errors[0].extensions.code).toBe('SERVICE_UNAVAILABLE');
      expect((await verify()).status).toBe(503);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    });
    await held;
    // The lock is gone: the same requests succeed on the same pool.
    expect((await listTenants()).status).toBe(200);
    expect((await verify()).status).toBe(200);
    expect(errorLines()).toEqual([]);
    const timedOut = logLines
      .map((l) => JSON.parse(l))
      .filter((l: { msg: string }) => l.msg === 'database unavailable');
    expect(timedOut.some((l: { code?: string }) => l.code === '57014')).toBe(true);
  });

  it('a pool with every connection held answers unavailable within the deadline', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    // The portal's own pool: each withTryLock holds one connection until the gate opens.
    let holding = 0;
    let allHeld!: () => void;
    const everyConnectionHeld = new Promise<void>((resolve) => {
      allHeld = resolve;
    });
    const holders = Array.from({ length: POOL_MAX }, (_, i) =>
      server.database.withTryLock(BigInt(9_100_000 + i), async () => {
        if (++holding === POOL_MAX) allHeld();
        await gate;
      }),
    );
    await everyConnectionHeld;
    try {
      const list = await listTenants();
      expect(list.status).toBe(503);
      expect(list.json.error).toBe('unavailable');
      const gql = await gqlTenants();
      expect(gql.status).toBe(503);
      expect(gql.body.errors[0].extensions.code).toBe('SERVICE_UNAVAILABLE');
      expect((await verify()).status).toBe(503);
      // A write that waits for a connection (a transaction) is refused, and never runs later.
      const create = await restCall(server.url, 'POST', '/tenants', {
        token: org.token,
        body: { display_name: 'Too Late', environment: 'dev' },
      });
      expect(create.status).toBe(503);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    } finally {
      release();
      await Promise.all(holders);
    }
    const after = await listTenants();
    expect(after.status).toBe(200);
    const [row] =
      await admin`select count(*)::int as n from tenants where display_name = 'Too Late'`;
    expect(row!.n).toBe(0);
    expect(errorLines()).toEqual([]);
  });
});
