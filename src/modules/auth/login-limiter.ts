import type { Clock } from '../../lib/clock.ts';

export interface LoginLimiterOptions {
  /** Failures allowed per key within the window before logins are refused. */
  maxFailures: number;
  windowMs: number;
  /** Bound on remembered keys, so a flood of distinct emails cannot grow memory without limit. */
  maxKeys: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimiterOptions = {
  maxFailures: 10,
  windowMs: 5 * 60_000,
  maxKeys: 100_000,
};

/**
 * Failed logins per key (email + client address) in a sliding window, in this process only:
 * each instance counts its own, which bounds guessing per instance. Time comes from the clock.
 */
export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly clock: Clock,
    private readonly options: LoginLimiterOptions = DEFAULT_LOGIN_LIMITS,
  ) {}

  /** Seconds until the key may try again, or 0 when it may try now. */
  retryAfterSeconds(key: string): number {
    const recent = this.recent(key);
    if (recent.length < this.options.maxFailures) return 0;
    const freeAt = recent[recent.length - this.options.maxFailures]! + this.options.windowMs;
    return Math.max(1, Math.ceil((freeAt - this.clock.now().getTime()) / 1000));
  }

  recordFailure(key: string): void {
    const recent = this.recent(key);
    recent.push(this.clock.now().getTime());
    // Re-inserting keeps the map in last-failure order, so the oldest key is evicted first.
    this.failures.delete(key);
    this.failures.set(key, recent.slice(-this.options.maxFailures));
    if (this.failures.size > this.options.maxKeys) {
      this.failures.delete(this.failures.keys().next().value!);
    }
  }

  reset(key: string): void {
    this.failures.delete(key);
  }

  private recent(key: string): number[] {
    const since = this.clock.now().getTime() - this.options.windowMs;
    const recent = (this.failures.get(key) ?? []).filter((at) => at > since);
    if (recent.length === 0) this.failures.delete(key);
    return recent;
  }
}
