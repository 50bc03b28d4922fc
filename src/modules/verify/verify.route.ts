import { clientAddress, rateLimitSubject, type TrustedProxies } from '../../http/client-address.ts';
import { requestInfo } from '../../http/request-info.ts';
import { sendError, sendUnavailable } from '../../http/respond.ts';
import type { Route } from '../../http/server.ts';
import { reportFailure } from '../../lib/failures.ts';
import type { Logger } from '../../lib/logger.ts';
import type { VerifyRecorder } from '../../lib/metrics.ts';
import { isScope } from '../api-keys/scopes.ts';
import { parseAuthorization } from './credentials.ts';
import type { Verdict, VerifyService } from './verify.service.ts';

const UNAUTHORIZED_HEADERS = {
  'www-authenticate': 'Basic realm="xscaler", Bearer realm="xscaler"',
};

/**
 * GET /auth/verify for nginx auth_request, Traefik forwardAuth and Envoy ext_authz (HTTP mode,
 * which appends the original path: /auth/verify/...). A plain handler: no GraphQL on this path.
 *
 * The required scope is the proxy's to say, never the client's: on /auth/verify it comes from
 * ?scope= (written in the proxy's config) or X-Required-Scope; on /auth/verify/<original path>
 * only from X-Required-Scope, because Envoy appends the client's own query there. No scope is
 * a 400: a proxy that forgets it must not let every live key through (fail closed).
 *
 * The source a limit on unknown keys counts is the client as the proxy reports it
 * (X-Forwarded-For from a peer in TRUSTED_PROXIES), IPv6 per /64.
 */
export function verifyRoutes(
  verify: VerifyService,
  trustedProxies: TrustedProxies,
  logger: Logger,
  recorder: VerifyRecorder,
): Route[] {
  const handler: Route['handler'] = async (req, res, url) => {
    const header = req.headers['x-required-scope'];
    const fromHeader = Array.isArray(header) ? header[0] : header;
    const scope =
      url.pathname === '/auth/verify' ? (url.searchParams.get('scope') ?? fromHeader) : fromHeader;
    if (scope === undefined || scope === '') {
      recorder.outcome('bad_request');
      sendError(
        res,
        400,
        'missing_scope',
        url.pathname === '/auth/verify'
          ? 'Say which scope the request needs: ?scope=metrics:write or an X-Required-Scope header'
          : "Say which scope the request needs in an X-Required-Scope header (the query of the original request is the client's, not the proxy's)",
      );
      return;
    }
    if (!isScope(scope)) {
      recorder.outcome('bad_request');
      sendError(res, 400, 'invalid_scope', `Unknown scope ${JSON.stringify(scope).slice(0, 80)}`);
      return;
    }
    let verdict: Verdict;
    try {
      verdict = await verify.verify(
        parseAuthorization(req.headers.authorization),
        scope,
        // Only worked out on a cache miss: a cached key costs nothing more.
        () => rateLimitSubject(clientAddress(req, trustedProxies)),
      );
    } catch (err) {
      // Fail closed, and tell the proxy it is us, not the key. A bug is logged as one (with a
      // requestId), a lost database as a warning.
      reportFailure(logger, err, { door: 'verify' }, requestInfo(req).id);
      recorder.outcome('unavailable');
      sendUnavailable(res, 'Key verification is temporarily unavailable; retry shortly');
      return;
    }
    recorder.outcome(verdict.outcome);
    if (verdict.status === 200) {
      // Kept lean: this answer is written for every ingestion request.
      res.writeHead(200, { 'x-scope-orgid': verdict.tenantId, 'content-length': 0 });
      res.end();
    } else if (verdict.status === 429) {
      sendError(
        res,
        429,
        'too_many_requests',
        `Too many unknown API keys from this address; retry in ${verdict.retryAfterSeconds} s`,
        { 'retry-after': String(verdict.retryAfterSeconds) },
      );
    } else if (verdict.status === 403) {
      sendError(res, 403, 'forbidden', `API key lacks the ${verdict.scope} scope`);
    } else {
      // Every cause (missing, malformed, unknown, revoked, expired, suspended) looks the same.
      sendError(res, 401, 'unauthorized', 'Invalid or missing API key', UNAUTHORIZED_HEADERS);
    }
  };
  return [
    { path: '/auth/verify', door: 'verify', handler },
    { path: '/auth/verify/', door: 'verify', handler },
  ];
}
