import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { testEnv } from './app.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface PortalProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * `npm start`'s own command line (node, its flags, `dist/server/main.js`), with this node binary:
 * the bundle `test/global-setup.ts` built from the source at the start of the run.
 */
export const NPM_START = (() => {
  const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as {
    scripts: { start: string };
  };
  const [node, ...args] = pkg.scripts.start.split(/\s+/);
  if (node !== 'node') throw new Error(`npm start is not a node command: ${pkg.scripts.start}`);
  return [process.execPath, ...args];
})();

/**
 * Runs the portal as its own process (as in production) and waits for its URL: `npm start`'s
 * command on the bundle the run's global setup built, or `command` in `cwd` (`npm start` of an
 * install). An `undefined` value removes that variable from the test defaults. The start deadline is generous: a restart under load
 * (WORKERS=2 on two busy cores) can take well over 30 s.
 */
export async function spawnPortal(
  env: Record<string, string | undefined>,
  {
    startTimeoutMs = 90_000,
    command = NPM_START,
    cwd = root,
  }: { startTimeoutMs?: number; command?: string[]; cwd?: string } = {},
): Promise<PortalProcess> {
  const merged = { ...process.env, ...testEnv({ LOG_LEVEL: 'warn' }), ...env };
  for (const [name, value] of Object.entries(merged)) if (value === undefined) delete merged[name];
  const [file, ...args] = command;
  const child = spawn(file!, args, {
    cwd,
    env: merged,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`portal did not start in ${startTimeoutMs} ms:\n${output}`)),
      startTimeoutMs,
    );
    const onData = (d: Buffer) => {
      output += d;
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`portal exited with ${code}:\n${output}`));
    });
  });
  return {
    url: await url,
    child,
    output: () => output,
    kill: (signal = 'SIGTERM') =>
      new Promise((resolve) => {
        // A process ended by a signal has signalCode set and exitCode still null.
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
      }),
  };
}

/** Polls until check() is true or the deadline passes; returns the elapsed milliseconds. */
export async function waitFor(
  check: () => Promise<boolean>,
  timeoutMs: number,
  everyMs = 25,
): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (await check()) return performance.now() - started;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}
