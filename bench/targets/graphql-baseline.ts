import cluster from 'node:cluster';
import { runPrimary, type WorkerListening } from '../../src/cluster.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { startBaseline } from '../graphql-baseline.ts';

/**
 * The hand-written baseline as a server of its own, read from the same environment as the
 * portal (database, JWT settings, pool size) and run as the same number of WORKERS processes.
 */
const config = loadConfig();
if (config.workers > 1 && cluster.isPrimary) {
  runPrimary(config, createLogger(config.logLevel), (url) =>
    console.log(`baseline listening on ${url}`),
  );
} else {
  const baseline = await startBaseline({
    databaseUrl: config.databaseUrl!,
    poolMax: config.dbPoolMax,
    jwt: {
      secret: new TextEncoder().encode(config.jwt.secret),
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
    },
  });
  const url = baseline.url.replace(/\/graphql$/, '');
  if (cluster.isWorker) process.send?.({ type: 'listening', url } satisfies WorkerListening);
  else console.log(`baseline listening on ${url}`);
  process.on('SIGTERM', () => {
    void baseline.stop().then(() => process.exit(0));
  });
}
