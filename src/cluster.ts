import cluster, { type Worker } from 'node:cluster';
import { type ClusterMetricsMessage, createClusterMetrics } from './cluster-metrics.ts';
import type { Config } from './config.ts';
import { listenForMetrics } from './http/metrics-door.ts';
import type { Logger } from './lib/logger.ts';
import { signingSecret } from './modules/auth/tokens.ts';

/** What a worker tells the primary once its server listens. */
export interface WorkerListening {
  type: 'listening';
  url: string;
}

/** What the primary tells a worker: retire (stop at once, without a drain delay). */
export interface PrimaryMessage {
  type: 'retire';
}

/**
 * A replacement for a dead worker waits 1 s, doubling up to 30 s while replacements keep dying
 * (a database that is down): a crash loop costs little. A worker that lives a minute resets it.
 */
const RESTART_DELAY_MS = { first: 1000, max: 30_000 };
const HEALTHY_AFTER_MS = 60_000;
/**
 * Workers drain their requests on SIGTERM; one that takes longer than this past its drain
 * delay is killed. After the drain a worker needs about 20 s at worst: WebSockets close, then
 * requests in flight get 10 s, then the last-used flush and the database close get 5 s each.
 * README's kill timeout for a process manager (drain + 30 s) is this same margin.
 */
const STOP_TIMEOUT_MS = 30_000;

/**
 * The primary of `WORKERS` server processes sharing one port (node:cluster hands connections
 * round-robin). It serves nothing itself: it starts the workers, replaces one that dies, on
 * SIGTERM/SIGINT lets each drain before exiting, and on SIGHUP restarts them one at a time
 * (a new worker listens before an old one stops, so the port never lacks one: new code is
 * picked up without dropping a request). Everything that must be shared between workers
 * is already shared between instances: PostgreSQL, advisory locks and NOTIFY.
 */
export function runPrimary(
  config: Config,
  logger: Logger,
  onListening: (url: string) => void,
): void {
  // Every worker must sign and accept the same tokens; a development secret is made once here.
  const workerEnv = { JWT_SECRET: signingSecret(config, logger) };

  const listening = new Set<Worker>();
  // /metrics of every worker: on METRICS_PORT here, or through a worker on the main port.
  const metrics = createClusterMetrics(() => [...listening].filter((w) => w.isConnected()));
  if (config.metrics.port !== undefined) {
    listenForMetrics(config.metrics.port, config.metrics.host, metrics.scrape, logger).then(
      ({ url }) => console.log(`metrics of all workers on ${url}/metrics`),
      (err: Error) => {
        logger.error({ error: err.message }, 'cannot listen on METRICS_PORT; stopping');
        process.exit(1);
      },
    );
  }
  let started = false;
  let stopping = false;

  let restartDelayMs = RESTART_DELAY_MS.first;
  const forkedAt = new Map<Worker, number>();

  const stopTimeoutMs = config.shutdownDrainSeconds * 1000 + STOP_TIMEOUT_MS;
  /** Retired by a rolling restart: already replaced. */
  const retiring = new Set<Worker>();
  /** Started by a rolling restart and not listening yet: if it dies, the restart stops. */
  const candidates = new Set<Worker>();
  /** The old worker whose replacement is starting: if it dies meanwhile, that one replaces it. */
  let beingReplaced: Worker | undefined;
  let restarting = false;

  const fork = () => {
    const worker = cluster.fork(workerEnv);
    forkedAt.set(worker, Date.now());
    // A message to a worker that just died fails on its closed channel; unhandled, that error
    // would end the primary and every worker with it. Its 'exit' follows and is handled there.
    worker.on('error', (err) => {
      logger.warn({ workerPid: worker.process.pid, error: err.message }, 'worker channel error');
    });
    worker.on('message', (message: ClusterMetricsMessage) =>
      metrics.onWorkerMessage(worker, message),
    );
    worker.on('message', (message: WorkerListening) => {
      if (message?.type !== 'listening') return;
      listening.add(worker);
      if (started) console.log(`worker ${worker.process.pid} listening`);
      else if (listening.size === config.workers) {
        started = true;
        onListening(message.url);
      }
    });
    return worker;
  };

  cluster.on('exit', (worker, code, signal) => {
    const wasListening = listening.delete(worker);
    const lived = Date.now() - (forkedAt.get(worker) ?? 0);
    forkedAt.delete(worker);
    if (stopping || retiring.delete(worker) || candidates.delete(worker)) return;
    if (worker === beingReplaced) {
      // Its replacement is starting already: the rolling restart takes care of the rest.
      logger.warn(
        {
          workerPid: worker.process.pid,
          code,
          signal,
        },
        'worker exited while its replacement was starting',
      );
      return;
    }
    if (!started && !wasListening) {
      // A worker that cannot start (database unreachable, port taken) will not do better on
      // a retry: fail like a single process would, rather than loop.
      logger.error(
        { workerPid: worker.process.pid, code, signal },
        'worker failed to start; stopping',
      );
      void stopAll(1);
      return;
    }
    replaceLater(worker.process.pid, lived, { code, signal });
  });

  /** Forks a replacement for a dead worker after the crash-loop delay. */
  const replaceLater = (pid: number | undefined, lived: number, exit: object) => {
    if (lived >= HEALTHY_AFTER_MS) restartDelayMs = RESTART_DELAY_MS.first;
    logger.warn(
      { workerPid: pid, ...exit, inMs: restartDelayMs },
      'worker exited; starting a replacement',
    );
    setTimeout(() => {
      if (!stopping) fork();
    }, restartDelayMs).unref();
    restartDelayMs = Math.min(restartDelayMs * 2, RESTART_DELAY_MS.max);
  };

  const stopAll = async (exitCode: number) => {
    stopping = true;
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w);
    const exits = workers.map(
      (worker) =>
        new Promise<boolean>((resolve) => {
          if (worker.isDead()) return resolve(worker.process.exitCode === 0);
          const timer = setTimeout(() => worker.process.kill('SIGKILL'), stopTimeoutMs);
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
    if (stopping) {
      // A second signal: the workers skip the rest of their drain delay.
      for (const worker of liveWorkers()) worker.process.kill('SIGTERM');
      return;
    }
    console.log(`${signal} received, stopping ${config.workers} workers`);
    void stopAll(0);
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));

  const liveWorkers = () =>
    Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && !w.isDead());

  /** Resolves true once the worker listens, false if it exits first. */
  const listeningOf = (worker: Worker) =>
    new Promise<boolean>((resolve) => {
      const settle = (listens: boolean) => {
        worker.off('message', onMessage);
        worker.off('exit', onExit);
        resolve(listens);
      };
      const onMessage = (message: WorkerListening) => {
        if (message?.type === 'listening') settle(true);
      };
      const onExit = () => settle(false);
      worker.on('message', onMessage);
      worker.once('exit', onExit);
    });

  /**
   * Asks a worker to stop at once (its replacement listens already); resolves once it has
   * exited, at once if it is dead already or the message cannot reach it.
   */
  const retire = (worker: Worker) =>
    new Promise<void>((resolve) => {
      if (worker.isDead()) return resolve();
      retiring.add(worker);
      const timer = setTimeout(() => worker.process.kill('SIGKILL'), STOP_TIMEOUT_MS);
      worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      worker.send({ type: 'retire' } satisfies PrimaryMessage, (err: Error | null) => {
        // The channel closed: the worker is dying; its 'exit' (above) resolves, or the kill.
        if (err) worker.process.kill('SIGKILL');
      });
    });

  const rollingRestart = async () => {
    if (restarting || stopping || !started) return;
    restarting = true;
    const old = liveWorkers().filter((w) => !retiring.has(w));
    console.log(`SIGHUP received, restarting ${old.length} workers one at a time`);
    let replaced = 0;
    for (const worker of old) {
      if (stopping) break;
      if (worker.isDead()) continue; // died meanwhile: already replaced
      const fresh = fork();
      console.log(`rolling restart: replacing worker ${worker.process.pid}`);
      candidates.add(fresh);
      beingReplaced = worker;
      const ok = await listeningOf(fresh);
      candidates.delete(fresh);
      beingReplaced = undefined;
      if (!ok) {
        logger.error(
          {
            replaced,
          },
          'rolling restart: a new worker failed to start; keeping the others',
        );
        // The old worker died too while the new one was starting: it still needs a replacement.
        if (worker.isDead() && !stopping)
          replaceLater(worker.process.pid, 0, { during: 'restart' });
        break;
      }
      await retire(worker);
      replaced++;
    }
    beingReplaced = undefined;
    restarting = false;
    console.log(`rolling restart done: ${replaced} of ${old.length} workers replaced`);
  };
  process.on('SIGHUP', () => void rollingRestart());

  for (let i = 0; i < config.workers; i++) fork();
}
