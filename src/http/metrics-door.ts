import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import type { Logger } from '../lib/logger.ts';
import { sendError } from './respond.ts';
import type { Route } from './server.ts';

/** The text exposition format prom-client writes. */
const CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

/** GET /metrics: never behind a token (keep it private with METRICS_PORT or the network). */
export function metricsHandler(
  scrape: () => Promise<string>,
  logger: Logger,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendError(
        res,
        405,
        'method_not_allowed',
        `${req.method} is not allowed on /metrics; use GET`,
        {
          allow: 'GET, HEAD',
        },
      );
      return;
    }
    let text: string;
    try {
      text = await scrape();
    } catch (err) {
      // A worker that did not answer in time: Prometheus marks the target down and retries.
      logger.warn({ error: (err as Error).message }, 'metrics scrape failed');
      sendError(res, 503, 'unavailable', 'Metrics are temporarily unavailable; retry shortly');
      return;
    }
    res.writeHead(200, {
      'content-type': CONTENT_TYPE,
      'content-length': Buffer.byteLength(text),
      'cache-control': 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : text);
  };
}

export function metricsRoute(scrape: () => Promise<string>, logger: Logger): Route {
  return { path: '/metrics', door: 'metrics', handler: metricsHandler(scrape, logger) };
}

/** METRICS_PORT: a listener of its own serving /metrics only. */
export interface MetricsListener {
  url: string;
  close(): Promise<void>;
}

export async function listenForMetrics(
  port: number,
  host: string,
  scrape: () => Promise<string>,
  logger: Logger,
): Promise<MetricsListener> {
  const handler = metricsHandler(scrape, logger);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      sendError(res, 404, 'not_found', 'Only /metrics is served on this port');
      return;
    }
    void handler(req, res);
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
