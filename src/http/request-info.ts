import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * A client's (or a proxy's) X-Request-Id is kept when it is short and plain: it goes into every
 * log line of the request and back into a response header. Anything else gets a fresh UUID.
 */
const ACCEPTED_REQUEST_ID = /^[A-Za-z0-9._:+=/-]{1,128}$/;

export function acceptedRequestId(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && ACCEPTED_REQUEST_ID.test(value) ? value : randomUUID();
}

/**
 * What the server knows of one request beyond its route (whose door and template are the
 * response's label, see request-metrics.ts): its ID, and GraphQL's operation name.
 */
export class RequestInfo {
  /** GraphQL: the operation's name, when the document gives it one. */
  operation: string | undefined = undefined;
  readonly startedAt = performance.now();
  constructor(readonly id: string) {}
}

/** A property of the request, not a WeakMap: cheaper on the hot path (/auth/verify). */
const INFO = Symbol('requestInfo');
type WithInfo = IncomingMessage & { [INFO]?: RequestInfo };

/**
 * The request's info, made on first use: by the HTTP server as a request arrives, or for a
 * WebSocket's upgrade request, whose ID then names every operation of that connection.
 */
export function requestInfo(req: IncomingMessage): RequestInfo {
  const holder = req as WithInfo;
  holder[INFO] ??= new RequestInfo(acceptedRequestId(req.headers['x-request-id']));
  return holder[INFO];
}
