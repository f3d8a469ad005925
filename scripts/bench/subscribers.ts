/**
 * Child process: holds many graphql-ws connections, each with one subscription, and notes when every
 * message arrives (wall clock, sub-millisecond). Steps, driven by the parent over IPC:
 *   job -> open all connections, subscribe; note 'subscribed'
 *   'report' -> answer with every receipt, then exit.
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { serve } from './child.ts';

export interface SubscriberJob {
  wsUrl: string;
  token: string;
  /** How many connections, and how many of them subscribe to marketStats (the rest to taskEvents). */
  connections: number;
  statsConnections: number;
  /** Only count the messages (a long run would otherwise hold, and send back, millions of receipts). */
  countOnly?: boolean;
}

export const TASK_EVENTS = 'subscription { taskEvents { sequence status message at task { id title status price agent { id name } } } }';
export const MARKET_STATS = 'subscription { marketStats { totalTasks completionRate activeAgents tasksByStatus { status count } } }';

/** One message received: which event (task event sequence, or the stats' totalTasks) and when. */
export interface Receipt {
  kind: 'event' | 'stats';
  /** Task event: its sequence; stats: totalTasks. */
  key: number;
  /** Task event: its `at` (epoch ms, taken in the committing transaction). */
  at: number | null;
  receivedAt: number;
}

export interface SubscriberResult {
  receipts: Receipt[];
  /** Messages received (with countOnly, the receipts stay empty). */
  received: number;
  errors: string[];
}

const now = () => performance.timeOrigin + performance.now();

interface EventPayload {
  taskEvents?: { sequence: number; at: string };
  marketStats?: { totalTasks: number };
}

serve<SubscriberJob, SubscriberResult>(async (job, messages, note) => {
  const receipts: Receipt[] = [];
  let received = 0;
  const errors: string[] = [];
  const clients: Client[] = [];
  // Open in waves so the server's accept backlog never overflows (a dropped SYN costs a 1 s retry).
  const wave = 100;
  for (let start = 0; start < job.connections; start += wave) {
    const opened: Promise<void>[] = [];
    for (let i = start; i < Math.min(job.connections, start + wave); i++) {
      const stats = i < job.statsConnections;
      const client = createClient({
        url: job.wsUrl,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${job.token}` },
        retryAttempts: 0,
        lazy: true,
      });
      clients.push(client);
      opened.push(new Promise<void>((resolve) => client.on('connected', () => resolve())));
      client.subscribe<EventPayload>(
        { query: stats ? MARKET_STATS : TASK_EVENTS },
        {
          next: ({ data, errors: failed }) => {
            const receivedAt = now();
            received++;
            if (failed) errors.push(JSON.stringify(failed).slice(0, 300));
            if (job.countOnly) return;
            if (data?.taskEvents) receipts.push({ kind: 'event', key: data.taskEvents.sequence, at: Date.parse(data.taskEvents.at), receivedAt });
            if (data?.marketStats) receipts.push({ kind: 'stats', key: data.marketStats.totalTasks, at: null, receivedAt });
          },
          error: (error) => errors.push(error instanceof Error ? error.message : JSON.stringify(error).slice(0, 300)),
          complete: () => {},
        },
      );
    }
    await Promise.all(opened);
  }
  note('subscribed');
  for await (const message of messages) {
    if (message === 'report') break;
  }
  await Promise.all(clients.map((client) => client.dispose()));
  return { receipts, received, errors };
});
