import type { IncomingMessage, ServerResponse } from 'node:http';
import { clientAddress, type TrustedProxies } from '../../http/client-address.ts';
import { sendJson } from '../../http/respond.ts';
import type { Route } from '../../http/server.ts';
import type { Clock } from '../../lib/clock.ts';
import { formatDateTime } from '../../lib/datetime.ts';
import { SessionExpiredError } from '../../lib/errors.ts';
import { readJsonBody } from '../../rest/body.ts';
import { HttpError, sendFailure } from '../../rest/errors.ts';
import type { AuthResult, AuthService } from './auth.service.ts';

/**
 * The browser's side of a session: the refresh token lives in an HttpOnly cookie that script
 * cannot read, scoped to these paths; the access token lives only in the page's memory. A
 * reload asks /auth/session/refresh for a new access token.
 */
const COOKIE = 'xs_refresh';
const COOKIE_PATH = '/auth/session';

/** These routes act on a cookie, so only the portal's own pages may call them (CSRF). */
function requireSameOrigin(req: IncomingMessage): { secure: boolean } {
  const origin = req.headers.origin;
  let parsed: URL | undefined;
  try {
    parsed = origin ? new URL(origin) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!parsed || parsed.host !== req.headers.host) {
    throw new HttpError(
      403,
      'forbidden',
      'Cookie sessions are for the portal UI: send Origin matching this host; API clients use the refreshToken mutation',
    );
  }
  return { secure: parsed.protocol === 'https:' };
}

function readCookie(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function cookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  return [
    `${COOKIE}=${value}`,
    `Path=${COOKIE_PATH}`,
    `Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`,
    'HttpOnly',
    'SameSite=Strict',
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}

const present = (r: AuthResult) => ({
  token: r.token,
  expires_at: formatDateTime(r.expiresAt),
  session_expires_at: formatDateTime(r.sessionExpiresAt),
  user: { id: r.user.id, email: r.user.email, role: r.user.role },
});

type CookieAction = (req: IncomingMessage, res: ServerResponse, secure: boolean) => Promise<void>;

/** Method dispatch, the same-origin check, and the REST error shape for one path. */
function cookieDoor(actions: Record<string, CookieAction>) {
  const allow = Object.keys(actions).sort().join(', ');
  return async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const action = actions[req.method ?? ''];
      if (!action) {
        throw new HttpError(
          405,
          'method_not_allowed',
          `${req.method} is not allowed; use ${allow}`,
          {
            allow,
          },
        );
      }
      const { secure } = requireSameOrigin(req);
      await action(req, res, secure);
    } catch (err) {
      // An ended session also clears the cookie, so the page stops presenting it.
      if (err instanceof SessionExpiredError) res.setHeader('set-cookie', cookie('', 0, false));
      sendFailure(res, err);
    }
  };
}

export function sessionCookieRoutes(
  auth: AuthService,
  clock: Clock,
  trustedProxies: TrustedProxies,
): Route[] {
  const remaining = (r: AuthResult) =>
    (r.sessionExpiresAt.getTime() - clock.now().getTime()) / 1000;
  return [
    {
      path: COOKIE_PATH,
      door: 'rest',
      handler: cookieDoor({
        // After login or signup over GraphQL: the page hands the refresh token to the cookie.
        POST: async (req, res, secure) => {
          const body = await readJsonBody(req);
          const token =
            body && typeof body === 'object' && 'refresh_token' in body
              ? body.refresh_token
              : undefined;
          if (typeof token !== 'string') {
            throw new HttpError(
              400,
              'validation_error',
              'refresh_token: required (a string)',
              {},
              {
                field: 'refresh_token',
              },
            );
          }
          const result = await auth.refresh(token);
          sendJson(res, 200, present(result), {
            'set-cookie': cookie(token, remaining(result), secure),
          });
        },
        // Logout: the session ends on the server, not only in this browser.
        DELETE: async (req, res, secure) => {
          const token = readCookie(req);
          if (token) await auth.logoutByRefreshToken(token, clientAddress(req, trustedProxies));
          res.writeHead(204, { 'set-cookie': cookie('', 0, secure), 'cache-control': 'no-store' });
          res.end();
        },
      }),
    },
    {
      // On every page load, and before the access token runs out.
      path: `${COOKIE_PATH}/refresh`,
      door: 'rest',
      handler: cookieDoor({
        POST: async (req, res) => {
          const token = readCookie(req);
          if (!token) throw new SessionExpiredError('Not logged in');
          sendJson(res, 200, present(await auth.refresh(token)));
        },
      }),
    },
  ];
}
