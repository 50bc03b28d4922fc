import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { useSyncExternalStore } from 'react';
import {
  Client,
  type CombinedError,
  cacheExchange,
  fetchExchange,
  mapExchange,
  subscriptionExchange,
} from 'urql';
import { getAccessToken } from './session/token.ts';

/**
 * The GraphQL transport: one urql Client per signed-in session (a new one at each login or
 * logout, so one user's cached data never shows to the next) over ONE graphql-ws socket that
 * carries every subscription.
 */

/** idle: no socket (signed out); connecting: first attempt; live: acknowledged; reconnecting. */
export type ConnectionState = 'idle' | 'connecting' | 'live' | 'reconnecting';

let connectionState: ConnectionState = 'idle';
const stateListeners = new Set<() => void>();

function setConnectionState(next: ConnectionState): void {
  if (next === connectionState) return;
  connectionState = next;
  for (const listener of stateListeners) listener();
}

export function getConnectionState(): ConnectionState {
  return connectionState;
}

/** Subscribes to connection state changes; returns the unsubscribe function. */
export function onConnectionStateChange(listener: () => void): () => void {
  stateListeners.add(listener);
  return () => stateListeners.delete(listener);
}

/** The WebSocket's state, for the header's live indicator. */
export function useConnectionState(): ConnectionState {
  return useSyncExternalStore(onConnectionStateChange, getConnectionState);
}

/** ws(s)://<this host>/graphql: the portal serves graphql-ws on the GraphQL path. */
export function webSocketUrl(location: Location = window.location): string {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/graphql`;
}

const MAX_RETRY_WAIT_MS = 30_000;

/** Randomised exponential backoff: ~0.5 s, 1 s, 2 s ... up to 30 s, for ever. */
function retryWait(retries: number): Promise<void> {
  const base = Math.min(MAX_RETRY_WAIT_MS, 500 * 2 ** retries);
  const wait = base / 2 + Math.random() * (base / 2);
  return new Promise((resolve) => setTimeout(resolve, wait));
}

let wsClient: WsClient | null = null;
let openSocket: WebSocket | null = null;
let restartRequested = false;

function startWebSocket(): WsClient {
  let acknowledged = false;
  const client = createWsClient({
    url: webSocketUrl(),
    // Read at every (re)connection: a restart after a token refresh sends the new token.
    connectionParams: () => {
      const token = getAccessToken();
      return token ? { authorization: `Bearer ${token}` } : {};
    },
    // Connected while signed in, subscriptions or not: the indicator says what a push would meet.
    lazy: false,
    keepAlive: 20_000,
    retryAttempts: Number.POSITIVE_INFINITY,
    shouldRetry: () => true,
    retryWait,
    on: {
      connecting: () => setConnectionState(acknowledged ? 'reconnecting' : 'connecting'),
      opened: (socket) => {
        openSocket = socket as WebSocket;
        if (restartRequested) {
          restartRequested = false;
          openSocket.close(4205, 'Client Restart');
        }
      },
      connected: () => {
        acknowledged = true;
        setConnectionState('live');
      },
      closed: () => {
        openSocket = null;
        if (wsClient === client) setConnectionState(acknowledged ? 'reconnecting' : 'connecting');
      },
    },
    onNonLazyError: () => {
      // Retries never stop (shouldRetry), so this is a fatal close code from the server.
      if (wsClient === client) setConnectionState('reconnecting');
    },
  });
  return client;
}

/** The one graphql-ws client, started on first use (after sign-in). */
export function getWebSocketClient(): WsClient {
  wsClient ??= startWebSocket();
  return wsClient;
}

/**
 * Reconnects the socket so the server sees the current access token (call after a refresh).
 * graphql-ws retries a 4205 close at once and re-subscribes every active subscription.
 */
export function restartWebSocket(): void {
  if (!wsClient) return;
  if (openSocket && openSocket.readyState === WebSocket.OPEN) {
    openSocket.close(4205, 'Client Restart');
  } else {
    restartRequested = true;
  }
}

/** Closes the socket for good (sign-out); the next getWebSocketClient() opens a new one. */
export function stopWebSocket(): void {
  const client = wsClient;
  wsClient = null;
  openSocket = null;
  restartRequested = false;
  setConnectionState('idle');
  void client?.dispose();
}

/** True when the server refused the operation for want of a valid token. */
export function isUnauthenticated(error: CombinedError | undefined): boolean {
  return !!error?.graphQLErrors.some((e) => e.extensions?.code === 'UNAUTHENTICATED');
}

export interface ClientOptions {
  /** Called once per operation the server answered with extensions.code UNAUTHENTICATED. */
  onUnauthenticated?: () => void;
}

/** A urql Client for one session: document cache, HTTP for queries and mutations, graphql-ws. */
export function createUrqlClient(options: ClientOptions = {}): Client {
  return new Client({
    url: '/graphql',
    // The token goes in a header (never a cookie): the GraphQL door needs no CSRF defence.
    fetchOptions: (): RequestInit => {
      const token = getAccessToken();
      const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
      return { credentials: 'omit', headers };
    },
    // Only subscriptions use the socket: queries and mutations stay plain HTTP requests.
    exchanges: [
      cacheExchange,
      mapExchange({
        onResult(result) {
          if (isUnauthenticated(result.error)) options.onUnauthenticated?.();
          return result;
        },
      }),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? '' };
          return {
            subscribe(sink) {
              const unsubscribe = getWebSocketClient().subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
  });
}
