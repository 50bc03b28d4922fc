import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Writes ui/src/graphql-env.d.ts (gql.tada's types for schema.graphql); with --check, fails when
 * the committed file is stale, as schema:check does for schema.graphql.
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const target = join(root, 'ui/src/graphql-env.d.ts');
const check = process.argv.includes('--check');
const dir = check ? mkdtempSync(join(tmpdir(), 'xs-ui-types-')) : undefined;
const output = dir ? join(dir, 'graphql-env.d.ts') : target;

const run = spawnSync(
  process.execPath,
  [
    join(root, 'node_modules/gql.tada/bin/cli.js'),
    'generate',
    'output',
    '--tsconfig',
    join(root, 'ui/tsconfig.json'),
    '--output',
    output,
  ],
  { cwd: root, encoding: 'utf8' },
);
if (run.status !== 0) {
  process.stderr.write(run.stdout + run.stderr);
  process.exit(1);
}
if (dir) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {}
  const fresh = readFileSync(output, 'utf8');
  rmSync(dir, { recursive: true, force: true });
  if (current !== fresh) {
    console.error('ui/src/graphql-env.d.ts is stale: run `npm run ui:types` and commit it.');
    process.exit(1);
  }
  console.log('ui/src/graphql-env.d.ts is up to date');
} else {
  console.log('wrote ui/src/graphql-env.d.ts');
}
