import { createHash } from 'node:crypto';
import { ServiceUnavailableError } from '../lib/errors.ts';

/**
 * What the database drivers throw, sorted in one place: a database that cannot serve now
 * (lost, refusing, overloaded, too slow) becomes a ServiceUnavailableError, and any database
 * error can be described for a log line without the statement's parameters.
 *
 * drizzle wraps each failed statement in a DrizzleQueryError ("Failed query: ...\nparams: ..."):
 * its message and `params` hold emails and password hashes, so neither is ever logged.
 */

/** SQLSTATE classes and codes that say "not now" rather than "this statement is wrong". */
const UNAVAILABLE_SQLSTATE = [
  /^08(?!P01)/, // connection exception (08P01 protocol_violation is a malformed statement: ours)
  /^53/, // insufficient resources: 53300 too_many_connections, out of memory, disk full
  /^57P0[1-5]$/, // admin/crash shutdown, cannot connect now, database dropped, idle session timeout
  /^57014$/, // query_canceled: statement_timeout, or the pool deadline cancelling a queued query
  /^55P03$/, // lock_not_available (lock_timeout)
  /^58/, // system error (I/O)
];

/** postgres.js connection codes and Node socket errors. */
const UNAVAILABLE_DRIVER_CODES = new Set([
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECTION_CLOSED',
  'CONNECT_TIMEOUT',
  'POOL_TIMEOUT', // ours: see pool-deadline.ts
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** PGlite after close(), or its WebAssembly instance gone. */
const UNAVAILABLE_MESSAGES = [/^PGlite is closed/];

export const DATABASE_UNAVAILABLE_MESSAGE =
  'The database is temporarily unavailable; retry shortly';

interface ErrorLike {
  message?: unknown;
  code?: unknown;
  cause?: unknown;
  query?: unknown;
  params?: unknown;
}

/** The error and its causes, outermost first (bounded: causes can form a cycle). */
function chain(err: unknown): ErrorLike[] {
  const out: ErrorLike[] = [];
  let at: unknown = err;
  while (at && typeof at === 'object' && out.length < 6) {
    out.push(at as ErrorLike);
    at = (at as ErrorLike).cause;
  }
  return out;
}

function isUnavailableCause(e: ErrorLike): boolean {
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (code && UNAVAILABLE_DRIVER_CODES.has(code)) return true;
  if (code && /^[0-9A-Z]{5}$/.test(code) && UNAVAILABLE_SQLSTATE.some((re) => re.test(code))) {
    return true;
  }
  const message = typeof e.message === 'string' ? e.message : '';
  return UNAVAILABLE_MESSAGES.some((re) => re.test(message));
}

/** The unavailable answer for an error from a database that cannot serve now, else undefined. */
export function asServiceUnavailable(err: unknown): ServiceUnavailableError | undefined {
  if (err instanceof ServiceUnavailableError) return err;
  const causes = chain(err);
  if (!causes.some(isUnavailableCause)) return undefined;
  return new ServiceUnavailableError(DATABASE_UNAVAILABLE_MESSAGE, 1, { cause: err });
}

/** True when err came out of a database driver (has a SQLSTATE or a failed drizzle query). */
function failedQuery(err: unknown): { query: string; params: unknown[] } | undefined {
  for (const e of chain(err)) {
    if (typeof e.query === 'string' && Array.isArray(e.params)) {
      return { query: e.query, params: e.params };
    }
  }
  return undefined;
}

/** The driver's own error (PostgreSQL's message and SQLSTATE) under drizzle's wrapper. */
function innermost(err: unknown): ErrorLike | undefined {
  const causes = chain(err);
  return causes[causes.length - 1];
}

/** Strings of the statement's parameters, as they might be quoted back in a server message. */
function redact(message: string, params: unknown[]): string {
  let out = message;
  for (const p of params) {
    const text = typeof p === 'string' ? p : p instanceof Date ? null : JSON.stringify(p);
    if (text && text.length >= 3) out = out.split(text).join('[redacted]');
  }
  return out;
}

/** Stack frames only: the first lines repeat the message, which may quote parameters. */
function frames(err: unknown): string | undefined {
  const stack = err instanceof Error ? err.stack : undefined;
  return stack
    ?.split('\n')
    .filter((line) => line.startsWith('    at '))
    .join('\n');
}

/**
 * Log fields for any error, safe for the log: for a database error the SQLSTATE (or driver code),
 * PostgreSQL's message with parameter values cut out, and a fingerprint of the statement (its
 * first words and a hash of its text, which holds placeholders, never values). Never the
 * parameters, the DETAIL (which repeats a failing row), or drizzle's message.
 */
export function describeError(
  err: unknown,
  { stack = true }: { stack?: boolean } = {},
): Record<string, unknown> {
  const query = failedQuery(err);
  const inner = innermost(err);
  const code = typeof inner?.code === 'string' ? inner.code : undefined;
  if (!query && !code) {
    return { error: String(err), ...(stack ? { stack: frames(err) } : {}) };
  }
  const params = query?.params ?? [];
  const rawMessage = typeof inner?.message === 'string' ? inner.message : String(inner);
  const fields: Record<string, unknown> = {
    error: redact(rawMessage.startsWith('Failed query:') ? 'query failed' : rawMessage, params),
    ...(code ? { code } : {}),
    ...(stack ? { stack: frames(err) } : {}),
  };
  if (query) fields.query = fingerprint(query.query);
  return fields;
}

/** `insert into "users" ("id", ... #3f9a1c0b2d4e`: recognisable, and equal for equal statements. */
export function fingerprint(statement: string): string {
  const head = statement.replace(/\s+/g, ' ').trim().slice(0, 60);
  const hash = createHash('sha256').update(statement).digest('hex').slice(0, 12);
  return `${head}... #${hash}`;
}
