import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, engine, type TestDatabase } from './helpers/database.ts';
import { uniqueEmail } from './helpers/factories.ts';
import { type PortalProcess, spawnPortal, waitFor } from './helpers/process.ts';
import { restCall } from './helpers/rest.ts';
import { childrenOf, isAlive } from './helpers/workers.ts';

/**
 * A GraphQL POST on a connection of its own (`connection: close`): the cluster hands connections
 * to workers in turn, so consecutive calls reach different workers.
 */
function gqlOnNewConnection(
  baseUrl: string,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
): Promise<{ status: number; body: any }> {
  return restCall(baseUrl, 'POST', '/graphql', {
    token,
    body: { query, variables },
    headers: { connection: 'close' },
  }).then((reply) => ({ status: reply.status, body: reply.json }));
}

const ME = '{ me { email role } }';

// Several processes on one database: PGlite is one process per data directory.
describe.skipIf(engine !== 'postgres')('WORKERS: several processes behind one port', () => {
  let testDatabase: TestDatabase;
  let portal: PortalProcess;
  let token: string;
  const email = uniqueEmail('cluster');

  beforeAll(async () => {
    testDatabase = await createTestDatabase();
    // No JWT_SECRET: the primary makes one development secret for all workers.
    portal = await spawnPortal({
      DATABASE_URL: testDatabase.url!,
      WORKERS: '2',
      NODE_ENV: 'development',
      JWT_SECRET: undefined,
    });
    const signup = await gqlOnNewConnection(
      portal.url,
      `mutation($email: String!) { signup(organisationName: "Cluster", email: $email,
        password: "Correct-Horse-9") { ... on AuthPayload { token } } }`,
      { email },
    );
    token = signup.body.data.signup.token;
  });

  afterAll(async () => {
    await portal?.kill('SIGKILL');
    await testDatabase?.drop();
  });

  it('starts two workers, and every worker accepts a token another one issued', async () => {
    expect(childrenOf(portal.child.pid!), portal.output()).toHaveLength(2);
    expect(portal.output()).toMatch(
      /listening on http:\S+ \(database: PostgreSQL, 2 workers, started in \d+\.\d\d s\)/,
    );
    // Six connections alternate between the two workers: one secret or half of them fail.
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => gqlOnNewConnection(portal.url, ME, {}, token)),
    );
    for (const answer of answers) {
      expect(answer.body.errors, portal.output()).toBeUndefined();
      expect(answer.body.data.me).toEqual({ email, role: 'owner' });
    }
  });

  it('counts failed logins across workers: the 11th attempt is refused wherever it lands', async () => {
    const login = (password: string) =>
      gqlOnNewConnection(
        portal.url,
        `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { __typename } }`,
        { e: email, p: password },
      );
    // Ten connections alternate between the two workers: five failures each.
    for (let i = 0; i < 10; i++) {
      expect((await login('wrong-password-1')).body.data.login.__typename).toBe(
        'InvalidCredentialsError',
      );
    }
    for (let i = 0; i < 2; i++) {
      expect((await login('Correct-Horse-9')).body.data.login.__typename).toBe('RateLimitedError');
    }
  });

  it('replaces a worker that dies, and keeps answering meanwhile', async () => {
    const [victim, survivor] = childrenOf(portal.child.pid!) as [number, number];
    process.kill(victim, 'SIGKILL');
    await waitFor(async () => /worker exited; starting a replacement/.test(portal.output()), 5_000);
    // The survivor answers while the replacement starts.
    const during = await gqlOnNewConnection(portal.url, ME, {}, token);
    expect(during.body.data.me.email).toBe(email);
    await waitFor(async () => {
      const workers = childrenOf(portal.child.pid!);
      return workers.length === 2 && !workers.includes(victim) && workers.includes(survivor);
    }, 20_000);
    // The primary says when the replacement listens; then both answer again.
    const replacement = childrenOf(portal.child.pid!).find((pid) => pid !== survivor)!;
    await waitFor(async () => portal.output().includes(`worker ${replacement} listening`), 60_000);
    const answers = await Promise.all(
      Array.from({ length: 4 }, () => gqlOnNewConnection(portal.url, ME, {}, token)),
    );
    for (const answer of answers) expect(answer.body.data?.me?.email).toBe(email);
  });

  it('survives an old worker dying while its replacement starts; the set returns to 2 and a later SIGHUP still works', async () => {
    const restartsDone = () =>
      portal.output().match(/rolling restart done: 2 of 2 workers replaced/g)?.length ?? 0;
    // Both workers listen (the test above waits for its replacement to): killing one leaves
    // the other serving. With only one listening, the port would close for a moment, and with
    // PORT=0 the primary would then listen on another port.
    const before = childrenOf(portal.child.pid!);
    expect(before).toHaveLength(2);
    // Every process migrates under this advisory lock (src/db/client.ts): held here, a new
    // worker waits in its migration, started but not listening, for as long as this test likes.
    const sql = postgres(testDatabase.url!, { max: 1, onnotice: () => {} });
    const migrationLock = '7245310001';
    const waitingForLock = async () =>
      (
        await sql`select 1 from pg_locks where locktype = 'advisory' and not granted
          and database = (select oid from pg_database where datname = current_database())`
      ).length > 0;
    try {
      await sql`select pg_advisory_lock(${migrationLock}::bigint)`;
      portal.child.kill('SIGHUP');
      await waitFor(
        async () => /rolling restart: replacing worker \d+/.test(portal.output()),
        20_000,
      );
      const victim = Number(/rolling restart: replacing worker (\d+)/.exec(portal.output())![1]);
      expect(before).toContain(victim);
      await waitFor(waitingForLock, 60_000);

      process.kill(victim, 'SIGKILL');
      await waitFor(async () => /worker exited/.test(portal.output()), 20_000);
      await sql`select pg_advisory_unlock(${migrationLock}::bigint)`;
      // Before F1 the primary crashed here (a message sent to the dead worker).
      const primaryExited = () =>
        portal.child.exitCode !== null || portal.child.signalCode !== null;
      await waitFor(async () => restartsDone() === 1 || primaryExited(), 120_000);
    } finally {
      await sql.end();
    }
    expect(portal.child.exitCode, portal.output()).toBeNull();
    expect(portal.output()).toMatch(/worker exited while its replacement was starting/);
    const after = childrenOf(portal.child.pid!);
    expect(after, portal.output()).toHaveLength(2);
    expect(after.filter((pid) => before.includes(pid))).toEqual([]);
    expect((await gqlOnNewConnection(portal.url, ME, {}, token)).body.data.me.email).toBe(email);

    // The restart ended properly: the next SIGHUP is not ignored.
    portal.child.kill('SIGHUP');
    await waitFor(async () => restartsDone() === 2, 120_000);
    const again = childrenOf(portal.child.pid!);
    expect(again, portal.output()).toHaveLength(2);
    expect(again.filter((pid) => after.includes(pid))).toEqual([]);
  }, 300_000);

  it('on SIGTERM lets every worker drain, then exits 0', async () => {
    const workers = childrenOf(portal.child.pid!);
    expect(workers).toHaveLength(2);
    const exited = new Promise<number | null>((resolve) => portal.child.once('exit', resolve));
    portal.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(workers.filter(isAlive)).toEqual([]);
  });
});

describe('WORKERS: a worker that cannot start', () => {
  it('stops the primary with exit code 1 instead of restarting it in a loop', async () => {
    const started = spawnPortal({
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/xscaler_no_such_database',
      WORKERS: '2',
    });
    await expect(started).rejects.toThrow(/exited with 1[\s\S]*worker failed to start; stopping/);
  }, 120_000);
});
