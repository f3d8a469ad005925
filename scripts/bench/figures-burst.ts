/**
 * Figure 9: memory after a burst. A fresh server, warmed with a few of each call (so lazy module loading
 * is not counted as the burst), is left until its RSS settles: the baseline. Then, for BENCH_BURST_SECONDS
 * (15): 500 graphql-ws subscribers (75 % taskEvents, 25 % marketStats, as figure 5) and about 200 req/s of
 * mixed GraphQL (tasks(first: 20) as a buyer, agents, marketStats, and createTask by the subscribers' own
 * buyer, whose tasks the engine runs against the instant provider, so events flow to the subscribers).
 * The subscribers then close and RSS (and heap used, from /metrics) is read every second for 30 s.
 * Target: RSS at +30 s within 20 % of the baseline.
 *
 * BENCH_HEAP_SNAPSHOTS=1 also writes a heap snapshot of the server at the baseline and at +30 s (to
 * bench-results/heap/, with --heapsnapshot-signal): writing one costs RSS itself, so RSS figures of such
 * a run are not the figure; compare the snapshots with heap-summary.ts.
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runChild } from './child.ts';
import { AGENTS, createBody, TASKS } from './figures-http.ts';
import { graphqlBody, type LoadJob, type LoadResult, measure } from './load.ts';
import { type BenchServer, type ServerOptions, startServer } from './server.ts';
import type { SubscriberJob, SubscriberResult } from './subscribers.ts';

const STATS = '{ marketStats { totalTasks completionRate activeAgents tasksByStatus { status count } } }';
const TARGET_AT = 30;

export interface BurstSample {
  /** Seconds after the subscribers closed. */
  at: number;
  rss: number;
  heapUsed: number;
  /** The V8 heap's size (used or not): RSS minus this is outside the JS heap (malloc, code, SQLite's cache). */
  heapTotal: number;
}

export interface BurstFigures {
  subscribers: number;
  seconds: number;
  /** Per kind of request: its target rate and what it got. */
  load: { name: string; rate: number; rps: number; failures: number; p99Ms: number }[];
  /** Messages the subscribers received. */
  delivered: number;
  subscriberErrors: string[];
  rssBefore: number;
  heapBefore: number;
  heapTotalBefore: number;
  rssPeak: number;
  heapAtEnd: number;
  /** Every second for 30 s (BENCH_BURST_AFTER) after the subscribers closed. */
  after: BurstSample[];
  /** RSS at +30 s over RSS before. */
  ratio: number;
  snapshots: string[];
}

/** nodejs_heap_size_used_bytes and _total_bytes from the server's /metrics (prom-client's default metrics). */
export async function heapOf(server: BenchServer): Promise<{ used: number; total: number }> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const read = (name: string) => {
    const value = new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1];
    if (value === undefined) throw new Error(`no ${name} in /metrics`);
    return Number(value);
  };
  return { used: read('nodejs_heap_size_used_bytes'), total: read('nodejs_heap_size_total_bytes') };
}

/** Wait until RSS moves less than 1 MB over 2 s (at most 20 s). */
async function settle(server: BenchServer): Promise<void> {
  const deadline = Date.now() + 20_000;
  let last = server.rss();
  let still = 0;
  while (still < 4 && Date.now() < deadline) {
    await sleep(500);
    const now = server.rss();
    still = Math.abs(now - last) < 1024 * 1024 ? still + 1 : 0;
    last = now;
  }
}

export async function burstFigure(
  options: Omit<ServerOptions, 'name'>,
  settings: { subscribers: number; seconds: number; afterSeconds: number; snapshots: boolean },
  log: (line: string) => void,
): Promise<{ figures: BurstFigures; server: BenchServer }> {
  const heapDir = new URL('../../bench-results/heap/', import.meta.url).pathname;
  if (settings.snapshots) mkdirSync(heapDir, { recursive: true });
  const server = await startServer({
    ...options,
    name: 'burst',
    ...(settings.snapshots && { nodeFlags: ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${heapDir}`] }),
  });
  const snapshots: string[] = [];
  const snapshot = async (label: string) => {
    if (!settings.snapshots) return;
    const before = new Set(readdirSync(heapDir));
    process.kill(server.pid, 'SIGUSR2');
    // The snapshot is written on the server's main thread: once it answers again, the file is complete.
    await sleep(500);
    await heapOf(server);
    const file = readdirSync(heapDir).find((f) => !before.has(f));
    if (file) snapshots.push(join(heapDir, file));
    log(`  heap snapshot (${label}): ${file ?? 'none written'}`);
  };

  const buyer = await server.user('BUYER', 1_000_000_000_000);
  const reader = await server.user('BUYER', 1_000_000_000);
  const mix: { name: string; rate: number; job: Omit<LoadJob, 'seconds' | 'rate'> }[] = [
    { name: 'tasks(first: 20)', rate: 70, job: { url: server.graphqlUrl, body: graphqlBody(TASKS), tokens: [reader.token], connections: 8, warmupSeconds: 0, expect: '"edges"' } },
    { name: 'agents', rate: 50, job: { url: server.graphqlUrl, body: graphqlBody(AGENTS), connections: 8, warmupSeconds: 0, expect: '"edges"' } },
    { name: 'marketStats', rate: 50, job: { url: server.graphqlUrl, body: graphqlBody(STATS), connections: 8, warmupSeconds: 0, expect: '"totalTasks"' } },
    { name: 'createTask', rate: 30, job: { url: server.graphqlUrl, body: createBody(), tokens: [buyer.token], connections: 8, warmupSeconds: 0, expect: '"Task"' } },
  ];
  const subscribe = (connections: number) => {
    const job: SubscriberJob = { wsUrl: server.wsUrl, token: buyer.token, connections, statsConnections: Math.round(connections / 4), countOnly: true };
    return runChild<SubscriberResult>('./subscribers.ts', job);
  };

  // Warm-up: every path once at a low rate, a few subscribers, then wait for RSS to settle.
  log(`figure 9: warm-up, then RSS baseline`);
  const warm = subscribe(8);
  await Promise.race([warm.nextNote(), warm.result]);
  await Promise.all(mix.map(({ job }) => measure({ ...job, seconds: 2, rate: 10 })));
  warm.send('report');
  await warm.result;
  await settle(server);
  const rssBefore = server.rss();
  const { used: heapBefore, total: heapTotalBefore } = await heapOf(server);
  await snapshot('before');

  log(`  burst: ${settings.subscribers} subscribers, ${mix.reduce((n, m) => n + m.rate, 0)} req/s for ${settings.seconds} s`);
  let rssPeak = rssBefore;
  const peak = setInterval(() => (rssPeak = Math.max(rssPeak, server.rss())), 250);
  const subscribers = subscribe(settings.subscribers);
  await Promise.race([subscribers.nextNote(), subscribers.result]);
  const results: LoadResult[] = await Promise.all(mix.map(({ job, rate }) => measure({ ...job, seconds: settings.seconds, rate })));
  const heapAtEnd = (await heapOf(server)).used;
  subscribers.send('report');
  const delivered = await subscribers.result;
  clearInterval(peak);

  log(`  subscribers closed; sampling for ${settings.afterSeconds} s`);
  const closed = performance.now();
  const after: BurstSample[] = [];
  for (let second = 1; second <= Math.max(TARGET_AT, settings.afterSeconds); second++) {
    await sleep(closed + second * 1000 - performance.now());
    const rss = server.rss();
    rssPeak = Math.max(rssPeak, rss);
    const heap = await heapOf(server);
    after.push({ at: second, rss, heapUsed: heap.used, heapTotal: heap.total });
  }
  await snapshot('after');
  const atTarget = after.find((x) => x.at === TARGET_AT)?.rss ?? Number.NaN;
  return {
    figures: {
      subscribers: settings.subscribers,
      seconds: settings.seconds,
      load: mix.map(({ name, rate }, i) => {
        const r = results[i];
        return { name, rate, rps: r?.rps ?? 0, failures: r?.failures ?? 0, p99Ms: r?.latencyMs.p99 ?? Number.NaN };
      }),
      delivered: delivered.received,
      subscriberErrors: delivered.errors.slice(0, 5),
      rssBefore,
      heapBefore,
      heapTotalBefore,
      rssPeak,
      heapAtEnd,
      after,
      ratio: atTarget / rssBefore,
      snapshots,
    },
    server,
  };
}
