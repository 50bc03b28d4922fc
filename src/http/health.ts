import type { Database } from '../db/client.ts';
import { sendJson } from './respond.ts';
import type { Route } from './server.ts';

/**
 * /healthz: the process answers (until it exits). /readyz: it takes new work: it can reach its
 * database and is not shutting down; from SIGTERM on it answers 503 `draining`, so a load
 * balancer stops sending while requests are still served.
 */
export function healthRoutes(database: Database, isDraining: () => boolean): Route[] {
  return [
    {
      path: '/healthz',
      door: 'health',
      handler: (_req, res) => sendJson(res, 200, { status: 'ok' }),
    },
    {
      path: '/readyz',
      door: 'health',
      handler: async (_req, res) => {
        if (isDraining()) {
          sendJson(res, 503, { status: 'draining', database: database.kind });
          return;
        }
        try {
          await database.ping();
          sendJson(res, 200, { status: 'ready', database: database.kind });
        } catch {
          sendJson(res, 503, { status: 'unavailable', database: database.kind });
        }
      },
    },
  ];
}
