import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** The guide's commands by section name (test/fixtures/guide-commands.sh, copied verbatim). */
export function guideSections(): Map<string, string> {
  const text = readFileSync(new URL('../fixtures/guide-commands.sh', import.meta.url), 'utf8');
  const sections = new Map<string, string>();
  for (const block of text.split(/^### /m).slice(1)) {
    const newline = block.indexOf('\n');
    sections.set(block.slice(0, newline).trim(), block.slice(newline + 1));
  }
  return sections;
}

export interface ShellResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs a script in a real shell with only PATH, HOME and the given variables in its environment. */
export function runShell(
  script: string,
  env: Record<string, string>,
  shell: 'bash' | 'dash' = 'bash',
): Promise<ShellResult> {
  return new Promise((resolve) => {
    execFile(
      shell,
      ['-c', script],
      {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: process.env.HOME ?? '/tmp',
          ...env,
        },
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ stdout, stderr, code });
      },
    );
  });
}

/** Replaces one line of a guide section (e.g. its example URL or tenant ID); fails if absent. */
export function substitute(script: string, line: string, replacement: string): string {
  if (!script.includes(line)) throw new Error(`guide section no longer contains: ${line}`);
  return script.replace(line, replacement);
}

/** The JSON values jq printed, one after another (each ends at a line end; `jq .` spans lines). */
export function jsonValues(stdout: string): unknown[] {
  const values: unknown[] = [];
  const lines = stdout.split('\n');
  let pending = '';
  for (const line of lines) {
    pending += `${line}\n`;
    if (!pending.trim()) continue;
    try {
      values.push(JSON.parse(pending));
      pending = '';
    } catch {}
  }
  if (pending.trim()) throw new Error(`not JSON: ${pending.slice(0, 200)}`);
  return values;
}
