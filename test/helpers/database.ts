import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { type Database, type DatabaseDeadlines, openDatabase } from '../../src/db/client.ts';

/** The engine under test: real PostgreSQL when TEST_DATABASE_URL is set, else in-memory PGlite. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || undefined;
export const engine = TEST_DATABASE_URL ? 'postgres' : 'pglite';

export interface TestDatabase {
  /** Connection URL of this file's own database (PostgreSQL only). */
  url: string | undefined;
  open(): Promise<Database>;
  drop(): Promise<void>;
}

/** One fresh database per test file, so files never share state. */
export async function createTestDatabase(): Promise<TestDatabase> {
  if (!TEST_DATABASE_URL) {
    return {
      url: undefined,
      open: () => openDatabase({ pgliteDir: 'memory://', poolMax: 1 }),
      drop: async () => {},
    };
  }
  const name = `portal_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    open: () => openDatabase({ databaseUrl: url.toString(), pgliteDir: '', poolMax: 10 }),
    async drop() {
      const sql = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
      await sql.unsafe(`drop database if exists ${name} with (force)`);
      await sql.end();
    },
  };
}

/** A PostgreSQL test database opened with its own pool size and deadlines (short, to test them). */
export async function createTestDatabaseWithDeadlines(
  poolMax: number,
  deadlines: Partial<DatabaseDeadlines>,
): Promise<TestDatabase & { url: string }> {
  const testDatabase = await createTestDatabase();
  const url = testDatabase.url!;
  return {
    ...testDatabase,
    url,
    open: () => openDatabase({ databaseUrl: url, pgliteDir: '', poolMax, deadlines }),
  };
}
