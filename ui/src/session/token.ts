/**
 * The access token, in memory only: never in localStorage, sessionStorage or a readable cookie.
 * A reload loses it; the HttpOnly refresh cookie brings a new one (POST /auth/session/refresh).
 */
let accessToken: string | null = null;

export function getAccessToken(): string | null {
  return accessToken;
}

export function setAccessToken(token: string | null): void {
  accessToken = token;
}
