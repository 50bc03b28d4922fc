import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The portal's folder (the nearest one up with a package.json), where `drizzle/` and `dist/ui/`
 * live. Found by walking up rather than by a fixed `../..`: this module runs from `src/lib/`
 * (tsx, tests) and bundled into `dist/server/main.js` (`npm start`), at different depths.
 */
function packageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

export const PACKAGE_ROOT = packageRoot(dirname(fileURLToPath(import.meta.url)));
