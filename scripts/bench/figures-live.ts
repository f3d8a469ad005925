/**
 * Figure 5: many graphql-ws subscribers, one event to all. Connections are spread over several client
 * processes; the event is one task posted with a skill no agent has, so it stays PENDING and makes
 * exactly one task event (and one stats update) per round.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { runChild, type ChildHandle } from './child.ts';
import { monotonicMicros, type Window } from './profile-summary.ts';
import type { BenchServer } from './server.ts';
import type { Receipt, SubscriberJob, SubscriberResult } from './subscribers.ts';

export interface LiveFigures {
  connections: number;
  processes: number;
  /** Delivery latency from the event's commit to its receipt, over every subscriber and round. */
  latencyMs: { p50: number; p99: number; max: number };
  eventLatencyMs: { p50: number; p99: number };
  statsLatencyMs: { p50: number; p99: number };
  /** Deliveries expected and received. */
  expected: number;
  received: number;
  rssBefore: number;
  rssAfter: number;
  bytesPerConnection: number;
  connectSeconds: number;
  errors: string[];
  /** When the measured rounds ran (for the CPU profile). */
  window: Window;
}

const CREATE = `mutation ($input: CreateTaskInput!) { createTask(input: $input) { ... on Task { id createdAt } } }`;
const ROUNDS = 3;

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

export async function liveFigure(server: BenchServer, connections: number, log: (line: string) => void): Promise<LiveFigures> {
  const buyer = await server.user('BUYER', 1_000_000_000);
  const post = async () => {
    const input = { title: 'Broadcast', prompt: 'One event to every subscriber.', skills: ['bench-nobody-has-this'], complexity: 1, maxPrice: 1_000_000 };
    const { createTask } = await server.gql<{ createTask: { createdAt: string } }>(CREATE, { input }, buyer.token);
    return Date.parse(createTask.createdAt);
  };
  // Warm the paths once (a subscription, an event) before the baseline RSS.
  await post();
  await sleep(500);
  const rssBefore = server.rss();

  const processes = Math.max(1, Math.ceil(connections / 2500));
  const statsShare = 0.25;
  const children: ChildHandle<SubscriberResult>[] = [];
  const started = performance.now();
  log(`figure 5: opening ${connections} graphql-ws connections from ${processes} processes`);
  for (let p = 0; p < processes; p++) {
    const count = Math.floor(connections / processes) + (p < connections % processes ? 1 : 0);
    const job: SubscriberJob = { wsUrl: server.wsUrl, token: buyer.token, connections: count, statsConnections: Math.round(count * statsShare) };
    children.push(runChild<SubscriberResult>('./subscribers.ts', job));
  }
  await Promise.all(children.map((c) => Promise.race([c.nextNote(), c.result])));
  const connectSeconds = (performance.now() - started) / 1000;
  log(`  connected in ${connectSeconds.toFixed(1)} s`);

  // A probe event proves every subscription is live (and settles allocation) before RSS is read.
  await post();
  await sleep(3000);
  const rssAfter = server.rss();

  const rounds: { createdAt: number; totalTasks: number }[] = [];
  const from = monotonicMicros();
  for (let round = 0; round < ROUNDS; round++) {
    const createdAt = await post();
    rounds.push({ createdAt, totalTasks: round + 3 });
    await sleep(2000);
  }
  const window = { from, to: monotonicMicros() };
  for (const child of children) child.send('report');
  const results = await Promise.all(children.map((c) => c.result));

  const receipts: Receipt[] = results.flatMap((r) => r.receipts);
  const eventLatencies: number[] = [];
  const statsLatencies: number[] = [];
  const firstSequence = Math.max(...receipts.filter((r) => r.kind === 'event').map((r) => r.key)) - ROUNDS + 1;
  for (const r of receipts) {
    if (r.kind === 'event' && r.key >= firstSequence && r.at !== null) eventLatencies.push(r.receivedAt - r.at);
    const round = rounds.find((x) => x.totalTasks === r.key);
    if (r.kind === 'stats' && round) statsLatencies.push(r.receivedAt - round.createdAt);
  }
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  const all = sorted([...eventLatencies, ...statsLatencies]);
  const events = sorted(eventLatencies);
  const stats = sorted(statsLatencies);
  return {
    connections,
    processes,
    latencyMs: { p50: percentile(all, 50), p99: percentile(all, 99), max: all.at(-1) ?? Number.NaN },
    eventLatencyMs: { p50: percentile(events, 50), p99: percentile(events, 99) },
    statsLatencyMs: { p50: percentile(stats, 50), p99: percentile(stats, 99) },
    expected: connections * ROUNDS,
    received: all.length,
    rssBefore,
    rssAfter,
    bytesPerConnection: (rssAfter - rssBefore) / connections,
    connectSeconds,
    errors: results.flatMap((r) => r.errors).slice(0, 5),
    window,
  };
}
