import cluster from 'node:cluster';
import { createApp } from './app.ts';
import { type PrimaryMessage, runPrimary, type WorkerListening } from './cluster.ts';
import { answerMetricsCollection, scrapeThroughPrimary, workerLabels } from './cluster-metrics.ts';
import { type Config, ConfigError, loadConfig } from './config.ts';
import { createLogger } from './lib/logger.ts';

function announce(config: Config, url: string): void {
  const where = config.databaseUrl ? 'PostgreSQL' : `embedded PGlite (${config.pgliteDir})`;
  const processes = config.workers > 1 ? `, ${config.workers} workers` : '';
  // From process start (node's own start-up and module loading included) to listening.
  const startedIn = `started in ${process.uptime().toFixed(2)} s`;
  console.log(`xScaler Portal listening on ${url} (database: ${where}${processes}, ${startedIn})`);
  console.log(`Portal UI: ${url}/ui/`);
  console.log(config.graphiql ? `GraphiQL: ${url}/graphql` : `GraphQL endpoint: ${url}/graphql`);
}

async function serve(config: Config): Promise<void> {
  // Ctrl-C and a terminal's hangup reach every process of the group: a worker ignores them; its
  // primary decides (SIGTERM drains it, a rolling restart retires it).
  if (cluster.isWorker) {
    process.on('SIGINT', () => {});
    process.on('SIGHUP', () => {});
  }
  const worker = cluster.worker;
  const app = await createApp(
    config,
    worker
      ? { clusterWorker: { labels: workerLabels(worker.id), scrape: scrapeThroughPrimary() } }
      : {},
  );
  if (worker) answerMetricsCollection(app.deps.metrics.registry);
  const { url, metricsUrl } = await app.start();
  if (cluster.isWorker) process.send?.({ type: 'listening', url } satisfies WorkerListening);
  else announce(config, url);
  if (metricsUrl) console.log(`Metrics: ${metricsUrl}/metrics`);

  let stopping = false;
  const stop = (why: string, drain = true) => {
    // A second signal skips the rest of the drain delay.
    if (stopping) return void app.stop();
    stopping = true;
    if (cluster.isPrimary) console.log(`${why} received, shutting down`);
    app.stop({ drain }).then(
      () => process.exit(0),
      (err) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  if (cluster.isPrimary) process.on('SIGINT', () => stop('SIGINT'));
  // Retired in a rolling restart: a replacement already listens, so no load balancer needs notice.
  process.on('message', (message: PrimaryMessage) => {
    if (message?.type === 'retire') stop('retire', false);
  });
}

async function main() {
  const config = loadConfig();
  if (config.workers > 1 && cluster.isPrimary) {
    const logger = createLogger(config.logLevel, undefined, config.logFormat);
    runPrimary(config, logger.child({ component: 'cluster' }), (url) => announce(config, url));
    return;
  }
  await serve(config);
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
