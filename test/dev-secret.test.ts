import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config.ts';
import { keptSecret } from '../src/modules/auth/kept-secret.ts';
import { engine } from './helpers/database.ts';
import { type PortalProcess, spawnPortal } from './helpers/process.ts';
import { restCall, restSignup } from './helpers/rest.ts';

const PASSWORD = 'Correct-Horse-9';

/** Development without JWT_SECRET, on the embedded database in a data folder of its own. */
const development = (dataDir: string) => ({
  NODE_ENV: 'development',
  JWT_SECRET: undefined,
  DATABASE_URL: undefined,
  PGLITE_DIR: dataDir,
});

// PGlite on disk only: the engine under test plays no part, so once rather than per project.
describe.skipIf(engine !== 'pglite')('development secret kept in the data folder', () => {
  const dirs: string[] = [];
  const portals: PortalProcess[] = [];
  const freshDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'portal-dev-secret-'));
    dirs.push(dir);
    return join(dir, 'pglite');
  };
  const start = async (env: Record<string, string | undefined>) => {
    const portal = await spawnPortal(env);
    portals.push(portal);
    return portal;
  };

  afterAll(async () => {
    for (const portal of portals) await portal.kill('SIGKILL');
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('accepts a token after a restart on the same data folder, not on another one', async () => {
    const dataDir = freshDir();
    const first = await start(development(dataDir));
    const { token } = await restSignup(first.url, 'Dev secret', PASSWORD);
    expect((await restCall(first.url, 'GET', '/users/me', { token })).status).toBe(200);
    await first.kill();

    const file = join(dataDir, 'jwt-secret');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const secret = readFileSync(file, 'utf8').trim();
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    expect(first.output()).toContain(`development secret made in ${file}`);
    expect(first.output()).not.toContain(secret);

    const second = await start(development(dataDir));
    const me = await restCall(second.url, 'GET', '/users/me', { token });
    expect(me.status, me.text).toBe(200);
    expect(second.output()).toContain(`development secret kept in ${file}`);
    expect(readFileSync(file, 'utf8').trim()).toBe(secret);
    await second.kill();

    // Another data folder has its own secret: the token means nothing there.
    const elsewhere = await start(development(freshDir()));
    expect((await restCall(elsewhere.url, 'GET', '/users/me', { token })).status).toBe(401);
    await elsewhere.kill();
  });

  it('production without JWT_SECRET still refuses to start, and writes no secret', async () => {
    const dataDir = freshDir();
    await expect(
      start({ ...development(dataDir), NODE_ENV: 'production', PASSWORD_HASH_LOG_N: undefined }),
    ).rejects.toThrow(/exited with 1:[\s\S]*JWT_SECRET: required when NODE_ENV=production/);
    expect(() => statSync(join(dataDir, 'jwt-secret'))).toThrow(/ENOENT/);
  });

  it('refuses a kept file that holds no usable secret rather than replacing it', () => {
    const file = join(freshDir(), 'jwt-secret');
    expect(keptSecret(file).created).toBe(true);
    writeFileSync(file, 'short\n');
    expect(() => keptSecret(file)).toThrow(ConfigError);
    expect(readFileSync(file, 'utf8')).toBe('short\n');
  });
});
