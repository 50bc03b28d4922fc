import type { Database } from '../db/client.ts';
import { sendJson } from './respond.ts';
import type { Route } from './server.ts';

/** /healthz: the process answers. /readyz: it can reach its database. */
export function healthRoutes(database: Database): Route[] {
  return [
    { path: '/healthz', handler: (_req, res) => sendJson(res, 200, { status: 'ok' }) },
    {
      path: '/readyz',
      handler: async (_req, res) => {
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
