import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, type Db, pgliteStatement, postgresStatement } from '../src/db/client.ts';
import { relations } from '../src/db/relations.ts';
import { PACKAGE_ROOT } from '../src/lib/package-root.ts';
import { createKeyLookup } from '../src/modules/verify/key-lookup.ts';
import { createTestDatabase, type TestDatabase } from './helpers/database.ts';

const MIGRATIONS = join(PACKAGE_ROOT, 'drizzle');
const SECRETS_MIGRATION = readdirSync(MIGRATIONS).find((d) => d.endsWith('_api_key_secrets'));
const hash = (c: string) => c.repeat(64);
const GRACE_END = new Date('2030-01-01T00:00:00Z');
const GRACE_PAST = new Date('2020-01-01T00:00:00Z');

/**
 * Keys written before api_key_secrets existed (hash and previous_hash on api_keys) verify after
 * the migration exactly as before: the data step moved every current and previous secret.
 */
describe('api_key_secrets migration', () => {
  let before: string;
  let db: Db;
  let statement: Database['statement'];
  let close: () => Promise<void>;
  let database: TestDatabase | undefined;

  beforeAll(async () => {
    // The migrations up to the one before api_key_secrets, then keys written the old way.
    before = mkdtempSync(join(tmpdir(), 'portal-migrations-'));
    cpSync(MIGRATIONS, before, { recursive: true });
    // This migration and any sequenced after it (folder names start with their timestamp).
    for (const folder of readdirSync(before).filter((d) => d >= SECRETS_MIGRATION!)) {
      rmSync(join(before, folder), { recursive: true });
    }
    let migrate: (folder: string) => Promise<unknown>;
    if (process.env.TEST_DATABASE_URL) {
      database = await createTestDatabase();
      const client = postgres(database.url!, { max: 1, onnotice: () => {} });
      const pg = drizzlePostgres({ client, relations });
      migrate = (folder) => migratePostgres(pg, { migrationsFolder: folder });
      db = pg as unknown as Db;
      statement = postgresStatement(client);
      close = () => client.end();
    } else {
      const client = await PGlite.create('memory://');
      const lite = drizzlePglite({ client, relations });
      migrate = (folder) => migratePglite(lite, { migrationsFolder: folder });
      db = lite as unknown as Db;
      statement = pgliteStatement(client);
      close = () => client.close();
    }
    await migrate(before);
    await db.execute(sql`insert into organisations (id, name) values ('org_m', 'M')`);
    await db.execute(sql`
      insert into tenants (id, organisation_id, display_name, environment, region, cell, status)
        values ('xs_m_active', 'org_m', 'A', 'prod', 'eu', 'c1', 'active'),
               ('xs_m_suspended', 'org_m', 'S', 'prod', 'eu', 'c1', 'suspended')`);
    await db.execute(sql`
      insert into api_keys (id, tenant_id, display_name, prefix, hash, scopes,
                            previous_prefix, previous_hash, previous_expires_at, revoked_at)
        values ('key_plain', 'xs_m_active', 'p', 'xag_aaaa', ${hash('a')}, '{metrics:write}',
                null, null, null, null),
               ('key_rolled', 'xs_m_active', 'r', 'xag_bbbb', ${hash('b')}, '{logs:write}',
                'xag_cccc', ${hash('c')}, ${GRACE_END.toISOString()}, null),
               ('key_grace_over', 'xs_m_active', 'g', 'xag_dddd', ${hash('d')}, '{metrics:write}',
                'xag_eeee', ${hash('e')}, ${GRACE_PAST.toISOString()}, null),
               ('key_revoked', 'xs_m_active', 'v', 'xag_ffff', ${hash('f')}, '{metrics:write}',
                null, null, null, now()),
               ('key_suspended', 'xs_m_suspended', 's', 'xag_9999', ${hash('9')}, '{metrics:write}',
                null, null, null, null)`);
    await migrate(MIGRATIONS);
  });

  afterAll(async () => {
    await close?.();
    await database?.drop();
    if (before) rmSync(before, { recursive: true, force: true });
  });

  it('moves every current and previous secret, with the grace expiry of the previous one', async () => {
    const all = rowsOf(
      await db.execute(
        sql`select hash, key_id, grace_expires_at from api_key_secrets order by hash`,
      ),
    ).map((r) => [
      r.hash,
      r.key_id,
      r.grace_expires_at === null ? null : new Date(r.grace_expires_at as string).toISOString(),
    ]);
    expect(all).toEqual([
      [hash('9'), 'key_suspended', null],
      [hash('a'), 'key_plain', null],
      [hash('b'), 'key_rolled', null],
      [hash('c'), 'key_rolled', GRACE_END.toISOString()],
      [hash('d'), 'key_grace_over', null],
      [hash('e'), 'key_grace_over', GRACE_PAST.toISOString()],
      [hash('f'), 'key_revoked', null],
    ]);
  });

  it('verifies the migrated keys as the old lookup did', async () => {
    const lookup = createKeyLookup(db, statement);
    expect(await lookup(hash('a'))).toEqual({
      grant: {
        keyId: 'key_plain',
        tenantId: 'xs_m_active',
        scopes: ['metrics:write'],
        validUntil: undefined,
      },
      tenantId: 'xs_m_active',
    });
    // The rolled key: its new secret without end, its previous one until the grace ends.
    expect((await lookup(hash('b'))).grant?.validUntil).toBeUndefined();
    expect(await lookup(hash('c'))).toMatchObject({
      grant: { keyId: 'key_rolled', scopes: ['logs:write'], validUntil: GRACE_END.getTime() },
    });
    expect((await lookup(hash('e'))).grant?.validUntil).toBe(GRACE_PAST.getTime());
    expect(await lookup(hash('f'))).toEqual({
      grant: null,
      tenantId: 'xs_m_active',
      refusal: 'revoked',
    });
    expect(await lookup(hash('9'))).toEqual({
      grant: null,
      tenantId: 'xs_m_suspended',
      refusal: 'suspended',
    });
    expect(await lookup(hash('0'))).toEqual({ grant: null, tenantId: undefined });
  });
});

/** Rows of db.execute on either driver (PGlite wraps them in `rows`, postgres.js does not). */
function rowsOf(result: unknown): Record<string, unknown>[] {
  return ((result as { rows?: unknown }).rows ?? result) as Record<string, unknown>[];
}
