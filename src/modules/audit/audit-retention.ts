import type { Database } from '../../db/client.ts';
import type { Deps } from '../../lib/deps.ts';
import { reportFailure } from '../../lib/failures.ts';
import type { AuditService } from './audit.service.ts';

/** Session advisory lock held by the instance pruning: one prune at a time across instances. */
const AUDIT_PRUNE_LOCK = 7_245_310_003n;
/** Rows per delete statement: each batch is a short transaction, never a long-running delete. */
export const AUDIT_PRUNE_BATCH = 1000;
/** Batches per run; what is left waits for the next run (a backlog drains over a few runs). */
export const AUDIT_PRUNE_MAX_BATCHES = 20;

export type PruneOutcome = { pruned: number } | 'skipped' | 'disabled';

/**
 * Every AUDIT_PRUNE_INTERVAL_S, the instance that wins the advisory lock deletes events older
 * than AUDIT_RETENTION_DAYS in bounded batches. The cutoff comes from the injected clock.
 */
export function createAuditRetention(
  { clock, config, logger }: Deps,
  database: Database,
  audit: AuditService,
  limits = { batch: AUDIT_PRUNE_BATCH, maxBatches: AUDIT_PRUNE_MAX_BATCHES },
) {
  const { retentionDays, pruneIntervalSeconds } = config.audit;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;

  const runOnce = async (): Promise<PruneOutcome> => {
    if (retentionDays === 0) return 'disabled';
    const cutoff = new Date(clock.now().getTime() - retentionDays * 86_400_000);
    const { locked, value } = await database.withTryLock(AUDIT_PRUNE_LOCK, async () => {
      let pruned = 0;
      for (let i = 0; i < limits.maxBatches; i++) {
        const n = await audit.pruneBatch(cutoff, limits.batch);
        pruned += n;
        if (n < limits.batch) break;
      }
      return pruned;
    });
    if (!locked) return 'skipped';
    if (value) logger.info({ pruned: value, retentionDays }, 'audit events pruned');
    return { pruned: value ?? 0 };
  };

  const schedule = () => {
    timer = setTimeout(async () => {
      running = runOnce().catch((err) => reportFailure(logger, err, { during: 'audit prune' }));
      await running;
      running = undefined;
      if (timer) schedule();
    }, pruneIntervalSeconds * 1000);
    timer.unref();
  };

  return {
    runOnce,
    start(): void {
      if (retentionDays > 0) schedule();
    },
    async stop(): Promise<void> {
      clearTimeout(timer);
      timer = undefined;
      await running;
    },
  };
}

export type AuditRetention = ReturnType<typeof createAuditRetention>;
