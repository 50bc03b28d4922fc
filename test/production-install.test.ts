import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, engine, type TestDatabase } from './helpers/database.ts';
import { type PortalProcess, spawnPortal } from './helpers/process.ts';
import { restCall } from './helpers/rest.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
/** npm ci fetches what its cache lacks: minutes on a cold cache and a slow registry. */
const INSTALL_TEST_MS = 600_000;

/** What a clone of this tree would hold: tracked files and new ones git does not ignore. */
function copyAsCloned(to: string): void {
  const files = execFileSync(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
    {
      cwd: root,
      encoding: 'utf8',
    },
  )
    .split('\0')
    .filter(Boolean);
  for (const file of files) {
    // A tracked file deleted in the work tree is not part of it.
    if (existsSync(join(root, file))) cpSync(join(root, file), join(to, file));
  }
}

function run(command: string, args: string[], cwd: string): Promise<string> {
  const env = { ...process.env };
  delete env.NODE_ENV; // vitest's "test"; --omit=dev says what to leave out
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(output) : reject(new Error(`${command} exited ${code}:\n${output}`)),
    );
  });
}

const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

/**
 * The operator's path, end to end: a fresh copy installed with `npm ci --omit=dev` (whose
 * `prepare` builds the UI and the server), started by `npm start`'s command in production on a fresh
 * PostgreSQL database. PostgreSQL only, so it runs once per suite.
 */
describe.skipIf(engine !== 'postgres')('a production install that starts', () => {
  let dir: string | undefined;
  let database: TestDatabase | undefined;
  let portal: PortalProcess | undefined;

  afterAll(async () => {
    await portal?.kill('SIGKILL');
    await database?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(
    'npm ci --omit=dev, then the start script answers /readyz and a login, also with WORKERS=2',
    async () => {
      dir = mkdtempSync(join(tmpdir(), 'portal-production-'));
      copyAsCloned(dir);
      let since = performance.now();
      await run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], dir);
      console.log(`npm ci --omit=dev (build included): ${seconds(since)}`);
      expect(existsSync(join(dir, 'dist/server/main.js'))).toBe(true);
      expect(existsSync(join(dir, 'dist/server/main.js.map'))).toBe(true);
      expect(existsSync(join(dir, 'dist/ui/index.html'))).toBe(true);
      expect(existsSync(join(dir, 'node_modules/vitest'))).toBe(false);
      // npm keeps tsx, vite's optional peer; the built server must need no loader, so drop it.
      rmSync(join(dir, 'node_modules/tsx'), { recursive: true, force: true });

      database = await createTestDatabase();
      const env = {
        NODE_ENV: 'production',
        JWT_SECRET: randomBytes(32).toString('hex'),
        DATABASE_URL: database.url!,
        // The suite's cheaper scrypt is refused in production: the default it is.
        PASSWORD_HASH_LOG_N: undefined,
        SHUTDOWN_DRAIN_S: '0',
        LOG_LEVEL: 'info',
      };
      // `npm start`'s command itself: npm runs it under `sh -c`, which does not pass SIGTERM on.
      const startScript = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).scripts.start;
      expect(startScript).toMatch(/^node /);
      expect(startScript).not.toMatch(/tsx|--import|--loader/);
      const npmStart = { command: startScript.split(' '), cwd: dir };
      since = performance.now();
      portal = await spawnPortal(env, npmStart);
      console.log(`npm start to listening: ${seconds(since)}`);
      expect(portal.output()).toMatch(/\(database: PostgreSQL, started in \d+\.\d\d s\)/);

      const ready = await restCall(portal.url, 'GET', '/readyz');
      expect(ready.json).toEqual({ status: 'ready', database: 'postgres' });
      const email = `operator-${randomBytes(4).toString('hex')}@example.com`;
      const password = 'Correct-Horse-Battery-9';
      const signup = await restCall(portal.url, 'POST', '/auth/signup', {
        body: { organisation_name: 'Production', email, password },
      });
      expect(signup.status, signup.text).toBe(201);
      const wrong = await restCall(portal.url, 'POST', '/auth/login', {
        body: { email, password: `${password}x` },
      });
      expect(wrong.status).toBe(401);
      const login = await restCall(portal.url, 'POST', '/auth/login', {
        body: { email, password },
      });
      expect(login.status, login.text).toBe(200);
      const { token } = login.json;
      const me = await restCall(portal.url, 'GET', '/users/me', { token });
      expect(me.json.email).toBe(email);
      await portal.kill();

      // The cluster forks its workers from the built file too; each accepts the earlier token.
      portal = await spawnPortal({ ...env, WORKERS: '2' }, npmStart);
      expect(portal.output()).toMatch(
        /\(database: PostgreSQL, 2 workers, started in \d+\.\d\d s\)/,
      );
      for (let i = 0; i < 4; i++) {
        const reply = await restCall(portal.url, 'GET', '/users/me', {
          token,
          headers: { connection: 'close' },
        });
        expect(reply.status, reply.text).toBe(200);
      }
      await portal.kill();
    },
    INSTALL_TEST_MS,
  );
});
