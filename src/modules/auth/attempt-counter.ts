import { createHash } from 'node:crypto';
import { and, desc, eq, gt, inArray, lte, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { asServiceUnavailable } from '../../db/errors.ts';
import { loginFailures } from '../../db/schema.ts';
import type { Clock } from '../../lib/clock.ts';

/**
 * When a key may try again, from the other attempts of the key inside the window (newest
 * first, at most `fetch` of them): a time in ms, or 0 when it may try now.
 */
export interface AttemptRule {
  windowMs: number;
  /** How many of the newest other attempts `freeAt` needs to see. */
  fetch: number;
  freeAt(others: readonly Date[]): number;
}

/** At most `max` attempts in any `windowMs`: the oldest of the last `max` frees a place. */
export function slidingWindow(max: number, windowMs: number): AttemptRule {
  return {
    windowMs,
    fetch: max,
    freeAt: (others) => (others.length < max ? 0 : others[max - 1]!.getTime() + windowMs),
  };
}

/**
 * `free` attempts in the window, then each next one waits after the newest: `baseMs`, doubled
 * per attempt, never more than `capMs`. Old attempts leave the window, so the wait ends.
 */
export function cappedBackoff(
  free: number,
  windowMs: number,
  baseMs: number,
  capMs: number,
): AttemptRule {
  const steps = Math.ceil(Math.log2(capMs / baseMs)) + 1;
  return {
    windowMs,
    fetch: free + steps,
    freeAt: (others) => {
      if (others.length < free) return 0;
      const wait = Math.min(capMs, baseMs * 2 ** (others.length - free));
      return others[0]!.getTime() + wait;
    },
  };
}

/** Rows are kept this long at most; every rule's window must fit in it. */
export const ATTEMPT_RETENTION_MS = 60 * 60_000;

/** Expired rows of every key are pruned by one written attempt in this many. */
export const PRUNE_EVERY = 100;

/** Keys are only ever compared: the email or address in them is not stored. */
export const hashKey = (key: string) => createHash('sha256').update(key).digest('base64url');

export type Taken = { ok: true; id: number } | { ok: false; retryAfterSeconds: number };

/**
 * Attempts per key, counted in the database before the work they guard, so every instance and
 * every concurrent request shares one count. `take` counts and writes under an advisory lock on
 * the key, in one statement (count_credential_attempt), so concurrent attempts are seen one
 * after another: of N at once, exactly as many pass as the rule allows. A refused attempt is
 * taken back at once, so hammering a refused key does not push its freedom further away.
 * Time comes from the clock.
 */
export class AttemptCounter {
  private writes = 0;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  async take(key: string, rule: AttemptRule): Promise<Taken> {
    if (rule.windowMs > ATTEMPT_RETENTION_MS) throw new Error('window longer than retention');
    const now = this.clock.now();
    const keyHash = hashKey(key);
    const refusal = (others: { at: Date }[]): Taken | null => {
      const freeAt = rule.freeAt(others.map((r) => r.at));
      if (freeAt <= now.getTime()) return null;
      return {
        ok: false,
        retryAfterSeconds: Math.max(1, Math.ceil((freeAt - now.getTime()) / 1000)),
      };
    };
    // A key already over its limit is refused without queueing for the lock (a flood of
    // guesses holds no connections); only attempts that may pass go through it.
    const early = refusal(await this.recent(keyHash, rule, now));
    if (early) return early;
    // Expired attempts of every key go with one written attempt in PRUNE_EVERY (the first
    // included): a flood of distinct emails cannot grow the table much beyond one retention's
    // worth, and an attempt costs no table-wide delete.
    if (this.writes++ % PRUNE_EVERY === 0) {
      await this.db
        .delete(loginFailures)
        .where(lte(loginFailures.failedAt, new Date(now.getTime() - ATTEMPT_RETENTION_MS)));
    }
    // One statement: the key's lock, its newest attempts, and this one written (see the
    // migration of count_credential_attempt). Refused, the attempt is taken back at once.
    const since = new Date(now.getTime() - rule.windowMs);
    const result = await this.db.execute(
      sql`select attempt_id::text as id, others_ms from count_credential_attempt(${keyHash}, ${now.toISOString()}::timestamptz, ${since.toISOString()}::timestamptz, ${rule.fetch}::int)`,
    );
    const [row] = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as {
      id: string;
      others_ms: string;
    }[];
    const id = Number(row!.id);
    const others = row!.others_ms
      ? row!.others_ms.split(',').map((ms) => new Date(Number(ms)))
      : [];
    const refused = refusal(others.map((at) => ({ at })));
    if (!refused) return { ok: true, id };
    await this.release(id);
    return refused;
  }

  /** The newest attempts of a key inside the rule's window, newest first. */
  private recent(keyHash: string, rule: AttemptRule, now: Date) {
    return this.db
      .select({ at: loginFailures.failedAt })
      .from(loginFailures)
      .where(
        and(
          eq(loginFailures.keyHash, keyHash),
          gt(loginFailures.failedAt, new Date(now.getTime() - rule.windowMs)),
        ),
      )
      .orderBy(desc(loginFailures.failedAt), desc(loginFailures.id))
      .limit(rule.fetch);
  }

  /**
   * Runs the work attempts were counted for. When it cannot be done now (no capacity for scrypt,
   * or a database lost, overloaded or too slow: asServiceUnavailable), the password was not
   * checked, so the attempts are taken back before the error goes on. The one place that
   * decides this for signup, login and password changes.
   */
  async whileCounted<T>(ids: readonly number[], work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      // If the database itself is out, the release fails too and the attempts stay counted
      // (erring towards the limit); the caller still gets the original error.
      if (asServiceUnavailable(err)) await this.release(...ids).catch(() => {});
      throw err;
    }
  }

  /** Forgets attempts that were never evaluated (refused by another limit, or no capacity). */
  async release(...ids: number[]): Promise<void> {
    if (ids.length > 0) await this.db.delete(loginFailures).where(inArray(loginFailures.id, ids));
  }

  /** Forgets every attempt of a key (a successful login clears its failures). */
  async clear(key: string): Promise<void> {
    await this.db.delete(loginFailures).where(eq(loginFailures.keyHash, hashKey(key)));
  }
}
