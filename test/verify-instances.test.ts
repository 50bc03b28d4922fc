import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gqlAt, startTestServer, type TestServer } from './helpers/app.ts';
import { createTestDatabase, engine, type TestDatabase } from './helpers/database.ts';
import { createApiKey, createTenant, signupOrg } from './helpers/factories.ts';
import { bearer, verifyRequest } from './helpers/http.ts';
import { type PortalProcess, spawnPortal, waitFor } from './helpers/process.ts';

// Two real server processes on one PostgreSQL: only meaningful on PostgreSQL.
describe.skipIf(engine !== 'postgres')('revocation across instances (PostgreSQL NOTIFY)', () => {
  let testDatabase: TestDatabase;
  let admin: TestServer;
  let a: PortalProcess;
  let b: PortalProcess;

  beforeAll(async () => {
    testDatabase = await createTestDatabase();
    // In-process instance used to create data; a and b are separate processes.
    admin = await startTestServer({ testDatabase });
    [a, b] = await Promise.all([
      spawnPortal({ DATABASE_URL: testDatabase.url!, PORT: '0' }),
      spawnPortal({ DATABASE_URL: testDatabase.url!, PORT: '0' }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([a?.kill(), b?.kill()]);
    await admin?.stop();
    await testDatabase?.drop();
  });

  it('a key revoked on instance A is refused by instance B within 1 s', async () => {
    const org = await signupOrg(admin);
    const tenant = await createTenant(admin, org.token);
    const key = await createApiKey(admin, org.token, tenant.id);
    // B caches the key as valid.
    expect((await verifyRequest(b.url, bearer(key.key))).status).toBe(200);
    expect((await verifyRequest(b.url, bearer(key.key))).status).toBe(200);

    const revoked = await gqlAt(
      a.url,
      'mutation($id: ID!) { revokeApiKey(id: $id) { __typename } }',
      { id: key.id },
      org.token,
    );
    expect(revoked.data.revokeApiKey.__typename).toBe('ApiKey');
    const elapsed = await waitFor(
      async () => (await verifyRequest(b.url, bearer(key.key))).status === 401,
      1_000,
    );
    expect(elapsed).toBeLessThan(1_000);
  });

  it('clears the cache when the listening connection comes back', async () => {
    const org = await signupOrg(admin);
    const tenant = await createTenant(admin, org.token);
    const key = await createApiKey(admin, org.token, tenant.id);
    expect((await verifyRequest(b.url, bearer(key.key))).status).toBe(200);

    const sql = postgres(testDatabase.url!, { max: 1, onnotice: () => {} });
    try {
      // Drop every listening connection, then revoke without any notification.
      await sql`select pg_terminate_backend(pid) from pg_stat_activity
                where datname = current_database() and query ilike 'listen%' and pid <> pg_backend_pid()`;
      await sql`update api_keys set revoked_at = now() where id = ${key.id}`;
    } finally {
      await sql.end();
    }
    // Far sooner than the 15 s TTL: the reconnect cleared B's cache.
    await waitFor(
      async () => (await verifyRequest(b.url, bearer(key.key))).status === 401,
      8_000,
      100,
    );
  });
});
