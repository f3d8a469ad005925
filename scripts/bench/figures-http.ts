/**
 * Figures 1 to 4: reads, task creation and end-to-end completion, each against a baseline measured on
 * the same server in the same run.
 */
import BetterSqlite3 from 'better-sqlite3';
import { setTimeout as sleep } from 'node:timers/promises';
import { percentile } from './figures-live.ts';
import { benchSettings, graphqlBody, type LoadJob, type LoadResult, measure } from './load.ts';
import { monotonicMicros, type Window } from './profile-summary.ts';
import { type BenchServer, setAgents } from './server.ts';

export const TYPENAME = '{ __typename }';
export const AGENTS = '{ agents(first: 10) { edges { node { id name reputation successRate tasksCompleted status } } } }';
export const TASKS =
  '{ tasks(first: 20) { edges { node { id title status price createdAt agent { id name reputation } } } } }';
const CREATE = `mutation ($input: CreateTaskInput!) { createTask(input: $input) { __typename ... on Task { id } ... on Error { message } } }`;

/** Enough for any run: a complexity-1 task costs at most 300,000 sat with the seeded agents. */
const FUNDS = 1_000_000_000_000;
export const createBody = (skills: string[] = []) =>
  graphqlBody(CREATE, { input: { title: 'Benchmark task', prompt: 'Summarise the benchmark in one line.', complexity: 1, skills, maxPrice: 1_000_000 } });

/** A load result plus what it cost the server: CPU per answer is robust to a busy machine, req/s is not. */
export interface Measured extends LoadResult {
  serverCpuMicrosPerRequest: number;
  /** The measured seconds (for the CPU profile). */
  window: Window;
}

export interface ReadFigures {
  typename: Measured;
  agents: Measured;
  tasks: Measured;
  createTask: Measured;
}

/** Measure once (no warm-up), reading the server's CPU time around the measured run only. */
async function measuredOnce(server: BenchServer, job: LoadJob): Promise<Measured> {
  const cpu = server.cpu();
  const from = monotonicMicros();
  const result = await measure(job);
  const window = { from, to: monotonicMicros() };
  const requests = Math.max(1, result.rps * result.seconds);
  return { ...result, serverCpuMicrosPerRequest: ((server.cpu() - cpu) * 1e6) / requests, window };
}

/**
 * Several rounds pooled into one figure: answers and CPU summed over every round, latency percentiles the
 * median of the rounds'. The CPU profile window is the last round's.
 */
function pooled(rounds: Measured[]): Measured {
  const seconds = rounds.reduce((sum, r) => sum + r.seconds, 0);
  const good = rounds.reduce((sum, r) => sum + r.rps * r.seconds, 0);
  const cpuMicros = rounds.reduce((sum, r) => sum + r.serverCpuMicrosPerRequest * Math.max(1, r.rps * r.seconds), 0);
  const median = (pick: (r: Measured) => number) => percentile(rounds.map(pick).sort((a, b) => a - b), 50);
  return {
    rps: good / seconds,
    requests: rounds.reduce((sum, r) => sum + r.requests, 0),
    failures: rounds.reduce((sum, r) => sum + r.failures, 0),
    seconds,
    latencyMs: {
      p50: median((r) => r.latencyMs.p50),
      p90: median((r) => r.latencyMs.p90),
      p99: median((r) => r.latencyMs.p99),
      mean: median((r) => r.latencyMs.mean),
      max: Math.max(...rounds.map((r) => r.latencyMs.max)),
    },
    serverCpuMicrosPerRequest: cpuMicros / Math.max(1, good),
    window: rounds[rounds.length - 1]!.window,
  };
}

export async function readAndCreateFigures(server: BenchServer, log: (line: string) => void): Promise<ReadFigures> {
  const common = { url: server.graphqlUrl, connections: benchSettings.connections, warmupSeconds: 0 };

  // A buyer with 25 finished tasks, each with its agent.
  const reader = await server.user('BUYER', FUNDS);
  for (let i = 0; i < 25; i++) await server.gql(CREATE, JSON.parse(createBody()).variables, reader.token);
  await waitForCompleted(server, reader.token, 25);

  // Creation alone: agents paused so the engine does not run the tasks meanwhile (figure 4 does that).
  await setAgents(server, { status: 'PAUSED' });
  const buyers = await Promise.all(Array.from({ length: 32 }, () => server.user('BUYER', FUNDS)));
  const loads = {
    typename: { ...common, body: graphqlBody(TYPENAME), expect: '"Query"' },
    agents: { ...common, body: graphqlBody(AGENTS), expect: '"agent-1"' },
    tasks: { ...common, body: graphqlBody(TASKS), tokens: [reader.token], expect: '"agent' },
    createTask: { ...common, body: createBody(), tokens: buyers.map((b) => b.token), expect: '"Task"' },
  } satisfies Record<keyof ReadFigures, Omit<LoadJob, 'seconds'>>;
  const labels: Record<keyof ReadFigures, string> = {
    typename: 'baseline { __typename }',
    agents: 'figure 1: agents(first: 10), anonymous',
    tasks: 'figure 2: tasks(first: 20) with agents, as a buyer',
    createTask: 'figure 3: createTask, 32 concurrent funded buyers',
  };

  // The machine's speed drifts (other tenants, CPU steal): measuring each figure in one block would let a
  // slow minute land on one figure and not on its baseline. Rounds alternate between them instead.
  const names = Object.keys(loads) as (keyof ReadFigures)[];
  const rounds = benchSettings.rounds;
  const slice = benchSettings.seconds / rounds;
  const results = Object.fromEntries(names.map((name) => [name, [] as Measured[]])) as Record<keyof ReadFigures, Measured[]>;
  for (const name of names) {
    if (benchSettings.warmupSeconds > 0) await measure({ ...loads[name], seconds: benchSettings.warmupSeconds });
  }
  for (let round = 1; round <= rounds; round++) {
    for (const name of names) {
      const result = await measuredOnce(server, { ...loads[name], seconds: slice });
      results[name].push(result);
      log(`round ${round}/${rounds} ${labels[name]}: ${result.rps.toFixed(0)} req/s`);
    }
  }
  return { typename: pooled(results.typename), agents: pooled(results.agents), tasks: pooled(results.tasks), createTask: pooled(results.createTask) };
}

export interface EndToEnd {
  tasks: number;
  seconds: number;
  /** Completed tasks per second, first creation to last completion. */
  perSecond: number;
  /** When the last createTask answered, seconds after the first. */
  createdAfter: number;
  failed: number;
}

/**
 * Figure 4, on a server of its own (every task in its database is one of these): N tasks posted by 32
 * buyers at full speed and run by the engine against the instant provider.
 */
export async function endToEndFigure(server: BenchServer, total: number, log: (line: string) => void): Promise<EndToEnd> {
  await setAgents(server, { maxConcurrency: 64 });
  const buyers = await Promise.all(Array.from({ length: 32 }, () => server.user('BUYER', FUNDS)));
  log(`figure 4: ${total} tasks end to end`);
  const created = await measure({
    url: server.graphqlUrl,
    connections: 32,
    warmupSeconds: 0,
    seconds: 0,
    amount: total,
    body: createBody(),
    tokens: buyers.map((b) => b.token),
    expect: '"Task"',
  });
  if (created.failures > 0) log(`  warning: ${created.failures} createTask calls failed`);
  // Read the outcome from the database file itself (WAL lets a reader in beside the server).
  const db = new BetterSqlite3(server.databaseFile, { readonly: true });
  try {
    const open = db.prepare("SELECT count(*) AS n FROM tasks WHERE status IN ('PENDING', 'ASSIGNED', 'PROCESSING')");
    const deadline = Date.now() + 600_000;
    while ((open.get() as { n: number }).n > 0) {
      if (Date.now() > deadline) throw new Error('figure 4: tasks still open after 10 minutes');
      await sleep(50);
    }
    const row = db
      .prepare(
        `SELECT count(*) AS n, min(created_at) AS first, max(created_at) AS lastCreated, max(completed_at) AS last,
                sum(status = 'FAILED') AS failed FROM tasks`,
      )
      .get() as { n: number; first: number; lastCreated: number; last: number; failed: number };
    const seconds = (row.last - row.first) / 1000;
    return { tasks: row.n, seconds, perSecond: (row.n - row.failed) / seconds, createdAfter: (row.lastCreated - row.first) / 1000, failed: row.failed };
  } finally {
    db.close();
  }
}

async function waitForCompleted(server: BenchServer, token: string, count: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { tasks } = await server.gql<{ tasks: { edges: { node: { status: string } }[] } }>(
      '{ tasks(first: 100) { edges { node { status } } } }',
      undefined,
      token,
    );
    if (tasks.edges.filter((e) => e.node.status === 'COMPLETED').length >= count) return;
    if (Date.now() > deadline) throw new Error('setup tasks did not complete within 60 s');
    await sleep(100);
  }
}
