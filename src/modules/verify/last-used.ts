import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import type { Logger } from '../../lib/logger.ts';

/**
 * Remembers when each key was last used and writes them in one statement per flush, instead of
 * one write per verified request.
 */
export class LastUsedRecorder {
  private pending = new Map<string, Date>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    private readonly intervalMs = 5_000,
  ) {}

  touch(keyId: string, at: Date): void {
    this.pending.set(keyId, at);
  }

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const rows = [...batch].map(([id, at]) => ({ id, at: at.toISOString() }));
    try {
      // One JSON parameter carries the whole batch on both drivers.
      await this.db.execute(sql`
        update api_keys set last_used_at = greatest(api_keys.last_used_at, u.at)
        from json_to_recordset(${JSON.stringify(rows)}::json) as u(id text, at timestamptz)
        where api_keys.id = u.id`);
    } catch (err) {
      this.logger.warn('could not record key last use', { error: String(err), keys: rows.length });
    }
  }
}
