import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import type { Clock } from '../../lib/clock.ts';
import type { Logger } from '../../lib/logger.ts';

/**
 * Remembers when each key was last used and writes them in one statement per flush, instead of
 * one write per verified request. A flush is due once the clock has moved `intervalMs` past the
 * last one: a use after that starts it, and a timer catches the quiet periods. Time is the
 * injected clock's, so tests move it instead of waiting.
 */
export class LastUsedRecorder {
  private pending = new Map<string, Date>();
  private flushing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private lastFlushAt: number;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    private readonly clock: Clock,
    private readonly intervalMs = 5_000,
  ) {
    this.lastFlushAt = clock.now().getTime();
  }

  touch(keyId: string, at: Date): void {
    this.pending.set(keyId, at);
    if (this.due(at.getTime())) void this.flush();
  }

  start(): void {
    this.timer = setInterval(() => {
      if (this.due(this.clock.now().getTime())) void this.flush();
    }, this.intervalMs);
    this.timer.unref();
  }

  /** A clock set back (NTP, a test) counts as due rather than waiting for it to catch up. */
  private due(now: number): boolean {
    return now - this.lastFlushAt >= this.intervalMs || now < this.lastFlushAt;
  }

  /** Resolves when the flushes started so far are done, starting none. */
  settled(): Promise<void> {
    return this.flushing;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  /** Flushes run one at a time; concurrent callers share the one in flight, then run theirs. */
  flush(): Promise<void> {
    this.lastFlushAt = this.clock.now().getTime();
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  private async write(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const rows = [...batch].map(([id, at]) => ({ id, at: at.toISOString() }));
    try {
      // One JSON parameter carries the whole batch. Rows another instance is writing right now
      // are skipped rather than waited for: no deadlock, and its timestamps are as fresh.
      await this.db.execute(sql`
        with batch as (
          select * from json_to_recordset(${JSON.stringify(rows)}::json) as u(id text, at timestamptz)
        ), locked as (
          select k.id from api_keys k join batch b on b.id = k.id for update of k skip locked
        )
        update api_keys set last_used_at = greatest(api_keys.last_used_at, b.at)
        from batch b
        where api_keys.id = b.id and api_keys.id in (select id from locked)`);
    } catch (err) {
      const cause = (err as { cause?: Error }).cause ?? (err as Error);
      this.logger.warn(
        {
          error: String(cause.message).slice(0, 200),
          keys: rows.length,
        },
        'could not record key last use',
      );
    }
  }
}
