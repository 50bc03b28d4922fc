import type { z } from 'zod';
import { ValidationError } from './errors.ts';

/** Path to the first string (or key) holding NUL: Postgres text cannot store it, so it fails here. */
function nulPath(value: unknown, path: (string | number)[] = []): (string | number)[] | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = nulPath(item, [...path, i]);
      if (found) return found;
    }
  } else if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    for (const [key, item] of Object.entries(value)) {
      const found = key.includes('\u0000') ? [...path, key] : nulPath(item, [...path, key]);
      if (found) return found;
    }
  }
  return null;
}

/** Parses input with a zod schema; the first problem becomes a ValidationError naming the field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const field = issue.path.join('.') || 'input';
    throw new ValidationError(field, `${field}: ${issue.message}`);
  }
  // After the schema, so fields with their own rule (display names) keep their message.
  const nul = nulPath(input);
  if (nul) {
    const field = nul.join('.') || 'input';
    throw new ValidationError(field, `${field}: must not contain NUL characters`);
  }
  return result.data;
}
