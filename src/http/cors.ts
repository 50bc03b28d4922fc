import type { IncomingMessage, ServerResponse } from 'node:http';

/** What a cross-origin browser client may send to an allowed door (urql/fetch send no more). */
const ALLOWED_METHODS = 'GET, POST';
const ALLOWED_HEADERS = 'authorization, content-type, accept';
const PREFLIGHT_MAX_AGE_S = '600';

/**
 * `scheme://host[:port]` exactly as a browser sends it in `Origin` (lower case, no path, no
 * trailing slash); throws naming the entry otherwise. `*` and `null` are refused: an allow-list
 * is the point, and `null` is what sandboxed frames and file: pages send.
 */
export function parseCorsOrigins(list: string): string[] {
  const origins: string[] = [];
  for (const entry of list.split(',').map((s) => s.trim())) {
    if (entry === '') continue;
    let url: URL | undefined;
    try {
      url = new URL(entry);
    } catch {
      url = undefined;
    }
    if (!url || !/^https?:$/.test(url.protocol) || url.origin !== entry) {
      throw new Error(
        `${JSON.stringify(entry)} is not an origin: write scheme://host[:port], e.g. https://app.example.com (no path, no trailing slash, lower case)`,
      );
    }
    origins.push(entry);
  }
  return origins;
}

export interface CorsPolicy {
  /**
   * Adds the CORS headers an allowed Origin gets; answers a preflight itself (204 for an
   * allowed origin, 403 for any other). True when the request has been answered.
   */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
}

/**
 * Off unless origins are listed: no Access-Control-Allow-Origin for any origin, so browsers
 * on other sites cannot read answers. Never `Allow-Credentials`: the API authenticates with an
 * Authorization header, and cookies stay same-origin.
 */
export function corsPolicy(allowed: readonly string[]): CorsPolicy {
  const origins = new Set(allowed);
  return {
    handle(req, res) {
      const origin = req.headers.origin;
      if (origin === undefined) return false;
      const isPreflight =
        req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
      // Answers differ by Origin once any origin is allowed: caches must keep them apart.
      if (origins.size > 0) res.setHeader('vary', 'Origin');
      if (!origins.has(origin)) {
        if (!isPreflight) return false; // answered as usual; the browser withholds it
        const message = `Origin ${JSON.stringify(origin.slice(0, 200))} may not call this API from a browser: CORS_ORIGINS lists the origins that may`;
        const body = JSON.stringify({
          errors: [{ message, extensions: { code: 'CORS_ORIGIN_NOT_ALLOWED' } }],
        });
        res.writeHead(403, {
          'content-type': 'application/json; charset=utf-8',
          'content-length': Buffer.byteLength(body),
        });
        res.end(body);
        return true;
      }
      res.setHeader('access-control-allow-origin', origin);
      if (!isPreflight) return false;
      res.writeHead(204, {
        'access-control-allow-methods': ALLOWED_METHODS,
        'access-control-allow-headers': ALLOWED_HEADERS,
        'access-control-max-age': PREFLIGHT_MAX_AGE_S,
        'content-length': '0',
      });
      res.end();
      return true;
    },
  };
}
