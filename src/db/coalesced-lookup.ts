import DataLoader from 'dataloader';

/** At most this many keys per statement: one bound array of a few KB. */
export const MAX_COALESCED = 256;

export interface CoalescedLookupOptions<K, V> {
  /** One key: `column = $1` (PostgreSQL spends about twice the CPU on a one-element `= any`). */
  one(key: K): Promise<V | undefined>;
  /** Several distinct keys: `column = any($1)`, the rows by key (a key with no row left out). */
  many(keys: readonly K[]): Promise<Map<K, V>>;
  /** Called once per statement with the number of distinct keys it reads. */
  onBatch?(keys: number): void;
}

/**
 * Point reads by primary key, coalesced: the lookups started in one turn of the event loop go
 * out as one statement. Under load a statement and its round trip are most of a point read's
 * cost, on both sides of the wire; one turn adds no wait (setImmediate runs right after the
 * sockets it read), and an idle server's lookups go one at a time, as before. Nothing is
 * remembered past the statement: each lookup reads the database as of its own turn.
 */
export function coalescedLookup<K, V>({
  one,
  many,
  onBatch,
}: CoalescedLookupOptions<K, V>): (key: K) => Promise<V | undefined> {
  const loader = new DataLoader<K, V | undefined>(
    async (keys) => {
      const distinct = keys.length === 1 ? keys : [...new Set(keys)];
      onBatch?.(distinct.length);
      if (distinct.length === 1) {
        const value = await one(distinct[0]!);
        return keys.map(() => value);
      }
      const found = await many(distinct);
      return keys.map((key) => found.get(key));
    },
    { cache: false, maxBatchSize: MAX_COALESCED, batchScheduleFn: (run) => setImmediate(run) },
  );
  return (key) => loader.load(key);
}
