/**
 * Subscription clients for whole-system tests, one per transport the contract names: graphql-ws over a
 * real WebSocket, and Server-Sent Events read from a real `fetch` stream. Both collect every result in
 * arrival order into a LiveStream, which tests wait on and then inspect.
 */
import { createClient } from 'graphql-ws';
import { afterEach } from 'vitest';
import WebSocket from 'ws';
import type { GraphQLResponse, TestServer } from './harness.ts';

type Variables = Record<string, unknown>;
type Result<T> = GraphQLResponse<T>;

/** Every result of one subscription, in arrival order, and whether (and how) it ended. */
/** Call at a test file's top level: streams passed through the returned `track` are closed after each test. */
export function closeAfterEach(): <T>(stream: LiveStream<T>) => LiveStream<T> {
  const streams: LiveStream<unknown>[] = [];
  afterEach(async () => {
    await Promise.all(streams.splice(0).map((stream) => stream.close()));
  });
  return (stream) => {
    streams.push(stream as LiveStream<unknown>);
    return stream;
  };
}

export class LiveStream<T> {
  readonly results: Result<T>[] = [];
  ended = false;
  /** Set when the transport failed (a socket closed, a fetch aborted), as opposed to a clean `complete`. */
  failure: unknown;
  #wake: (() => void)[] = [];

  constructor(private readonly closeTransport: () => Promise<void> | void) {}

  /** The payloads that arrived, in order (results carrying only errors are left out). */
  get data(): T[] {
    return this.results.flatMap((result) => (result.data ? [result.data] : []));
  }

  /** The `extensions.code` of every error received. */
  get errorCodes(): string[] {
    return this.results.flatMap((result) => (result.errors ?? []).map((error) => String(error.extensions?.code ?? error.message)));
  }

  push(result: Result<T>): void {
    // Closed by the test: what the transport still delivers while it closes was never listened to (a test
    // that resumes elsewhere from the last sequence it saw would otherwise count those twice).
    if (this.ended) return;
    this.results.push(result);
    this.#notify();
  }

  end(failure?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = failure;
    this.#notify();
  }

  /**
   * Wait until `done(data)` holds. Fails when the stream ends first, or when `timeoutMs` passes: the
   * bound only keeps a broken server from hanging the suite, it is not what the test asserts.
   */
  async until(done: (data: T[]) => boolean, what: string, timeoutMs = 20_000): Promise<T[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (done(this.data)) return this.data;
      if (this.ended) throw new Error(`stream ended before ${what}: ${JSON.stringify({ results: this.results, failure: String(this.failure) })}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; received ${JSON.stringify(this.results)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Wait until the stream ends (the server completed it or refused it). */
  async ending(timeoutMs = 20_000): Promise<this> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for the stream to end; received ${JSON.stringify(this.results)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.#wake.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this;
  }

  async close(): Promise<void> {
    this.end();
    await this.closeTransport();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = [];
    for (const fn of wake) fn();
  }
}

/** Subscribe over graphql-ws on its own connection; `token` goes in connectionParams as the contract says. */
export function subscribeWs<T>(server: Pick<TestServer, 'wsUrl'>, query: string, variables: Variables = {}, token?: string): LiveStream<T> {
  const client = createClient({
    url: server.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
  });
  const stream = new LiveStream<T>(() => client.dispose());
  client.subscribe<T>(
    { query, variables },
    {
      next: (result) => stream.push(result as Result<T>),
      // graphql-ws reports a refused operation as an array of GraphQL errors, a lost socket as a CloseEvent.
      error: (error) => {
        if (Array.isArray(error)) {
          stream.push({ errors: error as NonNullable<Result<T>['errors']> });
          stream.end();
        } else {
          stream.end(error);
        }
      },
      complete: () => stream.end(),
    },
  );
  return stream;
}

/**
 * Subscribe over Server-Sent Events (Yoga's built-in: the GraphQL endpoint with `Accept:
 * text/event-stream`), by POST with a JSON body or by GET with the operation in the query string.
 */
export function subscribeSse<T>(server: TestServer, query: string, variables: Variables = {}, token?: string, method: 'POST' | 'GET' = 'POST'): LiveStream<T> {
  const controller = new AbortController();
  const stream = new LiveStream<T>(() => controller.abort());
  // The CSRF header: a GET must carry a header a foreign page's simple request cannot (see request-guard.ts).
  const headers: Record<string, string> = { accept: 'text/event-stream', 'x-graphql-yoga-csrf': '1', ...(token && { authorization: `Bearer ${token}` }) };
  const url = new URL(server.graphqlUrl);
  let body: string | undefined;
  if (method === 'GET') {
    url.searchParams.set('query', query);
    url.searchParams.set('variables', JSON.stringify(variables));
  } else {
    headers['content-type'] = 'application/json';
    body = JSON.stringify({ query, variables });
  }
  void (async () => {
    const response = await fetch(url, { method, headers, body, signal: controller.signal });
    if (!response.ok || !response.body || !(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      throw new Error(`SSE request answered HTTP ${response.status} ${response.headers.get('content-type')}: ${await response.text()}`);
    }
    const decoder = new TextDecoder();
    let buffer = '';
    const reader = response.body.getReader();
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      buffer += decoder.decode(chunk.value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const message = parseSseMessage(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (message.event === 'next' && message.data) stream.push(JSON.parse(message.data) as Result<T>);
        if (message.event === 'complete') return stream.end();
      }
    }
    stream.end(new Error('the event stream closed without a complete event'));
  })().catch((error: unknown) => stream.end(error));
  return stream;
}

/** One SSE message: `event:` and `data:` fields (data lines joined by newlines); `:` lines are comments (keep-alive). */
function parseSseMessage(block: string): { event: string; data: string } {
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    if (field === 'data') data.push(value);
  }
  return { event, data: data.join('\n') };
}

/**
 * An EXTERNAL agent's operator listening on agentAssignments: only then is the agent connected and offered
 * work (Agent.connected). Close it to disconnect the agent.
 */
export function listenForAssignments(server: TestServer, agentId: string, operatorToken: string): LiveStream<{ agentAssignments: { id: string } }> {
  return subscribeWs(server, 'subscription ($agentId: ID!) { agentAssignments(agentId: $agentId) { id } }', { agentId }, operatorToken);
}
