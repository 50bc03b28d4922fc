import type postgres from 'postgres';

/**
 * postgres.js queues a query for as long as every pooled connection is held (by transactions,
 * reserved connections, or statements blocked on a lock): a saturated pool would make requests
 * hang. statement_timeout bounds a statement once it runs; this bounds the wait before it runs.
 */

/** The error of a request that found no free connection in time (classified unavailable). */
export class PoolTimeoutError extends Error {
  override name = 'PoolTimeoutError';
  readonly code = 'POOL_TIMEOUT';
  constructor(waitMs: number, what = 'no database connection free') {
    super(`${what} within ${waitMs} ms`);
  }
}

/** postgres.js's Query: `state` (null until a connection takes it) is internal, stable in 3.4. */
interface QueuedQuery {
  state?: unknown;
  executed?: boolean;
  /** True while a connection runs it (false again once it settled). */
  active?: boolean;
  cancel(): unknown;
}

export interface DeadlinedPool {
  /** `sql` whose `unsafe` queries and `begin` transactions fail after waiting `waitMs`. */
  sql: postgres.Sql;
  /**
   * For the metrics: statements and transactions holding a connection, and those queued for one.
   * postgres.js exposes no pool state, so this counts what passes through here (not LISTEN).
   */
  stats(): { inUse: number; waiting: number };
  stop(): void;
}

export function withPoolDeadline(sql: postgres.Sql, waitMs: number): DeadlinedPool {
  const waiting = new Map<QueuedQuery, number>();
  const transactions = { waiting: 0, running: 0 };
  // One sweep for all queries rather than a timer each (thousands per second on the hot path).
  const sweep = setInterval(
    () => {
      const now = performance.now();
      for (const [query, deadline] of waiting) {
        if (query.state != null) {
          // Running: statement_timeout takes over; kept until it settles for stats().
          if (!query.active) waiting.delete(query);
        } else if (now >= deadline && query.executed) {
          waiting.delete(query);
          // Out of the queue, rejected with 57014 (query_canceled): never runs later.
          query.cancel();
        }
      }
    },
    Math.max(10, Math.min(250, waitMs / 4)),
  );
  sweep.unref();

  const unsafe = ((query, parameters, options) => {
    const pending = sql.unsafe(query, parameters, options);
    waiting.set(pending as unknown as QueuedQuery, performance.now() + waitMs);
    return pending;
  }) as postgres.Sql['unsafe'];

  const begin = (...args: unknown[]) => {
    const fn = args[args.length - 1] as (tx: postgres.TransactionSql) => unknown;
    const options = args.length > 1 ? (args[0] as string) : undefined;
    let state: 'waiting' | 'started' | 'abandoned' = 'waiting';
    transactions.waiting++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        if (state !== 'waiting') return;
        state = 'abandoned';
        transactions.waiting--;
        reject(new PoolTimeoutError(waitMs));
      }, waitMs);
      // A transaction that gets its connection after the deadline does nothing and rolls back:
      // the client was told to retry, so it must not also be written.
      const run = (tx: postgres.TransactionSql) => {
        if (state === 'abandoned') throw new PoolTimeoutError(waitMs);
        state = 'started';
        transactions.waiting--;
        transactions.running++;
        clearTimeout(timer);
        return fn(tx);
      };
      const started = options === undefined ? sql.begin(run) : sql.begin(options, run);
      const settled = () => {
        if (state === 'started') transactions.running--;
        else if (state === 'waiting') transactions.waiting--;
        if (state !== 'abandoned') state = 'abandoned'; // counted once
      };
      started.then(
        (value) => {
          settled();
          resolve(value);
        },
        (err: unknown) => {
          clearTimeout(timer);
          const abandoned = state === 'abandoned';
          settled();
          if (!abandoned) reject(err);
        },
      );
    });
  };

  const proxied = new Proxy(sql, {
    get: (target, key, receiver) =>
      key === 'unsafe' ? unsafe : key === 'begin' ? begin : Reflect.get(target, key, receiver),
  });
  const stats = () => {
    let inUse = transactions.running;
    let queued = transactions.waiting;
    for (const query of waiting.keys()) {
      if (query.active) inUse++;
      else if (query.state == null && query.executed) queued++;
    }
    return { inUse, waiting: queued };
  };
  return { sql: proxied, stats, stop: () => clearInterval(sweep) };
}

/** The promise, or an unavailable failure after ms (the promise itself is left to settle). */
export function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PoolTimeoutError(ms, 'no database answer')), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
