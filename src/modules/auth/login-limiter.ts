import { createHash } from 'node:crypto';
import { and, desc, eq, gt, lte } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { loginFailures } from '../../db/schema.ts';
import type { Clock } from '../../lib/clock.ts';

export interface LoginLimiterOptions {
  /** Failures allowed per key within the window before logins are refused. */
  maxFailures: number;
  windowMs: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimiterOptions = {
  maxFailures: 10,
  windowMs: 5 * 60_000,
};

/** Neither the email nor the address is stored: the key is only ever compared. */
const hashKey = (key: string) => createHash('sha256').update(key).digest('base64url');

/**
 * Failed logins per key (email + client address) in a sliding window, counted in the database:
 * every instance and every worker shares one limit, however requests are spread between them.
 * Time comes from the clock.
 */
export class LoginLimiter {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly options: LoginLimiterOptions = DEFAULT_LOGIN_LIMITS,
  ) {}

  /** Seconds until the key may try again, or 0 when it may try now. */
  async retryAfterSeconds(key: string): Promise<number> {
    const { maxFailures, windowMs } = this.options;
    const now = this.clock.now().getTime();
    const latest = await this.db
      .select({ failedAt: loginFailures.failedAt })
      .from(loginFailures)
      .where(
        and(
          eq(loginFailures.keyHash, hashKey(key)),
          gt(loginFailures.failedAt, new Date(now - windowMs)),
        ),
      )
      .orderBy(desc(loginFailures.failedAt))
      .limit(maxFailures);
    if (latest.length < maxFailures) return 0;
    // Free again when the oldest of the last maxFailures failures leaves the window.
    const freeAt = latest[maxFailures - 1]!.failedAt.getTime() + windowMs;
    return Math.max(1, Math.ceil((freeAt - now) / 1000));
  }

  async recordFailure(key: string): Promise<void> {
    const now = this.clock.now();
    // Expired failures of every key go with each new one: a flood of distinct emails cannot
    // grow the table beyond one window's worth.
    await this.db
      .delete(loginFailures)
      .where(lte(loginFailures.failedAt, new Date(now.getTime() - this.options.windowMs)));
    await this.db.insert(loginFailures).values({ keyHash: hashKey(key), failedAt: now });
  }

  async reset(key: string): Promise<void> {
    await this.db.delete(loginFailures).where(eq(loginFailures.keyHash, hashKey(key)));
  }
}
