import { describe, expect, it } from 'vitest';

/**
 * patches/@pothos+plugin-drizzle+0.20.0.patch, utils/cursors.js: a connection's edges encode
 * their cursor only when it is read, and are instances of one class with the getter on its
 * prototype. Upstream encodes every edge's cursor at once; a literal with a getter instead cost
 * a closure and an accessor pair per edge, built by a runtime call. Both builds are checked: the
 * ESM one the portal loads, and the CommonJS one.
 */
type Wrap = (
  results: unknown[],
  args: Record<string, unknown>,
  limit: number,
  cursor: (value: unknown) => string,
) => { edges: { cursor: string; node: unknown }[]; pageInfo: Record<string, unknown> };
const builds = {
  esm: async () =>
    (await import(`${'../node_modules/@pothos/plugin-drizzle/esm/utils/cursors.js'}`))
      .wrapConnectionResult,
  cjs: async () =>
    (await import(`${'../node_modules/@pothos/plugin-drizzle/lib/utils/cursors.js'}`))
      .wrapConnectionResult,
} as Record<string, () => Promise<Wrap>>;

describe('plugin-drizzle connection edges (patched)', () => {
  for (const [build, load] of Object.entries(builds)) {
    it(`${build}: encodes a cursor only when read, from a getter on the edges' shared prototype`, async () => {
      const wrap = await load();
      const encoded: unknown[] = [];
      const encode = (value: unknown) => {
        encoded.push(value);
        return `cursor:${(value as { id: string }).id}`;
      };
      const rows = [{ id: 'a' }, { id: 'b' }, { id: 'c' }, { id: 'd' }];
      // Asked for 3 (limit 4 fetched): 'd' only says there is a next page.
      const connection = wrap(rows, { first: 3 }, 4, encode);
      expect(connection.edges.map((e) => e.node)).toEqual(rows.slice(0, 3));
      // pageInfo's two cursors, nothing else.
      expect(connection.pageInfo).toMatchObject({
        startCursor: 'cursor:a',
        endCursor: 'cursor:c',
        hasNextPage: true,
      });
      expect(encoded).toEqual([rows[0], rows[2]]);
      expect(connection.edges[1]!.cursor).toBe('cursor:b');
      const [first, second] = connection.edges;
      expect(Object.getOwnPropertyDescriptor(first, 'cursor')).toBeUndefined();
      expect(Object.getPrototypeOf(first)).toBe(Object.getPrototypeOf(second));
      expect(
        Object.getOwnPropertyDescriptor(Object.getPrototypeOf(first), 'cursor')?.get,
      ).toBeTypeOf('function');
    });
  }
});
