import type { Clock } from '../../lib/clock.ts';

interface Bucket {
  tokens: number;
  at: number;
}

/** Sources tracked at most; the least recently charged one goes first. */
const MAX_SOURCES = 50_000;

/**
 * A token bucket per source for database lookups that found no usable key: `burst` at once, then
 * `perSecond`. Only such misses spend; a known key never does, so it is never slowed. The check
 * comes before the lookup and the charge after it, so concurrent misses can take a source below
 * zero: the debt is paid back in time, which keeps the long-run rate at `perSecond` whatever the
 * concurrency. A full bucket is the same as no bucket and is dropped, so memory holds only the
 * sources that are spending (at most MAX_SOURCES).
 */
export class UnknownKeyLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly clock: Clock,
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly maxSources = MAX_SOURCES,
  ) {}

  /** 0 when the source may look a key up now; else the seconds until it may. */
  retryAfterSeconds(source: string): number {
    if (this.perSecond <= 0) return 0;
    const bucket = this.buckets.get(source);
    if (!bucket) return 0;
    const tokens = this.refilled(bucket);
    if (tokens >= this.burst) {
      this.buckets.delete(source);
      return 0;
    }
    return tokens >= 1 ? 0 : Math.ceil((1 - tokens) / this.perSecond);
  }

  /** A lookup from this source found no usable key. */
  charge(source: string): void {
    if (this.perSecond <= 0) return;
    const existing = this.buckets.get(source);
    const tokens = (existing ? this.refilled(existing) : this.burst) - 1;
    this.buckets.delete(source);
    if (this.buckets.size >= this.maxSources) {
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
    this.buckets.set(source, { tokens, at: this.clock.now().getTime() });
  }

  get size(): number {
    return this.buckets.size;
  }

  private refilled(bucket: Bucket): number {
    const elapsedS = (this.clock.now().getTime() - bucket.at) / 1000;
    return Math.min(this.burst, bucket.tokens + elapsedS * this.perSecond);
  }
}
