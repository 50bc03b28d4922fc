import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

/**
 * patches/drizzle-orm+1.0.0-rc.4.patch, the two per-row ones (the relational query cache has its
 * own test, query-sql-cache.test.ts): `is()` walks a class's prototype chain once per class, and
 * `mapRelationalRow` builds a selection's decoders once, not once per parent row of a nested
 * relation. Both builds are checked: the ESM one the portal loads, and the CommonJS one.
 */
type Drizzle = {
  is(value: unknown, type: unknown): boolean;
  entityKind: symbol;
  sql: (strings: TemplateStringsArray) => unknown;
};
type Relations = {
  mapRelationalRow(rows: unknown[], isOne: boolean, selection: unknown[]): unknown[];
};
const require = createRequire(import.meta.url);
const builds = {
  esm: async () => ({
    drizzle: (await import('drizzle-orm')) as unknown as Drizzle,
    relations: (await import(`${'drizzle-orm/relations'}`)) as Relations,
  }),
  cjs: async () => ({
    drizzle: require('drizzle-orm') as Drizzle,
    relations: require('drizzle-orm/relations') as Relations,
  }),
};

/** An array whose `map` calls are counted (mapRelationalRow maps its selection to decoders). */
class CountedSelection<T> extends Array<T> {
  maps = 0;
  override map<U>(fn: (value: T, index: number, array: T[]) => U): U[] {
    this.maps++;
    return Array.from(this, (value, index) => fn(value, index, this));
  }
}

describe('drizzle per-row patches', () => {
  for (const [build, load] of Object.entries(builds)) {
    it(`${build}: is() reads a class's entity kinds once, however often it is asked`, async () => {
      const { drizzle } = await load();
      const kind = `TestEntity-${build}`;
      let reads = 0;
      // Two copies of one entity class (as two installs of drizzle would have): not instanceof,
      // so is() must look at the other copy's kind.
      class Original {
        static [drizzle.entityKind] = kind;
        readonly copy = false;
      }
      class Copy {
        readonly copy = true;
        static get [drizzle.entityKind]() {
          reads++;
          return kind;
        }
      }
      const value = new Copy();
      for (let i = 0; i < 10; i++) expect(drizzle.is(value, Original)).toBe(true);
      expect(drizzle.is({}, Original)).toBe(false);
      expect(reads).toBe(1);
    });

    it(`${build}: mapRelationalRow builds a selection's decoders once, and still decodes`, async () => {
      const { drizzle, relations } = await load();
      const field = drizzle.sql`1`;
      const selection = new CountedSelection({ key: 'n', field, codec: (v: unknown) => Number(v) });
      for (let row = 0; row < 5; row++) {
        const rows = relations.mapRelationalRow([{ n: String(row) }], false, selection);
        expect(rows).toEqual([{ n: row }]);
      }
      expect(selection.maps).toBe(1);
    });
  }
});
