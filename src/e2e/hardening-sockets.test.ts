/**
 * One WebSocket may hold at most LIMIT_SUBSCRIPTIONS_PER_SOCKET subscriptions: each holds a listener and
 * its queue on the server, so a client opening thousands on one socket would hold that much memory. The
 * one over the limit gets one coded error; the others go on, and a slot freed is a slot usable again.
 */
import { type Client, createClient } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startServer, type TestServer } from './harness.ts';
import { describeEachDialect } from './test-database.ts';

const LIMIT = 3;
const STATS = 'subscription { marketStats { totalTasks } }';

interface Outcome {
  data: unknown[];
  codes: string[];
  done: Promise<void>;
  stop: () => void;
}

function subscribe(client: Client): Outcome {
  const outcome = { data: [] as unknown[], codes: [] as string[] };
  let stop = () => {};
  const done = new Promise<void>((resolve) => {
    stop = client.subscribe(
      { query: STATS },
      {
        next: (result) => {
          if (result.data) outcome.data.push(result.data);
          for (const error of result.errors ?? []) outcome.codes.push(String(error.extensions?.code));
        },
        error: (error) => {
          const errors = Array.isArray(error) ? (error as { extensions?: { code?: string } }[]) : [];
          outcome.codes.push(...errors.map((e) => String(e.extensions?.code)));
          resolve();
        },
        complete: () => resolve(),
      },
    );
  });
  return { ...outcome, done, stop: () => stop() };
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describeEachDialect('subscriptions per socket', (dialect) => {
  let server: TestServer;
  let client: Client | undefined;
  beforeAll(async () => {
    server = await startServer({ LIMIT_SUBSCRIPTIONS_PER_SOCKET: String(LIMIT) }, { dialect });
  });
  afterEach(async () => {
    await client?.dispose();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it(`holds ${LIMIT} on one socket, refuses the next with TOO_MANY_SUBSCRIPTIONS, and takes one again once a slot is free`, async () => {
    const socket = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
    client = socket;
    const open = Array.from({ length: LIMIT }, () => subscribe(socket));
    // Each answers with the stats now: all three are live.
    await until(() => open.every((s) => s.data.length > 0), 'the first stats on every subscription');

    const refused = subscribe(socket);
    await refused.done;
    expect(refused.codes).toEqual(['TOO_MANY_SUBSCRIPTIONS']);
    expect(refused.data).toEqual([]);
    // The socket and the others are untouched.
    expect(open.flatMap((s) => s.codes)).toEqual([]);

    open[0]?.stop();
    await open[0]?.done;
    const again = subscribe(socket);
    await until(() => again.data.length > 0, 'stats on the subscription that took the freed slot');
    expect(again.codes).toEqual([]);
  });
});
