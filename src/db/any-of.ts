import { type Column, param, type SQL, sql } from 'drizzle-orm';

/**
 * `column = any($1::text[])`: one bound parameter however many values. `inArray` binds one per
 * value, and the wire protocol allows at most 65,535: a live feed with more distinct sessions
 * than that on one instance would fail every push. Text columns (our ids) only.
 */
export function anyOf(column: Column, values: readonly string[]): SQL {
  return sql`${column} = any(${param([...values])}::text[])`;
}

/** `anyOf` for a statement built once: the array is bound at each run as `name`. */
export function anyOfPlaceholder(column: Column, name: string): SQL {
  return sql`${column} = any(${sql.placeholder(name)}::text[])`;
}
