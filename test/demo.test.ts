import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DemoRefusedError, seedTrainingOrganisation, TRAINING } from '../scripts/demo-seed.ts';
import { openDatabase } from '../src/db/client.ts';
import { startTestServer, TEST_JWT_SECRET, useTestServer } from './helpers/app.ts';
import { engine } from './helpers/database.ts';
import { restCall } from './helpers/rest.ts';

/** `npm run demo`: the training login exists only where the demo put it, never in production. */
const root = fileURLToPath(new URL('..', import.meta.url));
const server = useTestServer();
const scratch = mkdtempSync(join(tmpdir(), 'portal-demo-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function runDemo(env: Record<string, string>): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'scripts/demo.ts'],
      // PORT 1: nothing answers there, so the running-server probe stays quiet.
      { cwd: root, env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: '1', ...env } },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number(err.code ?? 1) : 0, output: stdout + stderr }),
    );
  });
}

const trainingLogin = (url: string) =>
  restCall(url, 'POST', '/auth/login', {
    body: { email: TRAINING.email, password: TRAINING.password },
  });

/** Where the CLI writes: this file's PostgreSQL database, or a PGlite directory of its own. */
const database = (dir: string): Record<string, string> =>
  server().testDatabase.url ? { DATABASE_URL: server().testDatabase.url! } : { PGLITE_DIR: dir };

describe('npm run demo', () => {
  it('refuses NODE_ENV=production and writes nothing', async () => {
    const dir = join(scratch, 'production');
    const run = await runDemo({
      NODE_ENV: 'production',
      JWT_SECRET: TEST_JWT_SECRET,
      ...database(dir),
    });
    expect(run.code).toBe(1);
    expect(run.output).toContain('NODE_ENV=production');
    expect(existsSync(dir)).toBe(false);
    await expect(
      seedTrainingOrganisation(server().app.services, { env: 'production' }),
    ).rejects.toThrow(DemoRefusedError);
    expect((await trainingLogin(server().url)).status).toBe(401);
  });

  it('creates the training organisation on the Scale plan; a second run changes nothing', async () => {
    const dir = join(scratch, 'seeded');
    const first = await runDemo(database(dir));
    expect(first.output).toContain('Created training organisation');
    expect(first.code).toBe(0);
    const second = await runDemo(database(dir));
    expect(second.output).toContain('Already present');
    expect(second.code).toBe(0);

    // The server the guide talks to sees it: same database, same configuration.
    const target = server().testDatabase.url
      ? server()
      : await startTestServer({
          testDatabase: {
            url: undefined,
            open: () => openDatabase({ pgliteDir: dir, poolMax: 1 }),
            drop: async () => {},
          },
        });
    try {
      const login = await trainingLogin(target.url);
      expect(login.status).toBe(200);
      const token = login.json.token;
      const org = await restCall(target.url, 'GET', '/organisation', { token });
      expect(org.json).toMatchObject({ name: TRAINING.organisationName, billing_plan: 'scale' });
      expect((await restCall(target.url, 'GET', '/users', { token })).json).toHaveLength(1);
    } finally {
      if (target !== server()) await target.stop();
    }
  }, 180_000);

  it('seeds through the services idempotently', async () => {
    const services = server().app.services;
    const first = await seedTrainingOrganisation(services, { env: 'test' });
    const second = await seedTrainingOrganisation(services, { env: 'test' });
    expect(second).toEqual({ created: false, organisationId: first.organisationId });
    expect((await trainingLogin(server().url)).status).toBe(200);
  });

  it.skipIf(engine === 'postgres')(
    'refuses to open PGlite while a PGlite portal answers',
    async () => {
      const dir = join(scratch, 'busy');
      const port = new URL(server().url).port;
      const run = await runDemo({ PGLITE_DIR: dir, PORT: port });
      expect(run.code).toBe(1);
      expect(run.output).toContain('stop it, run the demo');
      expect(existsSync(dir)).toBe(false);
    },
  );
});
