import type { ServerResponse } from 'node:http';
import { reportFailure } from '../lib/failures.ts';
import type { Logger } from '../lib/logger.ts';

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(payload);
}

/** The REST error shape: {"error": "<code>", "message": "..."}. */
export function sendError(
  res: ServerResponse,
  status: number,
  error: string,
  message: string,
  headers?: Record<string, string>,
): void {
  sendJson(res, status, { error, message }, headers);
}

/** 503 `unavailable` with Retry-After: the same shape on every REST route and /auth/verify. */
export function sendUnavailable(res: ServerResponse, message: string, retryAfterSeconds = 1): void {
  sendError(res, 503, 'unavailable', message, { 'retry-after': String(retryAfterSeconds) });
}

/**
 * The last catch of the HTTP server: an unusable database answers 503 (logged as a warning),
 * anything else 500 with the requestId of its error log line.
 */
export function sendUnhandled(
  res: ServerResponse,
  logger: Logger,
  err: unknown,
  where: Record<string, unknown>,
  requestId?: string,
): void {
  const failure = reportFailure(logger, err, where, requestId);
  if (res.headersSent) {
    res.destroy();
  } else if (failure.kind === 'unavailable') {
    sendUnavailable(res, failure.error.message, failure.error.retryAfterSeconds);
  } else {
    sendJson(res, 500, {
      error: 'internal',
      message: 'Unexpected error.',
      requestId: failure.requestId,
    });
  }
}
