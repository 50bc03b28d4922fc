import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CounterSeries, HistogramSeries } from '../lib/fast-metrics.ts';
import type { Metrics } from '../lib/metrics.ts';

/**
 * Request count and latency per door, route template, method and status. The label is a route
 * template, never the raw path (IDs would make a series per tenant): the server labels a request
 * with its route (`/ui/*` for a prefix), the REST router refines that to its own template, and
 * anything unmatched is `unmatched`.
 */

const LABEL = Symbol('xscaler.route');
const UNMATCHED = { door: 'none', route: 'unmatched' };
/** Methods outside these (already refused by the server) share one label value. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export interface RouteLabel {
  door: string;
  route: string;
}

type Labelled = ServerResponse & { [LABEL]?: RouteLabel };

/** Names the route a response belongs to (the last call wins: the most specific router). */
export function labelRoute(res: ServerResponse, label: RouteLabel): void {
  (res as Labelled)[LABEL] = label;
}

/** The label of a route registered by path: a prefix reads `/ui/*`. */
export function routeLabel(door: string, path: string): RouteLabel {
  return { door, route: path.endsWith('/') && path !== '/' ? `${path}*` : path };
}

interface Series {
  count: CounterSeries;
  duration: HistogramSeries;
}

export type RequestObserver = (req: IncomingMessage, res: ServerResponse) => void;

/** Call per request before its handler: observes the answer once it is written. */
export function requestMetrics(metrics: Metrics): RequestObserver {
  // One series pair per label set: the per-request cost is a Map lookup and two additions.
  const series = new Map<string, Series>();
  const seriesOf = (door: string, route: string, method: string, status: string): Series => {
    const key = `${door}\n${route}\n${method}\n${status}`;
    let found = series.get(key);
    if (!found) {
      found = {
        count: metrics.httpRequests.of(door, route, method, status),
        duration: metrics.httpDuration.of(door, route, method),
      };
      series.set(key, found);
    }
    return found;
  };
  return (req, res) => {
    const started = performance.now();
    res.once('finish', () => {
      const { door, route } = (res as Labelled)[LABEL] ?? UNMATCHED;
      const method = METHODS.has(req.method!) ? req.method! : 'OTHER';
      const s = seriesOf(door, route, method, String(res.statusCode));
      s.count.value++;
      metrics.httpDuration.observe(s.duration, (performance.now() - started) / 1000);
    });
  };
}
