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

  it('a tenant with 160 keys (110 revoked) suspends, resumes and deletes cleanly; B follows at once', async () => {
    const org = await signupOrg(admin);
    const tenant = await createTenant(admin, org.token);
    const { services } = admin.app;
    const session = await services.auth.authenticate(org.token);
    await services.organisations.changePlan(session, { plan: 'scale' });
    for (let i = 0; i < 110; i++) {
      const issued = await services.apiKeys.create(session, tenant.id, { displayName: `old ${i}` });
      await services.apiKeys.revoke(session, issued.apiKey.id);
    }
    const live: string[] = [];
    for (let i = 0; i < 50; i++) {
      const issued = await services.apiKeys.create(session, tenant.id, { displayName: `k ${i}` });
      // Rolled keys have two secrets each.
      if (i < 10) {
        live.push(
          (await services.apiKeys.roll(session, issued.apiKey.id, { gracePeriodSeconds: 3600 }))
            .key,
        );
      }
      live.push(issued.key);
    }
    const sample = [...live.slice(0, 3), ...live.slice(-2)];
    const all = (url: string, status: number) => async () => {
      for (const key of sample) {
        if ((await verifyRequest(url, bearer(key))).status !== status) return false;
      }
      return true;
    };
    expect(await all(b.url, 200)()).toBe(true);

    const change = async (mutation: string, payload = 'Tenant') => {
      const res = await gqlAt(
        a.url,
        `mutation($id: ID!) { ${mutation}(id: $id) { __typename } }`,
        { id: tenant.id },
        org.token,
      );
      expect(res.errors, mutation).toBeUndefined();
      expect(res.data[mutation].__typename, mutation).toBe(payload);
    };

    await change('suspendTenant');
    expect(await all(a.url, 401)()).toBe(true);
    expect(await waitFor(all(b.url, 401), 1_000)).toBeLessThan(1_000);
    // B now caches the refusals for the full TTL: resuming must evict those too.
    await change('resumeTenant');
    expect(await all(a.url, 200)()).toBe(true);
    expect(await waitFor(all(b.url, 200), 1_000)).toBeLessThan(1_000);
    await change('deleteTenant', 'DeleteTenantPayload');
    expect(await all(a.url, 401)()).toBe(true);
    expect(await waitFor(all(b.url, 401), 1_000)).toBeLessThan(1_000);

    const sql = postgres(testDatabase.url!, { max: 1, onnotice: () => {} });
    try {
      const audit = await sql`select action from audit_events where object_id = ${tenant.id}
                              and action like 'tenant.%' order by id`;
      expect(audit.map((r) => r.action)).toEqual([
        'tenant.created',
        'tenant.suspended',
        'tenant.resumed',
        'tenant.deleted',
      ]);
    } finally {
      await sql.end();
    }
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
