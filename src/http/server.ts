import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Server as NetServer } from 'node:net';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import { accessLog } from './access-log.ts';
import { ConnectionTracker } from './connections.ts';
import { answerOddRequests, refuseOddMethod } from './odd-requests.ts';
import { requestInfo } from './request-info.ts';
import { labelRoute, type RequestObserver, routeLabel } from './request-metrics.ts';
import { sendError, sendUnhandled } from './respond.ts';

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
  /** The door, in logs and metrics; the path's first segment unless given ('/metrics': metrics). */
  door?: string;
}

export interface HttpServer {
  server: Server;
  /** True from beginDrain() on: readiness is off and responses close their connections. */
  readonly draining: boolean;
  /**
   * Starts a shutdown without refusing anything: every response from now on says
   * `Connection: close`, and keep-alive connections left idle are closed.
   */
  beginDrain(): void;
  /** Drains and stops the listener: new connections are refused; open ones are served. */
  closeListener(): void;
  /** Closes the connections left idle past the grace now, rather than at the next sweep. */
  sweepIdle(): void;
  /**
   * Closes the listener, lets requests in flight finish (up to timeoutMs), then closes the HTTP
   * connections left. WebSockets are not touched: their owner closes them.
   */
  close(timeoutMs?: number): Promise<void>;
}

/** How long a shutdown waits for requests in flight once the listener is closed. */
export const IN_FLIGHT_LIMIT_MS = 10_000;

/** One node:http server, five doors: each route is a plain handler chosen by path. */
export function createHttpServer(
  routes: Route[],
  logger: Logger,
  clock?: Clock,
  observe?: RequestObserver,
): HttpServer {
  const isPrefix = (r: Route) => r.path.endsWith('/') && r.path !== '/';
  // Door and route template per route, made once: logs and metrics share them.
  const labelled = routes.map((r) => ({
    ...r,
    label: routeLabel(r.door ?? (r.path.split('/')[1] || 'root'), r.path),
  }));
  const exact = new Map(labelled.filter((r) => !isPrefix(r)).map((r) => [r.path, r]));
  const prefixes = labelled.filter(isPrefix);
  const logAccess = accessLog(logger);

  const server = createServer((req, res) => {
    connections.track(req, res);
    const request = requestInfo(req);
    res.setHeader('x-request-id', request.id);
    observe?.(req, res);
    logAccess(res);
    if (refuseOddMethod(req, res)) return;
    const url = RequestTarget.of(req.url);
    if (!url) {
      sendError(res, 400, 'bad_request', 'Malformed request URL');
      return;
    }
    const route = exact.get(url.pathname) ?? prefixes.find((r) => url.pathname.startsWith(r.path));
    if (!route) {
      sendError(res, 404, 'not_found', `No route for ${req.method} ${url.pathname}`);
      return;
    }
    labelRoute(res, route.label);
    try {
      const result = route.handler(req, res, url);
      if (result) result.catch((err: unknown) => unhandled(res, err, url, request.id));
    } catch (err) {
      unhandled(res, err, url, request.id);
    }
  });
  // Made once, not per request: the hot path allocates no error handler it will rarely need.
  const unhandled = (res: ServerResponse, err: unknown, url: RequestTarget, requestId: string) =>
    sendUnhandled(res, logger, err, { path: url.pathname }, requestId);
  const connections = new ConnectionTracker(server, clock);
  answerOddRequests(server, connections);
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 30_000;

  const beginDrain = () => {
    if (connections.isDraining) return;
    connections.beginDrain();
    logger.info(
      {
        connections: connections.size,
        inFlight: connections.inFlight,
      },
      'draining: not ready, responses close their connections',
    );
  };

  const closeListener = () => {
    beginDrain();
    if (!server.listening) return;
    // net.Server's close only stops the listener. node:http's own close() also destroys every
    // connection without a request at once, resetting the next request a client is already
    // sending on a keep-alive connection: idle connections are retired by the drain instead.
    netServerClose.call(server);
    logger.info(
      {
        connections: connections.size,
        inFlight: connections.inFlight,
      },
      'listener closed; finishing requests in flight',
    );
  };

  return {
    server,
    get draining() {
      return connections.isDraining;
    },
    beginDrain,
    closeListener,
    sweepIdle: () => connections.sweep(),
    async close(timeoutMs = IN_FLIGHT_LIMIT_MS) {
      closeListener();
      if (!(await connections.settled(timeoutMs))) {
        logger.warn(
          {
            afterMs: timeoutMs,
            inFlight: connections.inFlight,
          },
          'shutdown: closing connections still busy',
        );
      }
      connections.destroyAll();
      // Nothing idle is left to reset now; this also stops node:http's timeout checks.
      server.close();
    },
  };
}

const netServerClose = NetServer.prototype.close;
