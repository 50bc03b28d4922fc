import type { Clock } from '../../lib/clock.ts';

/** What verification needs to know about a key secret; null = no such usable key. */
export interface KeyGrant {
  keyId: string;
  tenantId: string;
  scopes: readonly string[];
  /** The instant this secret stops working (key expiry, or end of a roll's grace), if any. */
  validUntil: number | undefined;
}

interface Entry {
  grant: KeyGrant | null;
  staleAt: number;
}

/**
 * Lookups keyed by the SHA-256 of the key (never the key). Bounded: the oldest entry goes when
 * full, so a flood of random keys cannot grow memory. Unknown keys are kept for less time.
 */
export class KeyCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs: number,
    private readonly negativeTtlMs: number,
    private readonly maxEntries: number,
  ) {}

  /** undefined = not cached (look it up); null = cached as unusable. */
  get(hash: string): KeyGrant | null | undefined {
    const entry = this.entries.get(hash);
    if (!entry) return undefined;
    if (entry.staleAt <= this.clock.now().getTime()) {
      this.entries.delete(hash);
      return undefined;
    }
    return entry.grant;
  }

  set(hash: string, grant: KeyGrant | null): void {
    const ttl = grant ? this.ttlMs : this.negativeTtlMs;
    if (ttl <= 0 || this.maxEntries <= 0) return;
    if (this.entries.size >= this.maxEntries && !this.entries.has(hash)) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(hash, { grant, staleAt: this.clock.now().getTime() + ttl });
  }

  delete(hash: string): void {
    this.entries.delete(hash);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
