import { Client, cacheExchange, fetchExchange, mapExchange, subscriptionExchange, type CombinedError } from '@urql/core';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { useSyncExternalStore } from 'react';
import { clearSession, getSession, subscribeAuth } from './auth.ts';

/**
 * Builds the urql Client: queries and mutations over fetch, subscriptions over graphql-ws.
 *
 * One Client (and one WebSocket) per signed-in identity: when the token changes, the old client is disposed
 * and a new one is made, so the socket re-authenticates in `connection_init` and no cached data of the
 * previous user survives. Pages read the current client through `useAppClient()`.
 */

export type ConnectionStatus = 'connecting' | 'live' | 'reconnecting';

export interface ConnectionState {
  status: ConnectionStatus;
  /** Incremented on every successful (re)connection; pages refetch their snapshots when it moves past 1. */
  epoch: number;
}

export interface AppClient {
  client: Client;
  getConnection(): ConnectionState;
  subscribeConnection(listener: () => void): () => void;
  dispose(): void;
}

/**
 * Operation context key for subscriptions that resume: a function returning variables to merge in at every
 * (re)subscription. graphql-ws re-sends a subscription's payload by itself after reconnecting; the payload's
 * variables are serialized at each send, so `afterSequence` is always the latest sequence seen, never the one
 * the subscription started with.
 */
export const RESUME_VARIABLES = 'resumeVariables';

type ResumeVariables = () => Record<string, unknown>;

function isResumeVariables(value: unknown): value is ResumeVariables {
  return typeof value === 'function';
}

const REJECTED = 'Your session has expired or was rejected. Please sign in again.';
/** graphql-ws close codes a server uses for a refused connection_init. */
const AUTH_CLOSE_CODES = new Set([4401, 4403]);

function authorization(): Record<string, string> {
  const session = getSession(); // read fresh at every request and (re)connection
  return session ? { authorization: `Bearer ${session.token}` } : {};
}

function isUnauthenticated(error: CombinedError): boolean {
  if (error.response instanceof Response && error.response.status === 401) return true;
  return error.graphQLErrors.some((e) => e.extensions['code'] === 'UNAUTHENTICATED');
}

function meIsNull(data: unknown): boolean {
  return typeof data === 'object' && data !== null && 'me' in data && data.me === null;
}

function webSocketUrl(): string {
  const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${window.location.host}/graphql`;
}

/** 0.5 s, 1 s, 2 s, ... capped at 8 s, plus jitter so a restarted server is not hit by every tab at once. */
function backoff(retries: number): Promise<void> {
  const wait = Math.min(500 * 2 ** retries, 8000) + Math.random() * 400;
  return new Promise((resolve) => setTimeout(resolve, wait));
}

export function createAppClient(): AppClient {
  let connection: ConnectionState = { status: 'connecting', epoch: 0 };
  const listeners = new Set<() => void>();
  let disposed = false;
  const setConnection = (next: ConnectionState): void => {
    if (disposed) return;
    connection = next;
    for (const listener of listeners) listener();
  };

  let pongTimer: ReturnType<typeof setTimeout> | undefined;
  const ws: WsClient = createWsClient({
    url: webSocketUrl,
    connectionParams: authorization,
    // Connect at once so the indicator shows the real state even before the first subscription.
    lazy: false,
    retryAttempts: Infinity,
    shouldRetry: () => true,
    retryWait: backoff,
    // A half-open socket (sleeping laptop, dropped Wi-Fi) never fires `close`: ping, and give up on silence.
    keepAlive: 10_000,
    onNonLazyError: () => undefined,
    on: {
      connecting: (isRetry) => setConnection({ ...connection, status: isRetry ? 'reconnecting' : 'connecting' }),
      connected: () => setConnection({ status: 'live', epoch: connection.epoch + 1 }),
      closed: (event) => {
        clearTimeout(pongTimer);
        setConnection({ ...connection, status: 'reconnecting' });
        const code = typeof event === 'object' && event !== null && 'code' in event ? event.code : undefined;
        if (typeof code === 'number' && AUTH_CLOSE_CODES.has(code) && getSession()) clearSession(REJECTED);
      },
      ping: (received) => {
        if (!received) pongTimer = setTimeout(() => ws.terminate(), 5_000);
      },
      pong: (received) => {
        if (received) clearTimeout(pongTimer);
      },
    },
  });

  const client = new Client({
    url: '/graphql',
    preferGetMethod: false,
    fetchOptions: () => ({ headers: authorization() }),
    exchanges: [
      cacheExchange,
      mapExchange({
        onError(error) {
          // An expired or revoked token: forget it and send the user back to sign-in with the reason.
          if (getSession() && isUnauthenticated(error)) clearSession(REJECTED);
        },
        onResult(result) {
          // The server treats a token it does not accept as anonymous, so `me` comes back null: same thing.
          if (getSession() && meIsNull(result.data)) clearSession(REJECTED);
        },
      }),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request, operation) {
          const resume: unknown = operation.context[RESUME_VARIABLES];
          const base = request.variables ?? {};
          const variables = isResumeVariables(resume) ? { toJSON: () => ({ ...base, ...resume() }) } : base;
          const payload = { query: request.query ?? '', operationName: request.operationName, variables, extensions: request.extensions };
          return {
            subscribe(sink) {
              const unsubscribe = ws.subscribe(payload, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
  });

  return {
    client,
    getConnection: () => connection,
    subscribeConnection(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    dispose() {
      disposed = true;
      clearTimeout(pongTimer);
      void ws.dispose();
    },
  };
}

// The current client follows the session: a new token (or none) means a new client.
let currentToken = getSession()?.token;
let current = createAppClient();
const clientListeners = new Set<() => void>();

subscribeAuth(() => {
  const token = getSession()?.token;
  if (token === currentToken) return;
  currentToken = token;
  current.dispose();
  current = createAppClient();
  for (const listener of clientListeners) listener();
});

/** The client for the current session, outside React (e.g. to start the first query before rendering). */
export function getAppClient(): AppClient {
  return current;
}

function subscribeAppClient(listener: () => void): () => void {
  clientListeners.add(listener);
  return () => clientListeners.delete(listener);
}

export function useAppClient(): AppClient {
  return useSyncExternalStore(subscribeAppClient, getAppClient);
}

export function useConnection(app: AppClient): ConnectionState {
  return useSyncExternalStore(app.subscribeConnection, app.getConnection);
}
