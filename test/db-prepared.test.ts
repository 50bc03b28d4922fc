import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preparing } from '../src/db/client.ts';
import { createTestDatabase, TEST_DATABASE_URL, type TestDatabase } from './helpers/database.ts';

// Prepared statements are a postgres.js matter: PGlite has nothing to check.
describe.skipIf(!TEST_DATABASE_URL)('prepared statements (postgres.js)', () => {
  let database: TestDatabase;
  let sql: postgres.Sql;
  beforeAll(async () => {
    database = await createTestDatabase();
    // One connection, so every statement below shares one server session.
    sql = postgres(database.url!, { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    await sql?.end();
    await database?.drop();
  });

  const named = async () =>
    (await sql`select statement from pg_prepared_statements`)
      .map((r) => r.statement as string)
      .filter((statement) => statement.includes('marker'))
      .sort();

  it('prepares the first texts it sees, up to the bound, and runs later ones unnamed', async () => {
    const client = preparing(sql, 2);
    for (let round = 0; round < 2; round++) {
      for (const n of [1, 2, 3]) {
        // drizzle asks for unnamed statements; the wrapper decides.
        const rows = await client.unsafe(`select $1::int + ${n} as v /* marker ${n} */`, [round], {
          prepare: false,
        });
        expect(rows[0]!.v).toBe(round + n);
      }
    }
    expect(await named()).toEqual([
      'select $1::int + 1 as v /* marker 1 */',
      'select $1::int + 2 as v /* marker 2 */',
    ]);
  });

  it('leaves everything else of the client as it was', async () => {
    const client = preparing(sql, 2);
    expect(client.options).toBe(sql.options);
    const [row] = await client.begin((tx) => tx`select 1 as one`);
    expect(row!.one).toBe(1);
  });
});
