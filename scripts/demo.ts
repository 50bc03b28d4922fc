import { createApp } from '../src/app.ts';
import { ConfigError, loadConfig } from '../src/config.ts';
import { InvalidCredentialsError } from '../src/lib/errors.ts';
import { createLogger } from '../src/lib/logger.ts';
import {
  DemoRefusedError,
  refuseInProduction,
  seedTrainingOrganisation,
  TRAINING,
} from './demo-seed.ts';

/**
 * `npm run demo`: the guide's training organisation in the database the server uses (same
 * environment: DATABASE_URL or PGLITE_DIR). With embedded PGlite run it while the server is
 * stopped: a PGlite directory belongs to one process at a time.
 */
async function pgliteServerAnswers(host: string, port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://${host.includes(':') ? `[${host}]` : host}:${port}/readyz`, {
      signal: AbortSignal.timeout(1000),
    });
    const body = (await res.json()) as { database?: string };
    return body.database === 'pglite';
  } catch {
    return false;
  }
}

async function main() {
  const config = loadConfig();
  refuseInProduction(config);
  if (!config.databaseUrl && (await pgliteServerAnswers(config.host, config.port))) {
    throw new DemoRefusedError(
      `A portal on embedded PGlite answers at ${config.host}:${config.port}: stop it, run the demo, start it again (one process per PGlite directory).`,
    );
  }
  const app = await createApp(config, { logger: createLogger('error') });
  try {
    const { created } = await seedTrainingOrganisation(app.services, config);
    const where = config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `PGlite (${config.pgliteDir})`;
    console.log(
      `${created ? 'Created' : 'Already present:'} training organisation "${TRAINING.organisationName}" on the ${TRAINING.plan} plan in ${where}`,
    );
    console.log(`Log in as ${TRAINING.email} / ${TRAINING.password}`);
  } finally {
    await app.stop();
  }
}

main().catch((err) => {
  if (err instanceof DemoRefusedError || err instanceof ConfigError) console.error(err.message);
  else if (err instanceof InvalidCredentialsError)
    console.error(`${TRAINING.email} exists with another password; the demo leaves it unchanged.`);
  else console.error(err);
  process.exit(1);
});
