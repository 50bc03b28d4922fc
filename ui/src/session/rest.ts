/**
 * The portal's session endpoints. The refresh token lives in an HttpOnly SameSite=Strict cookie
 * set by POST /auth/session; script never reads it. Every call is same-origin, so the browser
 * sends the Origin header these routes require.
 */

export interface SessionTokens {
  /** The access token (JWT), kept in memory only. */
  token: string;
  /** When the access token expires (RFC 3339). */
  expiresAt: string;
  /** When the session itself ends: no refresh after that. */
  sessionExpiresAt: string;
  /** Milliseconds the access token has left, by the server's clock (immune to local skew). */
  expiresInMs: number;
}

export type RefreshOutcome =
  | { kind: 'ok'; tokens: SessionTokens }
  /** 401: no session cookie, or the session has ended. */
  | { kind: 'expired'; message: string }
  /** Network failure or an unexpected answer: worth retrying later. */
  | { kind: 'unavailable'; message: string };

interface WireTokens {
  token?: unknown;
  expires_at?: unknown;
  session_expires_at?: unknown;
}

/** Milliseconds until `at`, counted from `serverNow` (a Date header) when there is one. */
export function millisUntil(at: string, serverNow?: string | null): number {
  const now = serverNow ? Date.parse(serverNow) : Number.NaN;
  return Date.parse(at) - (Number.isNaN(now) ? Date.now() : now);
}

function tokensOf(body: WireTokens, serverNow: string | null): SessionTokens | null {
  if (typeof body.token !== 'string' || typeof body.expires_at !== 'string') return null;
  const expiresInMs = millisUntil(body.expires_at, serverNow);
  if (Number.isNaN(expiresInMs)) return null;
  return {
    token: body.token,
    expiresAt: body.expires_at,
    expiresInMs,
    sessionExpiresAt:
      typeof body.session_expires_at === 'string' ? body.session_expires_at : body.expires_at,
  };
}

async function call(method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<Response> {
  return fetch(path, {
    method,
    credentials: 'same-origin',
    cache: 'no-store',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function tokensFrom(res: Response): Promise<RefreshOutcome> {
  if (res.status === 401) {
    const body = (await res.json().catch(() => ({}))) as { message?: unknown };
    return {
      kind: 'expired',
      message: typeof body.message === 'string' ? body.message : 'The session has ended.',
    };
  }
  if (!res.ok) return { kind: 'unavailable', message: `The portal answered ${res.status}.` };
  const body = (await res.json().catch(() => ({}))) as WireTokens;
  const tokens = tokensOf(body, res.headers.get('date'));
  return tokens
    ? { kind: 'ok', tokens }
    : { kind: 'unavailable', message: 'The portal sent an unexpected session answer.' };
}

const unreachable = (): RefreshOutcome => ({
  kind: 'unavailable',
  message: 'The portal cannot be reached. Check the connection and try again.',
});

/** POST /auth/session: trades the refresh token from login/signup for the session cookie. */
export async function openSession(refreshToken: string): Promise<RefreshOutcome> {
  try {
    return await tokensFrom(await call('POST', '/auth/session', { refresh_token: refreshToken }));
  } catch {
    return unreachable();
  }
}

/** POST /auth/session/refresh (cookie only): a fresh access token, or 401 when it has ended. */
export async function refreshSession(): Promise<RefreshOutcome> {
  try {
    return await tokensFrom(await call('POST', '/auth/session/refresh'));
  } catch {
    return unreachable();
  }
}

/** DELETE /auth/session: ends the session server-side and clears the cookie. */
export async function closeSession(): Promise<void> {
  try {
    await call('DELETE', '/auth/session');
  } catch {
    // Signed out locally all the same; the session ends on its own at its maximum age.
  }
}
