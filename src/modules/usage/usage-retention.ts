import { sql } from 'drizzle-orm';
import type { Config } from '../../config.ts';
import type { Db } from '../../db/client.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** Each history table, the column its age is read from, and how long its rows are kept. */
const historyTables = ({ retention }: Config['usage']) => [
  { table: 'usage_samples', column: 'at', keepMs: retention.rawHours * HOUR_MS },
  { table: 'usage_org_samples', column: 'at', keepMs: retention.rawHours * HOUR_MS },
  { table: 'usage_hourly', column: 'bucket', keepMs: retention.hourlyDays * DAY_MS },
  { table: 'usage_org_hourly', column: 'bucket', keepMs: retention.hourlyDays * DAY_MS },
  { table: 'usage_daily', column: 'bucket', keepMs: retention.dailyDays * DAY_MS },
  { table: 'usage_org_daily', column: 'bucket', keepMs: retention.dailyDays * DAY_MS },
];

/** Rows a DELETE removed: postgres.js reports `count`, PGlite `affectedRows`. */
const affected = (result: unknown) => {
  const r = result as { count?: number; affectedRows?: number };
  return Number(r.count ?? r.affectedRows ?? 0);
};

/**
 * Deletes history older than its resolution's retention, before `at`, in bounded batches: each
 * statement removes at most `batchRows` rows found through the time index (a short transaction
 * of its own, never one long delete), and a table stops after `maxBatches` statements; a
 * backlog drains over the next ticks. A row exactly at the cutoff stays. Returns rows deleted
 * per table.
 */
export async function pruneUsageHistory(
  db: Db,
  usage: Config['usage'],
  at: Date,
): Promise<Record<string, number>> {
  const { batchRows, maxBatches } = usage.prune;
  const pruned: Record<string, number> = {};
  for (const { table, column, keepMs } of historyTables(usage)) {
    const cutoff = new Date(at.getTime() - keepMs).toISOString();
    const t = sql.raw(table);
    const c = sql.raw(column);
    let total = 0;
    for (let i = 0; i < maxBatches; i++) {
      const n = affected(
        await db.execute(sql`delete from ${t} where ctid = any(array(
          select ctid from ${t} where ${c} < ${cutoff}::timestamptz limit ${batchRows}))`),
      );
      total += n;
      if (n < batchRows) break;
    }
    if (total > 0) pruned[table] = total;
  }
  return pruned;
}
