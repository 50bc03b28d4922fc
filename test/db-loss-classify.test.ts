import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/client.ts';
import { asServiceUnavailable, describeError } from '../src/db/errors.ts';
import { createTestDatabase, engine, type TestDatabase } from './helpers/database.ts';

/**
 * The one place that sorts database errors, fed the errors the drivers really throw: those that
 * mean "not now" become ServiceUnavailableError, statement mistakes do not; and no description
 * of any of them quotes a parameter.
 */
let testDatabase: TestDatabase;
let database: Database;

beforeAll(async () => {
  testDatabase = await createTestDatabase();
  database = await testDatabase.open();
});

afterAll(async () => {
  await database.close().catch(() => {});
  await testDatabase.drop();
});

const failure = async (run: () => Promise<unknown>) => {
  try {
    await run();
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
};

describe('statement mistakes are not "unavailable"', () => {
  it('a unique violation, an unknown table and bad input stay unexpected, described without parameters', async () => {
    const secret = `secret-${randomBytes(6).toString('hex')}`;
    const badInput = await failure(() => database.db.execute(sql`select ${secret}::int`));
    expect(asServiceUnavailable(badInput)).toBeUndefined();
    const described = JSON.stringify(describeError(badInput));
    expect(described).toContain('22P02');
    expect(described).toContain('invalid input syntax for type integer');
    expect(described).not.toContain(secret);
    expect(String(badInput)).toContain(secret); // drizzle's own message would have leaked it

    const unknown = await failure(() => database.db.execute(sql`select * from no_such_table`));
    expect(asServiceUnavailable(unknown)).toBeUndefined();
    expect(describeError(unknown)).toMatchObject({ code: '42P01' });

    await database.db.execute(sql`create table classify_unique (v text primary key)`);
    await database.db.execute(sql`insert into classify_unique values (${secret})`);
    const duplicate = await failure(() =>
      database.db.execute(sql`insert into classify_unique values (${secret})`),
    );
    expect(asServiceUnavailable(duplicate)).toBeUndefined();
    expect(describeError(duplicate)).toMatchObject({ code: '23505' });
    expect(JSON.stringify(describeError(duplicate))).not.toContain(secret);
  });
});

describe.skipIf(engine === 'pglite')('PostgreSQL errors that mean "not now"', () => {
  it('statement timeout, too many connections, admin shutdown and a refused connection', async () => {
    const url = testDatabase.url!;
    const timeout = await failure(() =>
      database.db.transaction(async (tx) => {
        await tx.execute(sql`set local statement_timeout = 50`);
        await tx.execute(sql`select pg_sleep(1)`);
      }),
    );
    expect(describeError(timeout)).toMatchObject({ code: '57014' });
    expect(asServiceUnavailable(timeout)?.retryAfterSeconds).toBe(1);

    const role = `classify_${randomBytes(4).toString('hex')}`;
    const admin = postgres(url, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create role ${role} login connection limit 0`);
    try {
      const limited = new URL(url);
      limited.username = role;
      const client = postgres(limited.toString(), { max: 1, onnotice: () => {} });
      const tooMany = await failure(() => client`select 1`);
      await client.end();
      expect((tooMany as { code?: string }).code).toBe('53300');
      expect(asServiceUnavailable(tooMany)).toBeDefined();
    } finally {
      await admin.unsafe(`drop role ${role}`);
    }

    const victim = postgres(url, { max: 1, onnotice: () => {} });
    const [backend] = await victim`select pg_backend_pid() as pid`;
    const pid = backend!.pid as number;
    const running = failure(() => victim`select pg_sleep(5)`);
    for (;;) {
      const [row] = await admin`select state from pg_stat_activity where pid = ${pid}`;
      if (row?.state === 'active') break;
    }
    await admin`select pg_terminate_backend(${pid})`;
    const terminated = await running;
    // The server's 57P01 message, or the socket closing first: both are "not now".
    expect(['57P01', 'CONNECTION_CLOSED']).toContain((terminated as { code?: string }).code);
    expect(asServiceUnavailable(terminated)).toBeDefined();
    await victim.end(); // returned never on 3.4.9 unpatched (the killed query stayed current)
    await admin.end();

    const refused = postgres('postgres://postgres@127.0.0.1:1/postgres', {
      max: 1,
      onnotice: () => {},
    });
    const noServer = await failure(() => refused`select 1`);
    await refused.end();
    expect(asServiceUnavailable(noServer)).toBeDefined();
  });
});

// Last: it closes this file's database.
describe('a closed database', () => {
  it('is unavailable (PGlite closed, or postgres.js ended)', async () => {
    await database.close();
    const closed = await failure(() => database.db.execute(sql`select 1`));
    expect(asServiceUnavailable(closed)?.message).toBe(
      'The database is temporarily unavailable; retry shortly',
    );
  });
});
