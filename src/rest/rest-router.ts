import type { IncomingMessage } from 'node:http';
import type { z } from 'zod';
import { labelRoute, routeLabel } from '../http/request-metrics.ts';
import { sendJson } from '../http/respond.ts';
import type { Handler } from '../http/server.ts';
import type { Session } from '../modules/auth/session.ts';
import { readJsonBody, readRawBody } from './body.ts';
import { HttpError, sendFailure } from './errors.ts';
import { noFields, parseWire, queryObject } from './wire.ts';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RouteContext<B, Q> {
  req: IncomingMessage;
  params: Record<string, string>;
  body: B;
  query: Q;
}

interface RouteSpec<B extends z.ZodType, Q extends z.ZodType> {
  method: Method;
  /** OpenAPI style: /tenants/{id}/keys */
  path: string;
  summary: string;
  tag: string;
  body?: B;
  query?: Q;
  /** Success status, 200 unless given. */
  status?: number;
  /** The success body, for /openapi.json (presenters are typed against it). */
  response: z.ZodType;
  /** Error statuses beyond the common ones (400, 404, 405; 401/403 with auth; 413/415 with a body). */
  errors?: number[];
  /** The handler gets the body's bytes (a Buffer) unparsed: for signatures over the raw body. */
  rawBody?: true;
}

interface AuthedRoute<B extends z.ZodType, Q extends z.ZodType> extends RouteSpec<B, Q> {
  auth: true;
  handle(c: RouteContext<z.output<B>, z.output<Q>> & { session: Session }): Promise<unknown>;
}

interface PublicRoute<B extends z.ZodType, Q extends z.ZodType> extends RouteSpec<B, Q> {
  auth: false;
  handle(c: RouteContext<z.output<B>, z.output<Q>>): Promise<unknown>;
}

// biome-ignore lint/suspicious/noExplicitAny: the table holds routes of every body and query type
export type RestRoute = AuthedRoute<any, any> | PublicRoute<any, any>;

/** Typed at the definition; erased in the table. */
export function defineRoute<
  B extends z.ZodType = typeof noFields,
  Q extends z.ZodType = typeof noFields,
>(route: AuthedRoute<B, Q> | PublicRoute<B, Q>): RestRoute {
  return route as RestRoute;
}

/** Route parameters longer than this, or with control characters, cannot name anything. */
const MAX_PARAM_LENGTH = 200;

/** Segments of the route's path, `{name}` for a parameter; null when the path does not fit. */
function matchPath(pattern: string[], segments: string[]): Record<string, string> | null {
  if (pattern.length !== segments.length) return null;
  const params: Record<string, string> = {};
  for (const [i, part] of pattern.entries()) {
    const segment = segments[i]!;
    if (part.startsWith('{')) {
      if (segment === '') return null;
      params[part.slice(1, -1)] = segment;
    } else if (part !== segment) {
      return null;
    }
  }
  return params;
}

function decodeParams(raw: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(value);
    } catch {
      throw new HttpError(404, 'not_found', `No ${name} ${JSON.stringify(value.slice(0, 80))}`);
    }
    // Postgres text cannot hold NUL; nothing we store has control characters or is this long.
    if (decoded.length > MAX_PARAM_LENGTH || /\p{Cc}/u.test(decoded)) {
      throw new HttpError(404, 'not_found', `No ${name} ${JSON.stringify(decoded.slice(0, 80))}`);
    }
    out[name] = decoded;
  }
  return out;
}

/**
 * One handler for the whole table: path (404), method (405 + Allow), bearer session (401),
 * query and body (400/413/415), then the route; domain errors become their status.
 */
export function createRestHandler(
  routes: RestRoute[],
  authenticate: (req: IncomingMessage) => Promise<Session>,
): Handler {
  const compiled = routes.map((route) => ({
    route,
    pattern: route.path.split('/'),
    label: routeLabel('rest', route.path),
  }));
  const unmatched = routeLabel('rest', 'unmatched');
  return async (req, res, url) => {
    try {
      const segments = url.pathname.split('/');
      const fitting = compiled
        .map(({ route, pattern, label }) => ({
          route,
          label,
          params: matchPath(pattern, segments),
        }))
        .filter((m) => m.params !== null);
      // The most literal path wins: /users/me shadows /users/{id}.
      const fewest = Math.min(...fitting.map((m) => Object.keys(m.params!).length));
      const matches = fitting.filter((m) => Object.keys(m.params!).length === fewest);
      // The route label of logs and metrics: this template, never the path (IDs would explode
      // the series and fill the log with tenant IDs).
      labelRoute(res, matches[0]?.label ?? unmatched);
      if (matches.length === 0) {
        throw new HttpError(404, 'not_found', `No route for ${req.method} ${url.pathname}`);
      }
      const match = matches.find((m) => m.route.method === req.method);
      if (!match) {
        const allow = [...new Set(matches.map((m) => m.route.method))].sort().join(', ');
        throw new HttpError(
          405,
          'method_not_allowed',
          `${req.method} is not allowed on ${url.pathname}; use ${allow}`,
          { allow },
        );
      }
      const { route } = match;
      const params = decodeParams(match.params!);
      const session = route.auth ? await authenticate(req) : undefined;
      const query = parseWire(route.query ?? noFields, queryObject(url), 'query');
      let body: unknown;
      if (route.rawBody) {
        body = await readRawBody(req);
      } else {
        const raw = await readJsonBody(req);
        body = parseWire(route.body ?? noFields, raw === undefined ? {} : raw, 'body');
      }
      const context = { req, params, body, query, session: session! };
      const result = await route.handle(context);
      sendJson(res, route.status ?? 200, result);
    } catch (err) {
      sendFailure(res, err);
    }
  };
}
