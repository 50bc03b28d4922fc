import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gqlAt, type TestServer } from './helpers/app.ts';
import { createTestDatabase, engine, type TestDatabase } from './helpers/database.ts';
import { signupOrg, type TestOrg } from './helpers/factories.ts';
import { freePort, runLoad, TestBalancer } from './helpers/load.ts';
import { type PortalProcess, spawnPortal, waitFor } from './helpers/process.ts';
import { childrenOf } from './helpers/workers.ts';

/**
 * Restarts under load from keep-alive clients that retry only refused connections (as a load
 * balancer does: nothing was sent), with real processes and sockets: no request may fail.
 */

/** Starting under load on two shared cores can be slow; a test that waits longer still passes. */
const START_WITHIN_MS = 90_000;
/** A test restarts a process or two: minutes on a busy machine, seconds on an idle one. */
const RESTART_TEST_MS = 240_000;

const ME = JSON.stringify({ query: '{ me { email } }' });

function meLoad(balancer: TestBalancer, org: TestOrg) {
  return runLoad(
    balancer,
    4,
    '/graphql',
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${org.token}` },
      body: ME,
    },
    (reply) => reply.status === 200 && JSON.parse(reply.body).data?.me?.email === org.email,
  );
}

async function signupAt(url: string): Promise<TestOrg> {
  const server = {
    gql: (q: string, v?: Record<string, unknown>, t?: string) => gqlAt(url, q, v, t),
  };
  return signupOrg(server as unknown as TestServer);
}

const exitOf = (portal: PortalProcess) =>
  new Promise<number | null>((resolve) => {
    if (portal.child.exitCode !== null) return resolve(portal.child.exitCode);
    portal.child.once('exit', (code) => resolve(code));
  });

// Several processes on one database: PGlite is one process per data directory.
describe.skipIf(engine !== 'postgres')('rolling restart on PostgreSQL: 0 failed requests', () => {
  let testDatabase: TestDatabase;
  const portals: PortalProcess[] = [];
  let org: TestOrg;
  let ports: { single: number; workers: number };

  const start = async (port: number, env: Record<string, string> = {}) => {
    const portal = await spawnPortal(
      {
        DATABASE_URL: testDatabase.url!,
        PORT: String(port),
        // Long enough for the balancer's health check (every 100 ms) to take it out of rotation.
        SHUTDOWN_DRAIN_S: '1',
        ...env,
      },
      { startTimeoutMs: START_WITHIN_MS },
    );
    portals.push(portal);
    return portal;
  };

  beforeAll(async () => {
    testDatabase = await createTestDatabase();
    ports = { single: await freePort(), workers: await freePort() };
    await start(ports.single);
    await start(ports.workers, { WORKERS: '2' });
    org = await signupAt(portals[0]!.url);
  }, RESTART_TEST_MS);

  afterAll(async () => {
    for (const portal of portals) await portal.kill('SIGKILL');
    await testDatabase?.drop();
  });

  /** SIGTERM one of two instances under load, start it again on its port, load both again. */
  async function restartOneOfTwo(port: number, env: Record<string, string> = {}) {
    const urls = [`http://127.0.0.1:${ports.single}`, `http://127.0.0.1:${ports.workers}`];
    const victimUrl = `http://127.0.0.1:${port}`;
    const victim = [...portals].reverse().find((p) => p.url === victimUrl)!;
    const balancer = new TestBalancer(urls);
    const load = meLoad(balancer, org);
    try {
      await load.served(200);
      victim.child.kill('SIGTERM');
      expect(await exitOf(victim), victim.output()).toBe(0);
      await load.served(100); // all on the other instance
      const replacement = await start(port, env);
      // The balancer's health check brings it back; it must then take its share.
      const before = load.report.perBackend[victimUrl] ?? 0;
      await waitFor(async () => (load.report.perBackend[victimUrl] ?? 0) > before + 50, 60_000);
      await load.served(100);
      const report = await load.stop();
      expect(report.failures, replacement.output()).toEqual([]);
      expect(report.ok).toBeGreaterThan(500);
      return { report, refusedRetries: balancer.refusedRetries };
    } finally {
      await load.stop();
      balancer.close();
    }
  }

  it(
    'SIGTERM of a single-process instance, one of two, then its restart',
    async () => {
      const { report } = await restartOneOfTwo(ports.single);
      // The drain was exercised: answers sent while draining closed their connections.
      expect(report.connectionClose).toBeGreaterThan(0);
    },
    RESTART_TEST_MS,
  );

  it(
    'SIGTERM of a WORKERS=2 instance, one of two, then its restart',
    async () => {
      const { report } = await restartOneOfTwo(ports.workers, { WORKERS: '2' });
      expect(report.connectionClose).toBeGreaterThan(0);
    },
    RESTART_TEST_MS,
  );

  it(
    'SIGHUP restarts a WORKERS=2 set one worker at a time: nothing refused, nothing failed',
    async () => {
      const primary = [...portals]
        .reverse()
        .find((p) => p.url === `http://127.0.0.1:${ports.workers}`)!;
      const workersBefore = childrenOf(primary.child.pid!);
      expect(workersBefore).toHaveLength(2);
      const balancer = new TestBalancer([primary.url]);
      const load = meLoad(balancer, org);
      try {
        await load.served(200);
        const restarted = new Promise<void>((resolve) => {
          const onData = () => {
            if (/rolling restart done: 2 of 2 workers replaced/.test(primary.output())) {
              primary.child.stdout?.off('data', onData);
              resolve();
            }
          };
          primary.child.stdout?.on('data', onData);
        });
        primary.child.kill('SIGHUP');
        await restarted;
        await load.served(200);
        const report = await load.stop();
        expect(report.failures, primary.output()).toEqual([]);
        // The primary kept the port open throughout: no connection was ever refused.
        expect(balancer.refusedRetries).toBe(0);
        const workersAfter = childrenOf(primary.child.pid!);
        expect(workersAfter).toHaveLength(2);
        expect(workersAfter.filter((pid) => workersBefore.includes(pid))).toEqual([]);
      } finally {
        await load.stop();
        balancer.close();
      }
    },
    RESTART_TEST_MS,
  );
});

// PGlite: one process owns its data directory, so the only restart is stop-then-start; clients
// retry refused connections meanwhile, and nothing sent on a kept-alive connection is lost.
describe.skipIf(engine !== 'pglite')(
  'restart of a single PGlite instance: 0 failed requests',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'portal-restart-'));
    const portals: PortalProcess[] = [];

    afterAll(async () => {
      for (const portal of portals) await portal.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    });

    it(
      'SIGTERM under keep-alive load, then a restart on the same port and data',
      async () => {
        const port = await freePort();
        const env = { PORT: String(port), PGLITE_DIR: dir };
        const first = await spawnPortal(env, { startTimeoutMs: START_WITHIN_MS });
        portals.push(first);
        const org = await signupAt(first.url);
        const balancer = new TestBalancer([first.url]);
        const load = meLoad(balancer, org);
        try {
          await load.served(200);
          first.child.kill('SIGTERM');
          expect(await exitOf(first), first.output()).toBe(0);
          const second = await spawnPortal(env, { startTimeoutMs: START_WITHIN_MS });
          portals.push(second);
          await load.served(200);
          const report = await load.stop();
          expect(report.failures, second.output()).toEqual([]);
          expect(report.connectionClose).toBeGreaterThan(0);
          expect(balancer.refusedRetries).toBeGreaterThan(0);
        } finally {
          await load.stop();
          balancer.close();
        }
      },
      RESTART_TEST_MS,
    );
  },
);
