import { readFileSync } from 'node:fs';
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

    it(`${build}: the installed build carries the interned tables`, () => {
      const source = readFileSync(new URL(file, import.meta.url), 'utf8');
      expect(source).toMatch(/const INTERNED_MAX = \d+;/);
      expect(source).toContain('interned(typedKeys, responsePath(path), type, typedKey)');
      expect(source).toContain('interned(relativeKeys, key, responsePath(ancestor), relativeKey)');
    });
  }
});
