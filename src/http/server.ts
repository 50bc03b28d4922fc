import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../lib/logger.ts';
import { sendError } from './respond.ts';

/** Path and query of a request; the query is parsed only when a handler reads it. */
export class RequestTarget {
  private parsed: URLSearchParams | undefined;
  constructor(
    readonly pathname: string,
    private readonly query: string,
  ) {}
  get searchParams(): URLSearchParams {
    this.parsed ??= new URLSearchParams(this.query);
    return this.parsed;
  }

  /** Splits the request line's target without building a URL: cheap on the hot path. */
  static of(raw: string | undefined): RequestTarget | undefined {
    const target = raw ?? '/';
    if (!target.startsWith('/')) {
      try {
        const url = new URL(target);
        return new RequestTarget(url.pathname, url.search.slice(1));
      } catch {
        return undefined;
      }
    }
    const q = target.indexOf('?');
    return q < 0
      ? new RequestTarget(target, '')
      : new RequestTarget(target.slice(0, q), target.slice(q + 1));
  }
}

export type Handler = (
  req: IncomingMessage,
  res: ServerResponse,
  url: RequestTarget,
) => void | Promise<void>;

export interface Route {
  /** Exact path, or a prefix when it ends with '/' ('/' alone is exact: the root page). */
  path: string;
  handler: Handler;
}

export interface HttpServer {
  server: Server;
  /** Stops accepting, lets requests in flight finish (up to timeoutMs), then closes the rest. */
  close(timeoutMs?: number): Promise<void>;
}

/** One node:http server, five doors: each route is a plain handler chosen by path. */
export function createHttpServer(routes: Route[], logger: Logger): HttpServer {
  const isPrefix = (r: Route) => r.path.endsWith('/') && r.path !== '/';
  const exact = new Map(routes.filter((r) => !isPrefix(r)).map((r) => [r.path, r.handler]));
  const prefixes = routes.filter(isPrefix);
  let inFlight = 0;
  let drained: (() => void) | undefined;
  const done = () => {
    inFlight--;
    if (inFlight === 0) drained?.();
  };

  const server = createServer((req, res) => {
    const url = RequestTarget.of(req.url);
    if (!url) {
      sendError(res, 400, 'bad_request', 'Malformed request URL');
      return;
    }
    const handler =
      exact.get(url.pathname) ?? prefixes.find((r) => url.pathname.startsWith(r.path))?.handler;
    if (!handler) {
      sendError(res, 404, 'not_found', `No route for ${req.method} ${url.pathname}`);
      return;
    }
    inFlight++;
    res.once('close', done);
    const fail = (err: unknown) => {
      logger.error('unhandled error in http handler', { path: url.pathname, error: String(err) });
      if (!res.headersSent) sendError(res, 500, 'internal', 'Unexpected error.');
      else res.destroy();
    };
    try {
      const result = handler(req, res, url);
      if (result) result.catch(fail);
    } catch (err) {
      fail(err);
    }
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 30_000;

  return {
    server,
    async close(timeoutMs = 5_000) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (inFlight > 0) {
        await Promise.race([
          new Promise<void>((resolve) => {
            drained = resolve;
          }),
          new Promise((resolve) => setTimeout(resolve, timeoutMs).unref()),
        ]);
      }
      server.closeAllConnections();
      await closed;
    },
  };
}
