import type { ServerResponse } from 'node:http';
import type { Logger } from '../lib/logger.ts';
import { requestInfo } from './request-info.ts';
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
 *
 * Make it once per server: each response gets the one shared listener (no closure per request),
 * and none at all when the level is above info, where no door's line would be written.
 */
export function accessLog(logger: Logger): (res: ServerResponse) => void {
  function onClose(this: ServerResponse) {
    const { door, route } = labelOf(this);
    const level = QUIET_DOORS.has(door) ? 'debug' : 'info';
    if (!logger.isLevelEnabled(level)) return;
    const req = this.req;
    const info = requestInfo(req);
    const finished = this.writableFinished;
    logger[level](
      {
        requestId: info.id,
        door,
        method: req.method,
        ...(door === 'none' ? {} : { route }),
        ...(info.operation ? { operation: info.operation } : {}),
        status: this.statusCode,
        ms: Math.round((performance.now() - info.startedAt) * 10) / 10,
        ...(finished ? {} : { aborted: true }),
      },
      finished ? 'request completed' : 'request aborted',
    );
  }
  // 'close' comes once per response: `on` spares `once`'s wrapper.
  return (res) => {
    if (logger.isLevelEnabled('info')) res.on('close', onClose);
  };
}
