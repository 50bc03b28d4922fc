import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../lib/logger.ts';
import { sendError } from './respond.ts';

export type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void | Promise<void>;

export interface Route {
  /** Exact path, or a prefix when it ends with '/'. */
  path: string;
  handler: Handler;
}

/** One node:http server, four doors: each route is a plain handler chosen by path. */
export function createHttpServer(routes: Route[], logger: Logger): Server {
  const exact = new Map(
    routes.filter((r) => !r.path.endsWith('/')).map((r) => [r.path, r.handler]),
  );
  const prefixes = routes.filter((r) => r.path.endsWith('/'));
  const server = createServer(async (req, res) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://portal.local');
    } catch {
      sendError(res, 400, 'bad_request', 'Malformed request URL');
      return;
    }
    const handler =
      exact.get(url.pathname) ?? prefixes.find((r) => url.pathname.startsWith(r.path))?.handler;
    if (!handler) {
      sendError(res, 404, 'not_found', `No route for ${req.method} ${url.pathname}`);
      return;
    }
    try {
      await handler(req, res, url);
    } catch (err) {
      logger.error('unhandled error in http handler', { path: url.pathname, error: String(err) });
      if (!res.headersSent) sendError(res, 500, 'internal', 'Unexpected error.');
      else res.destroy();
    }
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 30_000;
  return server;
}
