import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * patches/@pothos+selection-mapper+0.1.0.patch, loader-map.js: the response-path keys the drizzle
 * plugin looks its mappings up by (`Type@a.b.c`, once or twice per row of every nested field) are
 * interned instead of concatenated anew for every row. The strings are the same either way (JS
 * cannot tell a string's identity), so this checks that the keys stay exactly the unpatched ones,
 * past the tables' bound too, and that the installed builds still carry the tables: an upgrade
 * that drops the patch fails here (patch-package also refuses to apply it to another version).
 */
type Link = { prev: Link | undefined; key: string | number };
interface LoaderMap {
  responsePath(path: Link | undefined): string;
  cacheKey(type: string, path: Link | undefined): string;
  setRowMappings(ctx: object, info: { path: Link | undefined }, mappings: object): void;
  getLoaderMapping(ctx: object, path: Link | undefined, type: string, row: object): unknown;
}
const files = {
  esm: '../node_modules/@pothos/selection-mapper/esm/loader-map.js',
  cjs: '../node_modules/@pothos/selection-mapper/lib/loader-map.js',
};

/** The unpatched definition: string keys joined by `.`, list indices dropped. */
function reference(path: Link | undefined): string {
  const keys: string[] = [];
  for (let link = path; link; link = link.prev)
    if (typeof link.key === 'string') keys.unshift(link.key);
  return keys.join('.');
}

const pathOf = (...keys: (string | number)[]) =>
  keys.reduce<Link | undefined>((prev, key) => ({ prev, key }), undefined);

describe('selection-mapper response-path keys (patched)', () => {
  for (const [build, file] of Object.entries(files)) {
    it(`${build}: the same keys as before, for every row's own links and past the bound`, async () => {
      const map = (await import(/* @vite-ignore */ file)) as LoaderMap;
      // Two rows of one list: links of their own, the same key.
      const rowA = pathOf('tenants', 'edges', 0, 'node', 'apiKeys');
      const rowB = pathOf('tenants', 'edges', 1, 'node', 'apiKeys');
      expect(map.responsePath(rowA)).toBe('tenants.edges.node.apiKeys');
      expect(map.responsePath(rowB)).toBe('tenants.edges.node.apiKeys');
      expect(map.cacheKey('Tenant', rowB)).toBe('Tenant@tenants.edges.node.apiKeys');
      expect(map.responsePath(undefined)).toBe('');
      expect(map.responsePath(pathOf(0, 1))).toBe('');
      expect(map.cacheKey('Query', pathOf('me'))).toBe('Query@me');
      // More distinct aliases than the tables hold: each still answers right.
      for (let i = 0; i < 25_000; i++) {
        const path = pathOf('tenants', `alias${i}`, i % 3, `f${i % 7}`);
        expect(map.cacheKey(`T${i % 5}`, path)).toBe(`T${i % 5}@${reference(path)}`);
      }
      expect(map.responsePath(rowA)).toBe(reference(rowA));
    });

    it(`${build}: a scope finds a descendant's mapping by the key relative to it`, async () => {
      const map = (await import(/* @vite-ignore */ file)) as LoaderMap;
      const ctx = {};
      const mapping = { nested: {} };
      const connection = pathOf('tenants');
      map.setRowMappings(ctx, { path: connection }, { 'Tenant@edges.node.apiKeys': mapping });
      // The rows' links hang beneath the connection's own link, as in an execution.
      const edges: Link = { prev: connection, key: 'edges' };
      for (const row of [0, 1, 2]) {
        const node: Link = { prev: { prev: edges, key: row }, key: 'node' };
        const path: Link = { prev: node, key: 'apiKeys' };
        expect(map.getLoaderMapping(ctx, path, 'Tenant', {})).toBe(mapping);
        expect(map.getLoaderMapping(ctx, path, 'ApiKey', {})).toBeNull();
      }
    });

    it(`${build}: stays bounded when a client invents aliases under few prefixes`, () => {
      // 100 prefixes x 2,000 aliases, each interned three ways: unbounded, the tables would keep
      // 600,000 strings (tens of MB); bounded, at most 10,000 each.
      const script = `
        const map = ${build === 'esm' ? 'await import' : 'require'}(${JSON.stringify(fileURLToPath(new URL(file, import.meta.url)))});
        const heap = () => { gc(); gc(); return process.memoryUsage().heapUsed; };
        const before = heap();
        for (let p = 0; p < 100; p++)
          for (let a = 0; a < 2000; a++)
            map.cacheKey('T' + p, { prev: { prev: undefined, key: 'p' + p }, key: 'alias' + a });
        console.log(heap() - before);`;
      const args = [
        '--expose-gc',
        ...(build === 'esm' ? ['--input-type=module'] : []),
        '-e',
        script,
      ];
      const grown = Number(execFileSync(process.execPath, args, { encoding: 'utf8' }).trim());
      expect(grown).toBeLessThan(8 * 1024 * 1024);
    });

    it(`${build}: the installed build carries the interned tables`, () => {
      const source = readFileSync(new URL(file, import.meta.url), 'utf8');
      expect(source).toMatch(/const INTERNED_MAX = \d+;/);
      expect(source).toContain('interned(typedKeys, responsePath(path), type, typedKey)');
      expect(source).toContain('interned(relativeKeys, key, responsePath(ancestor), relativeKey)');
    });
  }
});
