import type { Clock } from '../../lib/clock.ts';

interface Bucket {
  tokens: number;
  at: number;
}

/** Sources tracked at most; the least recently charged one goes first. */
const MAX_SOURCES = 50_000;

/**
 * A token bucket per source for database lookups that found no usable key: `burst` at once, then
 * `perSecond`. A lookup takes its token before it runs (so however many arrive at once, at most
 * `burst` reach the database) and gets it back when the key turns out usable: only misses spend
 * in the end, so a known key is never slowed. A full bucket is the same as no bucket and is
 * dropped, so memory holds only the sources that are spending (at most MAX_SOURCES).
 */
export class UnknownKeyLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly clock: Clock,
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly maxSources = MAX_SOURCES,
  ) {}

  /** Takes a token for one lookup: 0 when taken, else the seconds until the source may. */
  take(source: string): number {
    if (this.perSecond <= 0) return 0;
    const existing = this.buckets.get(source);
    const tokens = existing ? this.refilled(existing) : this.burst;
    if (tokens < 1) return Math.ceil((1 - tokens) / this.perSecond);
    this.store(source, tokens - 1);
    return 0;
  }

  /** The lookup found a usable key: its token goes back. */
  refund(source: string): void {
    if (this.perSecond <= 0) return;
    const existing = this.buckets.get(source);
    if (!existing) return;
    const tokens = this.refilled(existing) + 1;
    if (tokens >= this.burst) this.buckets.delete(source);
    else this.store(source, tokens);
  }

  private store(source: string, tokens: number): void {
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
