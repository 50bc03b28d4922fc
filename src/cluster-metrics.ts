import type { Worker } from 'node:cluster';
import { AggregatorRegistry, Gauge, type MetricObject, Registry } from 'prom-client';
import { collectProcessMetrics } from './lib/metrics.ts';

/**
 * /metrics across WORKERS. Every worker labels its series `worker="<cluster worker id>"`; the
 * primary asks each listening worker for its metrics over the cluster IPC channel and merges
 * them with its own (`worker="primary"`) through prom-client's AggregatorRegistry. Since the
 * label sets differ, nothing is summed away: each worker's figures are in the scrape, and
 * PromQL's sum() adds them up. The primary serves the result on METRICS_PORT; without it, a
 * worker that gets GET /metrics on the main port asks the primary for the same text.
 *
 * A worker that does not answer within COLLECT_TIMEOUT_MS (busy, or dying) is left out of that
 * one scrape rather than failing it: its series go stale for a scrape, as a down target would.
 */

const COLLECT_TIMEOUT_MS = 2000;

type MetricsJson = MetricObject[];

/** Primary -> worker: send your metrics. */
interface CollectRequest {
  type: 'metrics:collect';
  id: number;
}
/** Worker -> primary: here they are. */
interface CollectReply {
  type: 'metrics:collected';
  id: number;
  metrics: MetricsJson;
}
/** Worker -> primary: GET /metrics reached me; answer with the whole cluster's text. */
interface ScrapeRequest {
  type: 'metrics:scrape';
  id: number;
}
/** Primary -> worker: the cluster's text (or why not). */
interface ScrapeReply {
  type: 'metrics:scraped';
  id: number;
  text?: string;
  error?: string;
}

export type ClusterMetricsMessage = CollectRequest | CollectReply | ScrapeRequest | ScrapeReply;

/** The labels of a worker's series. */
export function workerLabels(workerId: number): Record<string, string> {
  return { worker: String(workerId) };
}

/** In a worker: answers the primary's requests for this process's metrics. */
export function answerMetricsCollection(registry: Registry): void {
  process.on('message', (message: ClusterMetricsMessage) => {
    if (message?.type !== 'metrics:collect') return;
    void registry.getMetricsAsJSON().then(
      (metrics) =>
        process.send?.({
          type: 'metrics:collected',
          id: message.id,
          metrics,
        } satisfies CollectReply),
      () => process.send?.({ type: 'metrics:collected', id: message.id, metrics: [] }),
    );
  });
}

/** In a worker: the scrape of the whole cluster, asked of the primary. */
export function scrapeThroughPrimary(): () => Promise<string> {
  let next = 0;
  const pending = new Map<number, (reply: ScrapeReply) => void>();
  process.on('message', (message: ClusterMetricsMessage) => {
    if (message?.type !== 'metrics:scraped') return;
    pending.get(message.id)?.(message);
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = next++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error('the cluster primary did not answer the scrape'));
      }, COLLECT_TIMEOUT_MS * 2);
      pending.set(id, (reply) => {
        clearTimeout(timer);
        pending.delete(id);
        if (reply.text !== undefined) resolve(reply.text);
        else reject(new Error(reply.error ?? 'scrape failed'));
      });
      process.send?.({ type: 'metrics:scrape', id } satisfies ScrapeRequest);
    });
}

/** In the primary: its own metrics, the collection from workers, and the merged text. */
export function createClusterMetrics(listeningWorkers: () => Worker[]) {
  const registry = new Registry();
  registry.setDefaultLabels({ worker: 'primary' });
  collectProcessMetrics(registry);
  new Gauge({
    name: 'xscaler_portal_cluster_workers',
    help: 'Worker processes listening (WORKERS).',
    registers: [registry],
    collect() {
      this.set(listeningWorkers().length);
    },
  });

  let next = 0;
  const waiting = new Map<number, (metrics: MetricsJson) => void>();

  const collectFrom = (worker: Worker) =>
    new Promise<MetricsJson | undefined>((resolve) => {
      const id = next++;
      const timer = setTimeout(() => {
        waiting.delete(id);
        resolve(undefined);
      }, COLLECT_TIMEOUT_MS);
      waiting.set(id, (metrics) => {
        clearTimeout(timer);
        waiting.delete(id);
        resolve(metrics);
      });
      worker.send({ type: 'metrics:collect', id } satisfies CollectRequest, (err: Error | null) => {
        if (err) waiting.get(id)?.([]);
      });
    });

  const scrape = async (): Promise<string> => {
    const collected = await Promise.all([
      registry.getMetricsAsJSON(),
      ...listeningWorkers().map(collectFrom),
    ]);
    // Worker labels keep every series apart, so summing is the identity; it also keeps the
    // series prom-client would otherwise drop (process_start_time_seconds is 'omit').
    const all = collected
      .filter((m): m is MetricsJson => m !== undefined)
      .map((metrics) => metrics.map((m) => ({ ...m, aggregator: 'sum' as const })));
    return AggregatorRegistry.aggregate(all).metrics();
  };

  return {
    scrape,
    /** Wire to each worker's 'message' events. */
    onWorkerMessage(worker: Worker, message: ClusterMetricsMessage): void {
      if (message?.type === 'metrics:collected') {
        waiting.get(message.id)?.(message.metrics);
      } else if (message?.type === 'metrics:scrape') {
        scrape().then(
          (text) => worker.send({ type: 'metrics:scraped', id: message.id, text }),
          (err: Error) =>
            worker.send({ type: 'metrics:scraped', id: message.id, error: err.message }),
        );
      }
    },
  };
}
