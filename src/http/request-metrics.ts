import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CounterSeries, HistogramSeries } from '../lib/fast-metrics.ts';
import type { Metrics } from '../lib/metrics.ts';

/**
 * Request count and latency per door, route template, method and status. The label is a route
 * template, never the raw path (IDs would make a series per tenant): the server labels a request
 * with its route (`/ui/*` for a prefix), the REST router refines that to its own template, and
 * anything unmatched is `unmatched`.
 *
 * Cheap on the hot path: labels are made once per route, each app finds a label's series by method
 * and status in its own cache, and a response gets its two slots at once (one shape change) and
 * a shared listener.
 */

const LABEL = Symbol('xscaler.route');
const STARTED = Symbol('xscaler.started');
/** Methods outside these (already refused by the server) share one label value. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

interface Series {
  count: CounterSeries;
  duration: HistogramSeries;
}

export interface RouteLabel {
  readonly door: string;
  readonly route: string;
}

const UNMATCHED: RouteLabel = { door: 'none', route: 'unmatched' };

type Observed = ServerResponse & { [LABEL]?: RouteLabel; [STARTED]?: number };

/** Names the route a response belongs to (the last call wins: the most specific router). */
export function labelRoute(res: ServerResponse, label: RouteLabel): void {
  (res as Observed)[LABEL] = label;
}

/** The door and route template of a response (for the metrics, and any access log). */
export function labelOf(res: ServerResponse): RouteLabel {
  return (res as Observed)[LABEL] ?? UNMATCHED;
}

/** The label of a route registered by path: a prefix reads `/ui/*`. Make it once per route. */
export function routeLabel(door: string, path: string): RouteLabel {
  return { door, route: path.endsWith('/') && path !== '/' ? `${path}*` : path };
}

export type RequestObserver = (req: IncomingMessage, res: ServerResponse) => void;

/** Call per request before its handler: observes the answer once it is written. */
export function requestMetrics(metrics: Metrics): RequestObserver {
  // Each route's series by method and status, made on first use. Kept per observer, not on the
  // label: a label can outlive its registry (the shared UNMATCHED, two apps in one process).
  const seriesByLabel = new WeakMap<RouteLabel, Map<string, Series>>();
  const seriesOf = (label: RouteLabel, method: string, status: number): Series => {
    let byKey = seriesByLabel.get(label);
    if (!byKey) {
      byKey = new Map();
      seriesByLabel.set(label, byKey);
    }
    const key = method + status;
    let found = byKey.get(key);
    if (!found) {
      found = {
        count: metrics.httpRequests.of(label.door, label.route, method, String(status)),
        duration: metrics.httpDuration.of(label.door, label.route, method),
      };
      byKey.set(key, found);
    }
    return found;
  };
  function onFinish(this: Observed) {
    const method = METHODS.has(this.req.method!) ? this.req.method! : 'OTHER';
    const s = seriesOf(this[LABEL]!, method, this.statusCode);
    s.count.value++;
    metrics.httpDuration.observe(s.duration, (performance.now() - this[STARTED]!) / 1000);
  }
  return (_req, res) => {
    const observed = res as Observed;
    observed[STARTED] = performance.now();
    observed[LABEL] = UNMATCHED;
    res.on('finish', onFinish);
  };
}
