import type { ServerResponse } from 'node:http';
import { sendJson } from '../http/respond.ts';
import {
  ConflictError,
  ForbiddenError,
  InvalidCredentialsError,
  NotFoundError,
  PlanLimitExceededError,
  RateLimitedError,
  ServiceUnavailableError,
  SessionExpiredError,
  UnauthenticatedError,
  ValidationError,
} from '../lib/errors.ts';

/** A failure the REST layer itself decides (transport, routing, rate limit). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** Request fields are snake_case; services name them in camelCase. */
export const toSnake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** The status chosen for a billing plan limit: 402, so scripts can tell it from other conflicts. */
export const PLAN_LIMIT_STATUS = 402;

/** Domain error -> status, code and body; anything else is unexpected and rethrown. */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof ValidationError) {
    const field = toSnake(err.field);
    const message = err.message.startsWith(`${err.field}:`)
      ? `${field}:${err.message.slice(err.field.length + 1)}`
      : err.message;
    return new HttpError(400, 'validation_error', message, {}, { field });
  }
  if (err instanceof InvalidCredentialsError) {
    return new HttpError(401, 'invalid_credentials', err.message);
  }
  if (err instanceof SessionExpiredError) return new HttpError(401, 'session_expired', err.message);
  if (err instanceof UnauthenticatedError) {
    return new HttpError(401, 'unauthenticated', err.message, {
      'www-authenticate': 'Bearer realm="xscaler"',
    });
  }
  if (err instanceof RateLimitedError) {
    return new HttpError(429, 'too_many_requests', err.message, {
      'retry-after': String(err.retryAfterSeconds),
    });
  }
  if (err instanceof ServiceUnavailableError) {
    return new HttpError(503, 'unavailable', err.message, {
      'retry-after': String(err.retryAfterSeconds),
    });
  }
  if (err instanceof ForbiddenError) return new HttpError(403, 'forbidden', err.message);
  if (err instanceof NotFoundError) return new HttpError(404, 'not_found', err.message);
  if (err instanceof ConflictError) return new HttpError(409, 'conflict', err.message);
  if (err instanceof PlanLimitExceededError) {
    return new HttpError(
      PLAN_LIMIT_STATUS,
      'plan_limit_exceeded',
      err.message,
      {},
      {
        plan: err.plan,
        limit: err.limit,
        max: err.max,
        used: err.used,
      },
    );
  }
  throw err;
}

/** Sends {"error", "message", ...details}; unexpected errors propagate to the server's 500. */
export function sendFailure(res: ServerResponse, err: unknown): void {
  const failure = toHttpError(err);
  sendJson(
    res,
    failure.status,
    { error: failure.code, message: failure.message, ...failure.extra },
    failure.headers,
  );
}
