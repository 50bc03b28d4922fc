import { z } from 'zod';
import type { RequestTarget } from '../http/server.ts';
import { isDateTime, RFC3339_PATTERN } from '../lib/datetime.ts';
import { HttpError } from './errors.ts';

/**
 * Request schemas on the wire: snake_case, strict (unknown fields are refused), built from the
 * services' own field schemas so the rules exist once. The same objects generate /openapi.json.
 */

/** An RFC 3339 date-time string, parsed to a Date. */
export const dateTimeWire = z
  .string('must be an RFC 3339 date-time such as 2026-06-18T10:00:00Z')
  .regex(RFC3339_PATTERN, 'must be an RFC 3339 date-time such as 2026-06-18T10:00:00Z')
  .refine(isDateTime, 'must be a real date and time')
  .transform((s) => new Date(s))
  .meta({ format: 'date-time', examples: ['2026-06-18T10:00:00Z'] });

export const noFields = z.strictObject({});

/** Response timestamps: RFC 3339 UTC, whole seconds (formatDateTime). */
export const timestampResponse = z
  .string()
  .meta({ format: 'date-time', examples: ['2026-06-18T10:00:00Z'] });

/** Parses a body or query; the first problem becomes a 400 naming the field. */
export function parseWire<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: 'body' | 'query',
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = issue.path.map(String);
  let field = path.join('.') || where;
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    field = [...path, issue.keys[0]!].join('.');
    message = where === 'body' ? 'unknown field' : 'unknown query parameter';
  } else if (issue.code === 'invalid_type' && path.length === 0) {
    message = where === 'body' ? 'must be a JSON object' : message;
  }
  throw new HttpError(400, 'validation_error', `${field}: ${message}`, {}, { field });
}

/** Query parameters as an object; a parameter given twice is refused rather than guessed. */
export function queryObject(url: RequestTarget): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of url.searchParams) {
    if (Object.hasOwn(out, key)) {
      throw new HttpError(
        400,
        'validation_error',
        `${key}: must be given once`,
        {},
        { field: key },
      );
    }
    out[key] = value;
  }
  return out;
}
