import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../src/db/client.ts';
import { asServiceUnavailable } from '../src/db/errors.ts';
import { withPoolDeadline } from '../src/db/pool-deadline.ts';
import {
  createTestDatabase,
  engine,
  TEST_DATABASE_URL,
  type TestDatabase,
} from './helpers/database.ts';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.ts';

/**
 * postgres.js 3.4.9 keeps per-query state in its connection (a row offset, the last
 * ErrorResponse, the running query) and cleared it only when a query completed. A query that
 * failed after some rows, or a connection killed while it streamed rows, left that state to the
 * next query: its result had holes at the start (`[ , , row]`, so `const [user] = rows` was
 * undefined: db-loss-kill's "Token no longer valid"), the next connection's first query was
 * rejected with the dead one's 57P01, and end() never returned. And a socket reset ('error'
 * before 'close') left queries pipelined in between unanswered forever, on the next connection;
 * a query cancelled while its connection opened (the pool deadline) left that connection unused.
 * patches/postgres+3.4.9.patch clears that state (porsager/postgres#1119, #1181); these fail if an
 * upgrade drops it.
 */
let testDatabase: TestDatabase;
let admin: postgres.Sql;
const clients: postgres.Sql[] = [];

const client = (url = testDatabase.url!) => {
  const c = postgres(url, { max: 1, onnotice: () => {} });
  clients.push(c);
  return c;
};
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (err: unknown) => err as { code?: string },
  );
const backendPid = async (c: postgres.Sql) =>
  (await c`select pg_backend_pid() as pid`)[0]!.pid as number;
/** Until the backend sleeps (pg_sleep) in the middle of its result. */
const untilSleeping = async (pid: number) => {
  for (;;) {
    const [row] = await admin`select wait_event from pg_stat_activity where pid = ${pid}`;
    if (row?.wait_event === 'PgSleep') return;
  }
};
/** A result is its own: exactly these rows, no holes. */
const values = (rows: readonly unknown[]) => Array.from(rows, (r) => (r as { v?: number })?.v);
/** 'settled', or 'still waiting' after ms: a hang fails the test instead of timing it out. */
const settles = (promise: Promise<unknown>, ms = 2000) =>
  Promise.race([
    promise.then(
      () => 'settled',
      () => 'settled',
    ),
    new Promise((resolve) => setTimeout(resolve, ms, 'still waiting')),
  ]);

describe.skipIf(engine === 'pglite')('postgres.js connection state after a failed query', () => {
  beforeAll(async () => {
    testDatabase = await createTestDatabase();
    admin = postgres(TEST_DATABASE_URL!, { max: 1, onnotice: () => {} });
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.end({ timeout: 1 })));
    await admin?.end();
    await testDatabase?.drop();
  });

  it('a query that fails after some rows leaves the next queries on its connection their own rows', async () => {
    const c = client();
    // Pipelined on the one connection: the second is sent before the first fails on its row 3.
    const failing = failure(c`select 10 / (3 - x) as v from generate_series(1, 5) x`);
    const pipelined = c`select x as v from generate_series(1, 3) x`;
    expect((await failing).code).toBe('22012');
    expect(values(await pipelined)).toEqual([1, 2, 3]);
    const after = await c`select 42 as v`;
    expect(values(after)).toEqual([42]);
    expect(after.count).toBe(1);
  });

  it('a connection killed mid-rows: the next queries run on a new connection with their own rows, and end() returns', async () => {
    const c = client();
    const pid = await backendPid(c);
    // Rows 1-3 are produced, then row 4 sleeps: the kill's FATAL follows three DataRows.
    const streaming = failure(
      c`select x as v, pg_sleep(case when x = 4 then 30 else 0 end)::text as s
        from generate_series(1, 5) x`,
    );
    await untilSleeping(pid);
    await admin`select pg_terminate_backend(${pid})`;
    expect(['57P01', 'CONNECTION_CLOSED']).toContain((await streaming).code);

    // Without the patch: the dead connection's 57P01, then [ , , , {v: 2}].
    expect(values(await c`select 1 as v`)).toEqual([1]);
    expect(values(await c`select 2 as v`)).toEqual([2]);
    expect(await backendPid(c)).not.toBe(pid);

    expect(await settles(c.end())).toBe('settled');
  });

  it('a connection reset: queries sent to it between its error and its close are answered, not left waiting', async () => {
    const target = new URL(testDatabase.url!);
    const proxy: TcpProxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    try {
      const through = new URL(testDatabase.url!);
      through.port = String(proxy.port);
      const c = client(through.toString());
      const pid = await backendPid(c);
      // A caller that retries at once: its query goes to the same connection, which has had
      // its 'error' (ECONNRESET) but not yet its 'close'.
      let retried: Promise<unknown> | undefined;
      const sleeping = failure(c`select pg_sleep(30)`).then((err) => {
        retried = c`select 3 as v`;
        return err;
      });
      await untilSleeping(pid);
      proxy.reset();
      expect((await sleeping).code).toBe('ECONNRESET');
      // Without the patch it stays queued on the dead connection, then waits on the new one.
      expect(await settles(retried!)).toBe('settled');
      expect(values(await c`select 4 as v`)).toEqual([4]);
      await admin`select pg_terminate_backend(${pid})`;
    } finally {
      await proxy.close();
    }
  });

  it('a query cancelled while its connection opens (the pool deadline) leaves the connection to the pool', async () => {
    const target = new URL(testDatabase.url!);
    const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432), {
      connectDelayMs: 400,
    });
    const through = new URL(testDatabase.url!);
    through.port = String(proxy.port);
    const pool = withPoolDeadline(client(through.toString()), 150);
    try {
      // Its connection takes 400 ms to open: the deadline cancels it first.
      expect((await failure(pool.sql.unsafe('select 1 as v'))).code).toBe('57014');
      // Then that connection opens; without the patch no query ever gets it (each one 57014).
      const until = performance.now() + 3000;
      let answer: unknown;
      while (answer === undefined && performance.now() < until) {
        answer = await pool.sql.unsafe('select 2 as v').then(values, () => undefined);
      }
      expect(answer).toEqual([2]);
    } finally {
      pool.stop();
      await proxy.close();
    }
  });

  it('through the portal client: every query answered while its connections are killed gets its own rows', async () => {
    // Two connections for eight workers: queries are pipelined, prepared, and killed mid-rows.
    const database: Database = await openDatabase({
      databaseUrl: testDatabase.url!,
      pgliteDir: '',
      poolMax: 2,
    });
    const dbName = new URL(testDatabase.url!).pathname.slice(1);
    const wrong: string[] = [];
    let answered = 0;
    let unavailable = 0;
    let kills = 0;
    let running = true;
    let load: unknown;
    try {
      const worker = async (w: number) => {
        for (let i = 0; running; i++) {
          const first = w * 1_000_000 + i * 100;
          const last = (i % 7) + 1; // 2 to 8 rows; the middle one sleeps a moment
          const rows = database.db.execute(sql`
            select (${first}::int + x) as v,
              pg_sleep(case when x = ${Math.ceil(last / 2)}::int then 0.002 else 0 end)::text as s
            from generate_series(0, ${last}::int) x`);
          try {
            // postgres.js answers execute() with its row list (the holes, if any, included).
            const got = values((await rows) as unknown as readonly unknown[]);
            const expected = Array.from({ length: last + 1 }, (_, x) => first + x);
            if (JSON.stringify(got) !== JSON.stringify(expected)) {
              wrong.push(`${JSON.stringify(expected)} answered ${JSON.stringify(got)}`);
            }
            answered++;
          } catch (err) {
            if (!asServiceUnavailable(err)) wrong.push(`unexpected error ${String(err)}`);
            unavailable++;
          }
        }
      };
      const killer = async () => {
        const until = performance.now() + 1500;
        while (performance.now() < until) {
          await new Promise((resolve) => setTimeout(resolve, 15));
          await admin`
            select pg_terminate_backend(pid) from pg_stat_activity
            where datname = ${dbName} and backend_type = 'client backend'
              and pid <> pg_backend_pid() and wait_event = 'PgSleep'`;
          kills++;
        }
        running = false;
      };
      const all = Promise.all([killer(), ...Array.from({ length: 8 }, (_, w) => worker(w))]);
      load = await settles(all, 5000);
    } finally {
      await database.close();
    }
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(load).toBe('settled');
    expect(kills).toBeGreaterThan(10);
    expect(unavailable).toBeGreaterThan(5);
    expect(answered).toBeGreaterThan(20);
  });
});
