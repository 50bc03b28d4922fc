import type { Clock } from '../../lib/clock.ts';

/** What verification needs to know about a key secret; null = no such usable key. */
export interface KeyGrant {
  keyId: string;
  tenantId: string;
  scopes: readonly string[];
  /** The instant this secret stops working (key expiry, or end of a roll's grace), if any. */
  validUntil: number | undefined;
}

/**
 * What the database said about a secret. `tenantId` is set when a row exists (a usable key, or
 * a revoked key or one of a tenant that is not active), so tenant events can evict it; a secret
 * with no row at all has none.
 */
export interface KeyLookup {
  grant: KeyGrant | null;
  tenantId: string | undefined;
  /** Why a row's secret is unusable (for the metrics' outcome; never told to the client). */
  refusal?: Refusal;
}

export type Refusal = 'revoked' | 'suspended';

interface Entry {
  grant: KeyGrant | null;
  tenantId: string | undefined;
  refusal?: Refusal;
  staleAt: number;
}

/** Unknown secrets kept at most: a flood of random keys must not push out the known ones. */
const MAX_UNKNOWN_ENTRIES = 10_000;

/**
 * Lookups keyed by the SHA-256 of the key (never the key). Two bounded maps, oldest entry dropped
 * when full: secrets with a row (cached for the TTL, evicted by key or by tenant) and secrets with
 * none (kept briefly, and apart, so random keys cannot evict the known ones).
 *
 * Every eviction bumps an epoch; a lookup stores its answer only if no eviction happened while it
 * was reading, so a read that raced a revoke or a suspension is never cached after it.
 */
export class KeyCache {
  private readonly known = new Map<string, Entry>();
  private readonly unknown = new Map<string, Entry>();
  private readonly hashesOfTenant = new Map<string, Set<string>>();
  /** Secrets that were usable lately, kept past their entry: a hint, never a grant (below). */
  private readonly recentlyUsable = new Set<string>();
  private epoch = 0;

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs: number,
    private readonly negativeTtlMs: number,
    private readonly maxEntries: number,
    private readonly maxUnknown = Math.min(maxEntries, MAX_UNKNOWN_ENTRIES),
  ) {}

  /** undefined = not cached (look it up); null = cached as unusable. */
  get(hash: string): KeyGrant | null | undefined {
    const entry = this.known.get(hash) ?? this.unknown.get(hash);
    if (!entry) return undefined;
    if (entry.staleAt <= this.clock.now().getTime()) {
      this.remove(hash);
      return undefined;
    }
    return entry.grant;
  }

  /**
   * Runs load and caches its answer unless an eviction happened meanwhile (the answer may predate
   * it). The answer is returned either way: it was true when read.
   */
  async lookup(hash: string, load: (hash: string) => Promise<KeyLookup>): Promise<KeyLookup> {
    const startedAt = this.epoch;
    const found = await load(hash);
    if (this.epoch === startedAt) this.set(hash, found);
    if (found.grant) this.markUsable(hash);
    else this.recentlyUsable.delete(hash);
    return found;
  }

  /**
   * Whether this secret was usable when last looked up, even if its entry has since expired or
   * been evicted. Only ever used to let its lookup past the unknown-key limit (a key that worked
   * is not a flood), never to answer without the database.
   */
  wasUsable(hash: string): boolean {
    return this.recentlyUsable.has(hash);
  }

  /** Why a cached unusable secret is refused; undefined for one with no row (unknown). */
  refusalOf(hash: string): Refusal | undefined {
    return this.known.get(hash)?.refusal;
  }

  set(hash: string, { grant, tenantId, refusal }: KeyLookup): void {
    const ttl = tenantId === undefined ? this.negativeTtlMs : this.ttlMs;
    const map = tenantId === undefined ? this.unknown : this.known;
    const max = tenantId === undefined ? this.maxUnknown : this.maxEntries;
    if (ttl <= 0 || max <= 0) return;
    this.remove(hash);
    if (map.size >= max) {
      const oldest = map.keys().next().value;
      if (oldest !== undefined) this.remove(oldest);
    }
    map.set(hash, { grant, tenantId, refusal, staleAt: this.clock.now().getTime() + ttl });
    if (tenantId !== undefined) {
      const hashes = this.hashesOfTenant.get(tenantId) ?? new Set();
      this.hashesOfTenant.set(tenantId, hashes);
      hashes.add(hash);
    }
  }

  /** A key's secrets (current and previous) changed: forget them. */
  evictHashes(hashes: readonly string[]): void {
    this.epoch++;
    for (const hash of hashes) this.remove(hash);
  }

  /** A tenant was suspended, resumed or deleted: forget every secret of it, usable or not. */
  evictTenant(tenantId: string): void {
    this.epoch++;
    for (const hash of this.hashesOfTenant.get(tenantId) ?? []) this.known.delete(hash);
    this.hashesOfTenant.delete(tenantId);
  }

  clear(): void {
    this.epoch++;
    this.known.clear();
    this.unknown.clear();
    this.hashesOfTenant.clear();
  }

  get size(): number {
    return this.known.size + this.unknown.size;
  }

  /** Records that this secret was usable (a lookup found it, or it was in use at start). */
  markUsable(hash: string): void {
    this.recentlyUsable.delete(hash);
    if (this.recentlyUsable.size >= this.maxEntries) {
      const oldest = this.recentlyUsable.values().next().value;
      if (oldest !== undefined) this.recentlyUsable.delete(oldest);
    }
    if (this.maxEntries > 0) this.recentlyUsable.add(hash);
  }

  private remove(hash: string): void {
    const entry = this.known.get(hash);
    if (entry) {
      this.known.delete(hash);
      const hashes = this.hashesOfTenant.get(entry.tenantId!);
      hashes?.delete(hash);
      if (hashes?.size === 0) this.hashesOfTenant.delete(entry.tenantId!);
    } else {
      this.unknown.delete(hash);
    }
  }
}
