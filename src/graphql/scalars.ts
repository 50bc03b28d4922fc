import { GraphQLError } from 'graphql';
import { formatDateTime, isDateTime } from '../lib/datetime.ts';
import { builder } from './builder.ts';

export function parseDateTime(value: unknown): Date {
  if (!isDateTime(value)) {
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
