import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../lib/logger.ts';
import type { RequestInfo } from './request-info.ts';
import { labelOf } from './request-metrics.ts';

/**
 * Doors a machine calls for every ingestion request, scrape or probe: at debug, so a busy
 * proxy, Prometheus or a load balancer does not flood the log.
 */
const QUIET_DOORS = new Set(['verify', 'metrics', 'health']);

/**
 * One line per request once its response is done (or the client went away): door, route
 * template, method, status, duration and request ID. Headers, the query and bodies are never
 * part of it.
 */
export function logAccess(
  logger: Logger,
  req: IncomingMessage,
  res: ServerResponse,
  info: RequestInfo,
): void {
  res.once('close', () => {
    const { door, route } = labelOf(res);
    const level = QUIET_DOORS.has(door) ? 'debug' : 'info';
    if (!logger.isLevelEnabled(level)) return;
    const finished = res.writableFinished;
    logger[level](
      {
        requestId: info.id,
        door,
        method: req.method,
        ...(door === 'none' ? {} : { route }),
        ...(info.operation ? { operation: info.operation } : {}),
        status: res.statusCode,
        ms: Math.round((performance.now() - info.startedAt) * 10) / 10,
        ...(finished ? {} : { aborted: true }),
      },
      finished ? 'request completed' : 'request aborted',
    );
  });
}
