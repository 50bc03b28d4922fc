import cluster from 'node:cluster';
import { createApp } from './app.ts';
import { runPrimary, type WorkerListening } from './cluster.ts';
import { type Config, ConfigError, loadConfig } from './config.ts';
import { createLogger } from './lib/logger.ts';

function announce(config: Config, url: string): void {
  const where = config.databaseUrl ? 'PostgreSQL' : `embedded PGlite (${config.pgliteDir})`;
  const processes = config.workers > 1 ? `, ${config.workers} workers` : '';
  console.log(`xScaler Portal listening on ${url} (database: ${where}${processes})`);
  console.log(`Portal UI: ${url}/ui/`);
  console.log(config.graphiql ? `GraphiQL: ${url}/graphql` : `GraphQL endpoint: ${url}/graphql`);
}

async function serve(config: Config): Promise<void> {
  // Ctrl-C reaches every process of the group: a worker ignores it and drains on the SIGTERM
  // its primary sends (a worker still starting would otherwise die half-way).
  if (cluster.isWorker) process.on('SIGINT', () => {});
  const app = await createApp(config);
  const { url } = await app.start();
  if (cluster.isWorker) process.send?.({ type: 'listening', url } satisfies WorkerListening);
  else announce(config, url);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    if (cluster.isPrimary) console.log(`${signal} received, shutting down`);
    await app.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  if (cluster.isPrimary) process.on('SIGINT', () => void shutdown('SIGINT'));
}

async function main() {
  const config = loadConfig();
  if (config.workers > 1 && cluster.isPrimary) {
    runPrimary(config, createLogger(config.logLevel), (url) => announce(config, url));
    return;
  }
  await serve(config);
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
