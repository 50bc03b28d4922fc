import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './load.ts';

/** Debian's Prometheus (CI installs the package); PROMETHEUS_BIN points elsewhere. */
export const PROMETHEUS = process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus';

export interface RunningPrometheus {
  readonly url: string;
  readonly process: ChildProcess;
  /** What it printed so far (for a failure message). */
  output(): string;
  /** SIGTERM (SIGKILL after 10 s), then its temporary folder goes. */
  stop(): Promise<void>;
}

/** A real Prometheus on a free loopback port, with this config and storage in a temp folder. */
export async function startPrometheus(config: string): Promise<RunningPrometheus> {
  const dir = await mkdtemp(join(tmpdir(), 'portal-prometheus-'));
  const configFile = join(dir, 'prometheus.yml');
  await writeFile(configFile, config);
  const port = await freePort();
  let output = '';
  const child = spawn(
    PROMETHEUS,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=1h',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  return {
    url: `http://127.0.0.1:${port}`,
    process: child,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
