import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { testEnv } from './app.ts';
import type { PortalProcess } from './process.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * spawnPortal with a start deadline of its own: a restart under load (WORKERS=2 on two busy
 * cores) may take longer than spawnPortal's 30 s. An `undefined` value removes a variable.
 */
export async function spawnPortalWithin(
  env: Record<string, string | undefined>,
  startTimeoutMs: number,
): Promise<PortalProcess> {
  const merged = { ...process.env, ...testEnv({ LOG_LEVEL: 'warn' }), ...env };
  for (const [name, value] of Object.entries(merged)) if (value === undefined) delete merged[name];
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
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
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
      }),
  };
}
