import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useTestServer } from './helpers/app.ts';
import { engine } from './helpers/database.ts';
import { freePort } from './helpers/load.ts';

/**
 * No Docker engine runs here: the Dockerfile is checked by what can be run without one. The
 * install and start it performs are the ones production-install.test.ts runs for real.
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const dockerfile = readFileSync(`${root}/Dockerfile`, 'utf8').replace(/\\\n\s*/g, '');
const runtimeStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
const instruction = (name: string) =>
  [...runtimeStage.matchAll(new RegExp(`^${name} (.+)$`, 'gm'))].map((m) => m[1]!);

/** The HEALTHCHECK's command, run as Docker runs it (exec form), against `port`. */
function healthcheck(port: number): Promise<number> {
  const [file, ...args] = JSON.parse(/CMD (\[.+\])$/.exec(instruction('HEALTHCHECK')[0]!)![1]!);
  return new Promise((resolve) => {
    const child = execFile(file, args, { env: { ...process.env, PORT: String(port) } });
    child.once('exit', (code) => resolve(code ?? -1));
  });
}

describe.skipIf(engine !== 'pglite')('Dockerfile', () => {
  const server = useTestServer();

  it("runs npm start's command as a non-root user, in production, on the exposed port", () => {
    const { start } = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')).scripts;
    expect(JSON.parse(instruction('CMD')[0]!)).toEqual(start.split(' '));
    expect(instruction('USER')).toEqual(['node']);
    const env = instruction('ENV')[0]!;
    expect(env).toMatch(/\bNODE_ENV=production\b/);
    expect(env).toMatch(/\bHOST=0\.0\.0\.0\b/);
    const port = /\bPORT=(\d+)\b/.exec(env)![1];
    expect(instruction('EXPOSE')).toEqual([port]);
  });

  it('copies into the runtime what the built server reads: package.json, node_modules, dist, drizzle', () => {
    const copied = instruction('COPY').map((c) => /--from=build \/app\/(\S+)/.exec(c)?.[1]);
    expect(copied.sort()).toEqual(['dist', 'drizzle', 'node_modules', 'package.json']);
    const ignored = readFileSync(`${root}/.dockerignore`, 'utf8').split('\n');
    for (const name of ['node_modules', 'dist', '.data', '.env', '.git'])
      expect(ignored).toContain(name);
  });

  it('has a HEALTHCHECK that passes on a live /healthz and fails with nothing listening', async () => {
    expect(await healthcheck(Number(new URL(server().url).port))).toBe(0);
    expect(await healthcheck(await freePort())).toBe(1);
  });
});
