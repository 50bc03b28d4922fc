import type { Db } from '../../db/client.ts';
import type { Clock } from '../../lib/clock.ts';
import { RateLimitedError } from '../../lib/errors.ts';
import { AttemptCounter, cappedBackoff, slidingWindow } from './attempt-counter.ts';
import { LoginSources } from './login-sources.ts';

/**
 * Per email and client address: 10 attempts in 5 minutes (a success clears them).
 * Per account, from addresses that have not logged in to it in the last 30 days: 20 failures
 * in an hour, then each next attempt waits 15 s after the newest, doubling to at most 5 min.
 */
export const LOGIN_LIMITS = {
  pair: slidingWindow(10, 5 * 60_000),
  account: cappedBackoff(20, 60 * 60_000, 15_000, 5 * 60_000),
};

const pairKey = (email: string, subject: string) => `login\n${email}\n${subject}`;
const accountKey = (email: string) => `account\n${email}`;

/** A counted login attempt: settle it once the password has been checked (or could not be). */
export interface LoginAttempt {
  succeeded(): Promise<void>;
  /**
   * Runs the password check; if it cannot be done now (no capacity, database unavailable),
   * the attempt does not count (AttemptCounter.whileCounted).
   */
  check<T>(work: () => Promise<T>): Promise<T>;
}

/**
 * Login limits, counted before the password is checked (see AttemptCounter), shared by every
 * door and instance. The per-account limit bounds guessing spread over many addresses, and
 * never applies to an address the account logged in from recently, so guessing cannot keep the
 * real user out there; from a new address the wait is at most 5 minutes per attempt, for as
 * long as the guessing goes on.
 */
export class LoginLimiter {
  private readonly counter: AttemptCounter;
  private readonly sources: LoginSources;

  constructor(db: Db, clock: Clock) {
    this.counter = new AttemptCounter(db, clock);
    this.sources = new LoginSources(db, clock);
  }

  /** Counts the attempt, or throws RateLimitedError without counting it. */
  async begin(email: string, subject: string): Promise<LoginAttempt> {
    const pair = await this.counter.take(pairKey(email, subject), LOGIN_LIMITS.pair);
    if (!pair.ok) throw new RateLimitedError(pair.retryAfterSeconds);
    const ids = [pair.id];
    // A failure between the two counts (the database lost) takes the pair's attempt back too.
    await this.counter.whileCounted(ids, async () => {
      if (await this.sources.isKnown(email, subject)) return;
      const account = await this.counter.take(accountKey(email), LOGIN_LIMITS.account);
      if (!account.ok) {
        await this.counter.release(pair.id);
        throw new RateLimitedError(
          account.retryAfterSeconds,
          `Too many failed logins for this account; try again in ${account.retryAfterSeconds} s`,
        );
      }
      ids.push(account.id);
    });
    return {
      succeeded: async () => {
        // The account's other failures stay: a success from one address does not hand an
        // attacker elsewhere a fresh allowance.
        await this.counter.release(...ids.slice(1));
        await this.counter.clear(pairKey(email, subject));
        await this.sources.remember(email, subject);
      },
      check: (work) => this.counter.whileCounted(ids, work),
    };
  }

  /** A signup is a successful login from its address. */
  rememberSource(email: string, subject: string): Promise<void> {
    return this.sources.remember(email, subject);
  }
}
