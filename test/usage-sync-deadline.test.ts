import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/lib/clock.ts';
import { startTestServer, type TestServer } from './helpers/app.ts';
import { createTestDatabaseWithDeadlines, engine } from './helpers/database.ts';
import { createTenant, signupOrg } from './helpers/factories.ts';
import { PrometheusFixture } from './helpers/prometheus-fixture.ts';

/**
 * The usage sync's statements run under the tick's budget (the interval), not a request's
 * statement timeout: at 50,000 tenants with weeks of hourly history its roll-up upserts take
 * seconds. Here a request timeout of 300 ms and a lock held on a tenant's usage row for longer
 * stand in for a slow roll-up: requests still fail fast, the tick waits and succeeds.
 */
const REQUEST_TIMEOUT_MS = 300;
const HELD_MS = 1_000;
let server: TestServer;
let admin: postgres.Sql;
const clock = new ManualClock(new Date('2026-06-18T10:00:30Z'));
const fixture = new PrometheusFixture();

// PGlite runs in process, one statement at a time: no statement_timeout, no second connection.
describe.skipIf(engine === 'pglite')('usage sync under a short request timeout', () => {
  beforeAll(async () => {
    await fixture.start();
    const testDatabase = await createTestDatabaseWithDeadlines(4, {
      statementTimeoutMs: REQUEST_TIMEOUT_MS,
    });
    const url = testDatabase.url;
    admin = postgres(url, { max: 2, onnotice: () => {} });
    server = await startTestServer({
      testDatabase,
      env: {
        DB_STATEMENT_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
        USAGE_PROMETHEUS_URL: fixture.url,
      },
      overrides: { clock },
    });
    await server.app.usageSync.stop();
  });

  afterAll(async () => {
    await admin?.end();
    await server?.stop();
    await server?.testDatabase.drop();
    await fixture.stop();
  });

  it('waits past the request timeout for a lock on the usage it writes, then commits', async () => {
    const org = await signupOrg(server);
    const tenant = await createTenant(server, org.token);
    clock.advance(60_000);
    expect(await server.app.usageSync.runTick()).toBe('synced'); // the tenant's usage row exists

    // Another transaction holds the row the next tick upserts, for longer than a request may wait.
    let release!: () => void;
    const released = new Promise<void>((r) => {
      release = r;
    });
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => {
      locked = r;
    });
    const holder = admin.begin(async (tx) => {
      await tx`select 1 from usage_current where tenant_id = ${tenant.id} for update`;
      locked();
      await released;
    });
    await isLocked;
    setTimeout(release, HELD_MS);

    clock.advance(60_000);
    const started = performance.now();
    const outcome = await server.app.usageSync.runTick();
    const waited = performance.now() - started;
    await holder;
    expect(outcome).toBe('synced');
    expect(waited).toBeGreaterThan(HELD_MS - 50);

    // A request's statement blocked the same way still gives up at the request timeout.
    const requestLock = admin.begin(async (tx) => {
      await tx`select 1 from usage_current where tenant_id = ${tenant.id} for update`;
      await new Promise((r) => setTimeout(r, HELD_MS));
    });
    await new Promise((r) => setTimeout(r, 50));
    const blocked = server.database.db.execute(
      // The same row lock a request would meet (usage_current is only written by the sync).
      sql`select 1 from usage_current where tenant_id = ${tenant.id} for update`,
    );
    await expect(blocked).rejects.toMatchObject({ cause: { code: '57014' } }); // statement_timeout
    await requestLock;
  });
});
