import cluster, { type Worker } from 'node:cluster';
import type { Config } from './config.ts';
import type { Logger } from './lib/logger.ts';
import { signingSecret } from './modules/auth/tokens.ts';

/** What a worker tells the primary once its server listens. */
export interface WorkerListening {
  type: 'listening';
  url: string;
}

/**
 * A replacement for a dead worker waits 1 s, doubling up to 30 s while replacements keep dying
 * (a database that is down): a crash loop costs little. A worker that lives a minute resets it.
 */
const RESTART_DELAY_MS = { first: 1000, max: 30_000 };
const HEALTHY_AFTER_MS = 60_000;
/** Workers drain their requests on SIGTERM; one that takes longer than this is killed. */
const STOP_TIMEOUT_MS = 30_000;

/**
 * The primary of `WORKERS` server processes sharing one port (node:cluster hands connections
 * round-robin). It serves nothing itself: it starts the workers, replaces one that dies, and on
 * SIGTERM/SIGINT lets each drain before exiting. Everything that must be shared between workers
 * is already shared between instances: PostgreSQL, advisory locks and NOTIFY.
 */
export function runPrimary(
  config: Config,
  logger: Logger,
  onListening: (url: string) => void,
): void {
  // Every worker must sign and accept the same tokens; a development secret is made once here.
  const workerEnv = { JWT_SECRET: signingSecret(config.jwt.secret, logger) };

  const listening = new Set<Worker>();
  let started = false;
  let stopping = false;

  let restartDelayMs = RESTART_DELAY_MS.first;
  const forkedAt = new Map<Worker, number>();

  const fork = () => {
    const worker = cluster.fork(workerEnv);
    forkedAt.set(worker, Date.now());
    worker.on('message', (message: WorkerListening) => {
      if (message?.type !== 'listening') return;
      listening.add(worker);
      if (!started && listening.size === config.workers) {
        started = true;
        onListening(message.url);
      }
    });
  };

  cluster.on('exit', (worker, code, signal) => {
    const wasListening = listening.delete(worker);
    if (stopping) return;
    if (!started && !wasListening) {
      // A worker that cannot start (database unreachable, port taken) will not do better on
      // a retry: fail like a single process would, rather than loop.
      logger.error('worker failed to start; stopping', { pid: worker.process.pid, code, signal });
      void stopAll(1);
      return;
    }
    const lived = Date.now() - (forkedAt.get(worker) ?? 0);
    forkedAt.delete(worker);
    if (lived >= HEALTHY_AFTER_MS) restartDelayMs = RESTART_DELAY_MS.first;
    logger.warn('worker exited; starting a replacement', {
      pid: worker.process.pid,
      code,
      signal,
      inMs: restartDelayMs,
    });
    setTimeout(() => {
      if (!stopping) fork();
    }, restartDelayMs).unref();
    restartDelayMs = Math.min(restartDelayMs * 2, RESTART_DELAY_MS.max);
  });

  const stopAll = async (exitCode: number) => {
    stopping = true;
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w);
    const exits = workers.map(
      (worker) =>
        new Promise<boolean>((resolve) => {
          if (worker.isDead()) return resolve(worker.process.exitCode === 0);
          const timer = setTimeout(() => worker.process.kill('SIGKILL'), STOP_TIMEOUT_MS);
          // A worker still starting has no handler yet and ends by the signal itself: also clean.
          worker.once('exit', (code, signal) => {
            clearTimeout(timer);
            resolve(code === 0 || signal === 'SIGTERM' || signal === 'SIGINT');
          });
          worker.process.kill('SIGTERM');
        }),
    );
    const clean = await Promise.all(exits);
    process.exit(clean.every(Boolean) ? exitCode : 1);
  };

  const onSignal = (signal: string) => {
    if (stopping) return;
    console.log(`${signal} received, stopping ${config.workers} workers`);
    void stopAll(0);
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));

  for (let i = 0; i < config.workers; i++) fork();
}
