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
  cancel(): unknown;
}

export interface DeadlinedPool {
  /** `sql` whose `unsafe` queries and `begin` transactions fail after waiting `waitMs`. */
  sql: postgres.Sql;
  stop(): void;
}

export function withPoolDeadline(sql: postgres.Sql, waitMs: number): DeadlinedPool {
  const waiting = new Map<QueuedQuery, number>();
  // One sweep for all queries rather than a timer each (thousands per second on the hot path).
  const sweep = setInterval(
    () => {
      const now = performance.now();
      for (const [query, deadline] of waiting) {
        if (query.state != null) {
          waiting.delete(query); // running: statement_timeout takes over
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
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        if (state !== 'waiting') return;
        state = 'abandoned';
        reject(new PoolTimeoutError(waitMs));
      }, waitMs);
      // A transaction that gets its connection after the deadline does nothing and rolls back:
      // the client was told to retry, so it must not also be written.
      const run = (tx: postgres.TransactionSql) => {
        if (state === 'abandoned') throw new PoolTimeoutError(waitMs);
        state = 'started';
        clearTimeout(timer);
        return fn(tx);
      };
      const started = options === undefined ? sql.begin(run) : sql.begin(options, run);
      started.then(resolve, (err: unknown) => {
        clearTimeout(timer);
        if (state !== 'abandoned') reject(err);
      });
    });
  };

  const proxied = new Proxy(sql, {
    get: (target, key, receiver) =>
      key === 'unsafe' ? unsafe : key === 'begin' ? begin : Reflect.get(target, key, receiver),
  });
  return { sql: proxied, stop: () => clearInterval(sweep) };
}

/** The promise, or an unavailable failure after ms (the promise itself is left to settle). */
export function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PoolTimeoutError(ms, 'no database answer')), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
