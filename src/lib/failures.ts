import { randomUUID } from 'node:crypto';
import { asServiceUnavailable, describeError } from '../db/errors.ts';
import type { ServiceUnavailableError } from './errors.ts';
import type { Logger } from './logger.ts';

/** What a door answers for an error no service turned into an expected failure. */
export type Failure =
  | { kind: 'unavailable'; error: ServiceUnavailableError }
  | { kind: 'unexpected'; requestId: string };

/** One warning per second at most while the database is down; the rest are counted. */
const WARN_EVERY_MS = 1000;
const warnings = new WeakMap<Logger, { lastAt: number; repeated: number }>();

/**
 * Sorts and logs, once, an error that reached a door: a database that cannot serve now is a
 * warning ("database unavailable", no stack: not a bug), anything else is a bug, logged at
 * error level under a requestId that the client sees too: the request's own (X-Request-Id),
 * or a fresh one outside any request. Never the statement's parameters.
 */
export function reportFailure(
  logger: Logger,
  err: unknown,
  where: Record<string, unknown> = {},
  requestId?: string,
): Failure {
  const unavailable = asServiceUnavailable(err);
  if (unavailable) {
    // A ServiceUnavailableError a service threw itself (a full queue) was its own decision.
    if (unavailable === err) return { kind: 'unavailable', error: unavailable };
    const now = Date.now();
    const state = warnings.get(logger) ?? { lastAt: -Infinity, repeated: 0 };
    warnings.set(logger, state);
    if (now - state.lastAt < WARN_EVERY_MS) {
      state.repeated++;
    } else {
      logger.warn(
        {
          ...(requestId ? { requestId } : {}),
          ...where,
          ...describeError(err, { stack: false }),
          ...(state.repeated ? { repeated: state.repeated } : {}),
        },
        'database unavailable',
      );
      state.lastAt = now;
      state.repeated = 0;
    }
    return { kind: 'unavailable', error: unavailable };
  }
  const id = requestId ?? randomUUID();
  logger.error({ requestId: id, ...where, ...describeError(err) }, 'unexpected error');
  return { kind: 'unexpected', requestId: id };
}
