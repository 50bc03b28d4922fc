import { sendError } from '../../http/respond.ts';
import type { Route } from '../../http/server.ts';
import { isScope } from '../api-keys/scopes.ts';
import { parseAuthorization } from './credentials.ts';
import type { Verdict, VerifyService } from './verify.service.ts';

const UNAUTHORIZED_HEADERS = {
  'www-authenticate': 'Basic realm="xscaler", Bearer realm="xscaler"',
};

/**
 * GET /auth/verify for nginx auth_request, Traefik forwardAuth and Envoy ext_authz (HTTP mode,
 * which appends the original path: /auth/verify/...). A plain handler: no GraphQL on this path.
 * The required scope comes from ?scope= or the X-Required-Scope header.
 */
export function verifyRoutes(verify: VerifyService): Route[] {
  const handler: Route['handler'] = async (req, res, url) => {
    const requested = url.searchParams.get('scope') ?? req.headers['x-required-scope'];
    const scope = Array.isArray(requested) ? requested[0] : (requested ?? undefined);
    if (scope !== undefined && !isScope(scope)) {
      sendError(res, 400, 'invalid_scope', `Unknown scope ${JSON.stringify(scope).slice(0, 80)}`);
      return;
    }
    let verdict: Verdict;
    try {
      verdict = await verify.verify(parseAuthorization(req.headers.authorization), scope);
    } catch {
      // Fail closed, and tell the proxy it is us, not the key.
      sendError(res, 503, 'unavailable', 'Key verification is temporarily unavailable');
      return;
    }
    if (verdict.status === 200) {
      // Kept lean: this answer is written for every ingestion request.
      res.writeHead(200, { 'x-scope-orgid': verdict.tenantId, 'content-length': 0 });
      res.end();
    } else if (verdict.status === 403) {
      sendError(res, 403, 'forbidden', `API key lacks the ${verdict.scope} scope`);
    } else {
      // Every cause (missing, malformed, unknown, revoked, expired, suspended) looks the same.
      sendError(res, 401, 'unauthorized', 'Invalid or missing API key', UNAUTHORIZED_HEADERS);
    }
  };
  return [
    { path: '/auth/verify', handler },
    { path: '/auth/verify/', handler },
  ];
}
