import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { loginFailures } from '../src/db/schema.ts';
import { ManualClock } from '../src/lib/clock.ts';
import {
  ATTEMPT_RETENTION_MS,
  AttemptCounter,
  hashKey,
  PRUNE_EVERY,
  slidingWindow,
} from '../src/modules/auth/attempt-counter.ts';
import { useTestServer } from './helpers/app.ts';
import { outcome, restLogin } from './helpers/auth-abuse.ts';
import { uniqueEmail } from './helpers/factories.ts';

/**
 * Counting an attempt costs no table-wide delete: expired attempts of every key are pruned by
 * one written attempt in PRUNE_EVERY (the first included), so the table still holds about one
 * retention's worth.
 */
const clock = new ManualClock(new Date('2026-06-18T10:00:00Z'));
const server = useTestServer({ env: { USAGE_SYNC_INTERVAL_S: '3600' }, overrides: { clock } });
const rule = slidingWindow(5, 60_000);
const isPrune = (statement: string) =>
  /^delete from "login_failures" where "login_failures"."failed_at" <=/.test(statement);

async function recording<T>(fn: () => Promise<T>) {
  const statements: string[] = [];
  const stop = server().database.onQuery((statement) => statements.push(statement));
  try {
    return { result: await fn(), statements };
  } finally {
    stop();
  }
}

const stored = async (key: string) =>
  (
    await server()
      .database.db.select({ id: loginFailures.id })
      .from(loginFailures)
      .where(eq(loginFailures.keyHash, hashKey(key)))
  ).length;

describe('pruning expired attempts', () => {
  it('prunes once in PRUNE_EVERY written attempts, and the prune removes expired rows of any key', async () => {
    const db = server().database.db;
    await new AttemptCounter(db, clock).take('prune\nold', rule);
    expect(await stored('prune\nold')).toBe(1);
    clock.advance(ATTEMPT_RETENTION_MS + 60_000);

    const counter = new AttemptCounter(db, clock);
    const { statements } = await recording(async () => {
      for (let i = 0; i < 2 * PRUNE_EVERY + 1; i++) {
        expect((await counter.take(`prune\nkey-${i}`, rule)).ok).toBe(true);
      }
    });
    // Attempts 1, PRUNE_EVERY + 1 and 2 * PRUNE_EVERY + 1.
    expect(statements.filter(isPrune)).toHaveLength(3);
    expect(await stored('prune\nold')).toBe(0);
    expect(await stored('prune\nkey-0')).toBe(1);
  });

  it('a wrong password from a new address: the counts, the known-address read and the user read, no more', async () => {
    // The first login of this app's limiter prunes; the one measured does not.
    expect(outcome(await restLogin(server().url, uniqueEmail('first'), 'wrong'))).toBe('invalid');
    const { result, statements } = await recording(() =>
      restLogin(server().url, uniqueEmail('counted'), 'wrong'),
    );
    expect(outcome(result)).toBe('invalid');
    const auth = statements.filter((s) =>
      /"(login_failures|login_sources|users)"|count_credential_attempt/.test(s),
    );
    // Per count: the key's recent attempts, then count_credential_attempt; plus isKnown and the user.
    expect(auth).toHaveLength(6);
    expect(auth.filter((s) => s.startsWith('delete'))).toEqual([]);
  });
});
