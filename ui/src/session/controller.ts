import type { Client } from 'urql';
import {
  createUrqlClient,
  getWebSocketClient,
  restartWebSocket,
  stopWebSocket,
} from '../client.ts';
import { type ResultOf, readFragment } from '../graphql.ts';
import { AuthPayloadFields, LoginMutation, SignupMutation, ViewerQuery } from './documents.ts';
import {
  closeSession,
  millisUntil,
  openSession,
  refreshSession,
  type SessionTokens,
} from './rest.ts';
import { setAccessToken } from './token.ts';

export type Viewer = ResultOf<typeof ViewerQuery>;
export type User = Viewer['me'];
export type Organisation = Viewer['organisation'];

export type SessionState =
  /** Asking the server whether the refresh cookie still holds a session. */
  | { status: 'loading' }
  /** The login view; `message` says why when the session ended on its own. */
  | { status: 'signedOut'; message: string | null }
  | { status: 'signedIn'; user: User; organisation: Organisation; sessionExpiresAt: string };

/** Why a login or signup did not sign in, for the form to show next to a field or as an alert. */
export type AuthFailure =
  | { kind: 'invalidCredentials'; message: string }
  | { kind: 'rateLimited'; message: string; retryAfterSeconds: number }
  | { kind: 'validation'; field: string; message: string }
  | { kind: 'conflict'; message: string }
  | { kind: 'unavailable'; message: string };

export const SESSION_EXPIRED_MESSAGE = 'Your session has expired; log in again.';
export const UNREACHABLE_MESSAGE =
  'The portal cannot be reached. Check the connection and log in again.';
/** Refresh this long before the access token expires. */
const REFRESH_AHEAD_MS = 60_000;
const MIN_REFRESH_DELAY_MS = 5_000;
/** A second UNAUTHENTICATED this soon after a recovery means the session is really over. */
const RECOVERY_WINDOW_MS = 10_000;

type AuthPayload = ResultOf<typeof AuthPayloadFields>;

/**
 * The browser side of a session: the access token in memory, its timely refresh through the
 * HttpOnly cookie, the urql Client of the signed-in user, and the way back to the login view.
 */
export class SessionController {
  private state: SessionState = { status: 'loading' };
  private listeners = new Set<() => void>();
  private currentClient: Client;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  /** Local deadline of the current access token (performance.now() based, skew-free). */
  private expiresAtLocal = 0;
  /** Bumped at every sign-in and sign-out: answers from an older epoch are dropped. */
  private epoch = 0;
  private recovering: Promise<void> | null = null;
  private lastRecovery = 0;
  private booted = false;

  constructor() {
    this.currentClient = this.newClient();
    this.subscribe = this.subscribe.bind(this);
    this.getState = this.getState.bind(this);
  }

  getState(): SessionState {
    return this.state;
  }

  /** The urql Client of the current session (replaced at each sign-in and sign-out). */
  get client(): Client {
    return this.currentClient;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private set(next: SessionState): void {
    this.state = next;
    for (const listener of this.listeners) listener();
  }

  private newClient(): Client {
    return createUrqlClient({ onUnauthenticated: () => void this.recover() });
  }

  /** At page load: a session cookie from an earlier visit signs in without a password. */
  async boot(): Promise<void> {
    if (this.booted) return;
    this.booted = true;
    const epoch = this.epoch;
    const outcome = await refreshSession();
    if (epoch !== this.epoch) return; // a login finished first
    if (outcome.kind === 'ok') await this.enter(outcome.tokens);
    else this.set({ status: 'signedOut', message: null });
  }

  async login(email: string, password: string): Promise<AuthFailure | null> {
    const result = await this.currentClient
      .mutation(LoginMutation, { email, password }, { requestPolicy: 'network-only' })
      .toPromise();
    const answer = result.data?.login;
    if (!answer) return unavailable(result.error?.message);
    switch (answer.__typename) {
      case 'AuthPayload':
        return this.complete(readFragment(AuthPayloadFields, answer));
      case 'InvalidCredentialsError':
        return { kind: 'invalidCredentials', message: answer.message };
      case 'RateLimitedError':
        return {
          kind: 'rateLimited',
          message: answer.message,
          retryAfterSeconds: answer.retryAfterSeconds,
        };
      case 'ValidationError':
        return { kind: 'validation', field: answer.field, message: answer.message };
    }
    return unavailable();
  }

  async signup(
    organisationName: string,
    email: string,
    password: string,
  ): Promise<AuthFailure | null> {
    const result = await this.currentClient
      .mutation(SignupMutation, { organisationName, email, password })
      .toPromise();
    const answer = result.data?.signup;
    if (!answer) return unavailable(result.error?.message);
    switch (answer.__typename) {
      case 'AuthPayload':
        return this.complete(readFragment(AuthPayloadFields, answer));
      // An email that has an account: the same answer as a wrong-password login.
      case 'InvalidCredentialsError':
        return { kind: 'invalidCredentials', message: answer.message };
      case 'RateLimitedError':
        return {
          kind: 'rateLimited',
          message: answer.message,
          retryAfterSeconds: answer.retryAfterSeconds,
        };
      case 'ValidationError':
        return { kind: 'validation', field: answer.field, message: answer.message };
    }
    return unavailable();
  }

  /** Ends the session on the server (cookie cleared) and here. */
  async logout(): Promise<void> {
    this.leave(null);
    await closeSession();
  }

  /** Reads `me` and `organisation` again (after a change of plan, name or role). */
  async reloadViewer(): Promise<void> {
    if (this.state.status !== 'signedIn') return;
    const { viewer } = await this.fetchViewer();
    if (viewer && this.state.status === 'signedIn') {
      this.set({ ...this.state, user: viewer.me, organisation: viewer.organisation });
    }
  }

  /** Login and signup hand a refresh token once: it goes to the cookie and is then forgotten. */
  private async complete(payload: AuthPayload): Promise<null> {
    const opened = payload.refreshToken
      ? await openSession(payload.refreshToken)
      : ({ kind: 'unavailable', message: 'no refresh token' } as const);
    const tokens: SessionTokens =
      opened.kind === 'ok'
        ? opened.tokens
        : {
            // Without the cookie the tab still works until the access token expires.
            token: payload.token,
            expiresAt: payload.expiresAt,
            sessionExpiresAt: payload.sessionExpiresAt,
            expiresInMs: millisUntil(payload.expiresAt),
          };
    await this.enter(tokens);
    return null;
  }

  private async enter(tokens: SessionTokens): Promise<void> {
    const epoch = ++this.epoch;
    this.adoptTokens(tokens);
    this.currentClient = this.newClient();
    const { viewer, networkError } = await this.fetchViewer();
    if (epoch !== this.epoch) return;
    if (!viewer) {
      this.leave(networkError ? UNREACHABLE_MESSAGE : SESSION_EXPIRED_MESSAGE);
      return;
    }
    // Signed out, there is no socket (leave() stops it): this opens it with the new token.
    getWebSocketClient();
    this.set({
      status: 'signedIn',
      user: viewer.me,
      organisation: viewer.organisation,
      sessionExpiresAt: tokens.sessionExpiresAt,
    });
  }

  private async fetchViewer(): Promise<{ viewer: Viewer | null; networkError: boolean }> {
    const result = await this.currentClient
      .query(ViewerQuery, {}, { requestPolicy: 'network-only' })
      .toPromise();
    return { viewer: result.data ?? null, networkError: !!result.error?.networkError };
  }

  private adoptTokens(tokens: SessionTokens): void {
    setAccessToken(tokens.token);
    this.expiresAtLocal = performance.now() + tokens.expiresInMs;
    clearTimeout(this.refreshTimer);
    const delay = Math.max(MIN_REFRESH_DELAY_MS, tokens.expiresInMs - REFRESH_AHEAD_MS);
    this.refreshTimer = setTimeout(() => void this.refresh(), delay);
  }

  /** A new access token through the cookie; the socket reconnects to carry it. */
  private async refresh(): Promise<boolean> {
    const epoch = this.epoch;
    const outcome = await refreshSession();
    if (epoch !== this.epoch) return false;
    if (outcome.kind === 'ok') {
      this.adoptTokens(outcome.tokens);
      restartWebSocket();
      return true;
    }
    if (outcome.kind === 'expired' || performance.now() >= this.expiresAtLocal) {
      this.leave(SESSION_EXPIRED_MESSAGE);
      return false;
    }
    // The portal is unreachable for now: try again while the current token still works.
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => void this.refresh(), MIN_REFRESH_DELAY_MS * 2);
    return false;
  }

  /** Timers sleep with the laptop: refresh as soon as the tab is seen again, if it is due. */
  onVisible(): void {
    if (this.state.status !== 'signedIn') return;
    if (performance.now() >= this.expiresAtLocal - REFRESH_AHEAD_MS) void this.refresh();
  }

  /**
   * The server refused a token. If it had merely expired (a sleeping laptop), one refresh saves
   * the session and a fresh client queries again; otherwise back to the login view.
   */
  private recover(): Promise<void> {
    if (this.state.status !== 'signedIn') return Promise.resolve();
    this.recovering ??= (async () => {
      const recent = performance.now() - this.lastRecovery < RECOVERY_WINDOW_MS;
      if (recent || !(await this.refresh())) {
        if (this.state.status === 'signedIn') this.leave(SESSION_EXPIRED_MESSAGE);
        return;
      }
      this.lastRecovery = performance.now();
      this.currentClient = this.newClient();
      if (this.state.status === 'signedIn') this.set({ ...this.state });
    })().finally(() => {
      this.recovering = null;
    });
    return this.recovering;
  }

  private leave(message: string | null): void {
    this.epoch++;
    clearTimeout(this.refreshTimer);
    setAccessToken(null);
    stopWebSocket();
    this.currentClient = this.newClient();
    this.set({ status: 'signedOut', message });
  }
}

function unavailable(detail?: string): AuthFailure {
  return {
    kind: 'unavailable',
    message: detail
      ? `The portal could not answer: ${detail}`
      : 'The portal could not answer. Try again in a moment.',
  };
}
