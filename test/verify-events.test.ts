import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/client.ts';
import { EventBus } from '../src/lib/events.ts';
import { createLogger } from '../src/lib/logger.ts';
import { createTestDatabase, engine, type TestDatabase } from './helpers/database.ts';

// Two buses as two instances would have them: on PostgreSQL each with its own connections to one
// database; on PGlite (one process) sharing the embedded database.
describe('invalidation events sent in the transaction of the change', () => {
  let testDatabase: TestDatabase;
  let dbA: Database;
  let dbB: Database;
  let a: EventBus;
  let b: EventBus;
  const seenByA: string[] = [];
  const seenByB: string[] = [];
  let heardByB: (tenantId: string) => void = () => {};

  beforeAll(async () => {
    testDatabase = await createTestDatabase();
    dbA = await testDatabase.open();
    dbB = engine === 'postgres' ? await testDatabase.open() : dbA;
    const logger = createLogger('silent');
    a = new EventBus(dbA.notifier, logger, dbA.kind === 'postgres');
    b = new EventBus(dbB.notifier, logger, dbB.kind === 'postgres');
    await Promise.all([a.start(), b.start()]);
    a.subscribe('tenant.invalidated', ({ tenantId }) => seenByA.push(tenantId));
    b.subscribe('tenant.invalidated', ({ tenantId }) => {
      seenByB.push(tenantId);
      heardByB(tenantId);
    });
  });

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await dbA?.close();
    if (dbB !== dbA) await dbB?.close();
    await testDatabase?.drop();
  });

  it('reaches the others at commit, never for a rollback, and this instance after the commit', async () => {
    await expect(
      dbA.db.transaction(async (tx) => {
        await a.publishInTransaction(tx, 'tenant.invalidated', { tenantId: 'rolled-back' });
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');

    const heard = new Promise<string>((resolve) => {
      heardByB = resolve;
    });
    const afterCommit = await dbA.db.transaction(async (tx) => {
      const evict = await a.publishInTransaction(tx, 'tenant.invalidated', {
        tenantId: 'committed',
      });
      // Not yet: a lookup now would still read the old row.
      expect(seenByA).toEqual([]);
      return evict;
    });
    expect(seenByA).toEqual([]);
    await afterCommit();
    expect(seenByA).toEqual(['committed']);
    expect(await heard).toBe('committed');
    // Notifications arrive in commit order: had the rolled-back one been sent, B would have it.
    expect(seenByB).toEqual(['committed']);
  });

  it('refuses a payload over the NOTIFY limit before anything is delivered', async () => {
    const seen: unknown[] = [];
    const off = a.subscribe('key.invalidated', (payload) => seen.push(payload));
    try {
      const hashes = Array.from({ length: 200 }, () => 'a'.repeat(64));
      await expect(a.publish('key.invalidated', { keyId: 'key_x', hashes })).rejects.toThrow(
        /over the NOTIFY limit/,
      );
      expect(seen).toEqual([]);
    } finally {
      off();
    }
  });
});
