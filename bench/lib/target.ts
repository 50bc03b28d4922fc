import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The node flags of `npm start` (`node <flags> dist/server/main.js`): every benchmarked server,
 * the baselines included, runs with the flags the portal is deployed with (through tsx, so a
 * benchmark measures the source without a build first).
 */
export function npmStartNodeFlags(): string[] {
  const { scripts } = JSON.parse(readFileSync(`${root}/package.json`, 'utf8'));
  const match = /^node((?: --[\w-]+(?:=\S+)?)*) dist\/server\/main\.js$/.exec(scripts.start);
  if (!match) throw new Error(`unexpected npm start script: ${scripts.start}`);
  return match[1]!.trim().split(' ').filter(Boolean);
}

/**
 * BENCH_PORTAL_NODE_FLAGS: node flags for the portal's processes only, such as
 * `--cpu-prof --cpu-prof-dir=/tmp/prof` or `--heap-prof` (NODE_OPTIONS may carry neither).
 */
export function profileFlags(script: string): string[] {
  const flags = process.env.BENCH_PORTAL_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];
  return script === 'src/main.ts' || process.env.BENCH_PROFILE_ALL ? flags : [];
}

export interface Target {
  url: string;
  child: ChildProcess;
  /** SIGTERM, then waits for the exit (its shutdown must not overlap the next measurement). */
  stop(): Promise<void>;
}

/** Runs a server script in its own process, as deployed, and waits for its "listening on" line. */
export async function startTarget(
  script: string,
  env: Record<string, string>,
  /** Added to npm start's (such as --cpu-prof, which NODE_OPTIONS may not carry). */
  extraNodeFlags: string[] = [],
): Promise<Target> {
  const flags = [...npmStartNodeFlags(), ...extraNodeFlags, '--import', 'tsx', script];
  const child = spawn(process.execPath, flags, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (d) => {
      output += d;
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}: ${output}`)));
  });
  return {
    url,
    child,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
