import { GraphQLError } from 'graphql';
import { builder } from './builder.ts';

/** RFC 3339 in UTC, whole seconds, as the guide prints them: 2026-06-18T10:00:00Z. */
export function formatDateTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

export function parseDateTime(value: unknown): Date {
  if (typeof value !== 'string' || !RFC3339.test(value) || Number.isNaN(Date.parse(value))) {
    throw new GraphQLError('DateTime must be an RFC 3339 date-time such as 2026-06-18T10:00:00Z', {
      extensions: { code: 'BAD_USER_INPUT' },
    });
  }
  return new Date(value);
}

builder.scalarType('DateTime', {
  description: 'RFC 3339 date-time in UTC, e.g. 2026-06-18T10:00:00Z',
  serialize: (value) => formatDateTime(value instanceof Date ? value : new Date(String(value))),
  parseValue: parseDateTime,
});
