import { inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anyOf } from '../src/db/any-of.ts';
import type { Database } from '../src/db/client.ts';
import { organisations } from '../src/db/schema.ts';
import { createTestDatabase, type TestDatabase } from './helpers/database.ts';

/**
 * The live feed's batched reads (every subscriber's session, user, organisation, tenant) bind
 * one array however many subscribers there are; one parameter per value stops at 65,535.
 */
let testDatabase: TestDatabase;
let database: Database;

beforeAll(async () => {
  testDatabase = await createTestDatabase();
  database = await testDatabase.open();
  await database.db.insert(organisations).values([
    { id: 'org_any_a', name: 'A' },
    { id: 'org_any_b', name: 'B' },
    { id: 'org_any_c', name: 'C\'s, "quoted" {braces}' },
  ]);
});

afterAll(async () => {
  await database.close().catch(() => {});
  await testDatabase.drop();
});

const namesWhere = async (where: ReturnType<typeof anyOf>) =>
  (await database.db.select({ name: organisations.name }).from(organisations).where(where))
    .map((r) => r.name)
    .sort();

describe('anyOf', () => {
  it('finds the rows of 70,000 ids in one parameter, where one per id cannot be sent', async () => {
    const ids = Array.from({ length: 70_000 }, (_, i) => `org_missing_${i}`);
    ids[12_345] = 'org_any_a';
    ids[69_999] = 'org_any_c';
    expect(await namesWhere(anyOf(organisations.id, ids))).toEqual(['A', `C's, "quoted" {braces}`]);
    await expect(
      database.db.select().from(organisations).where(inArray(organisations.id, ids)),
    ).rejects.toThrow();
  });

  it('matches nothing for no ids, and takes ids that look like array syntax as plain text', async () => {
    expect(await namesWhere(anyOf(organisations.id, []))).toEqual([]);
    expect(
      await namesWhere(anyOf(organisations.id, ['{org_any_a,org_any_b}', 'org_any_b'])),
    ).toEqual(['B']);
  });
});
