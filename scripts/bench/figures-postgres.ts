/**
 * Figure 8: tasks completed per second end to end on PostgreSQL, for 1 and for 3 instances on one database
 * (joined by Redis), with a provider answering in 300-800 ms and agents whose total maxConcurrency is far
 * above what the instances may have in flight. Each is a ratio to its physical bound,
 * AI_CONCURRENCY x instances / mean provider latency. While it runs, pg_stat_activity is sampled to say
 * how much of the time transactions spend waiting for a lock, and for the counters row (the global event
 * sequence) in particular.
 */
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { startFakeLlm } from '../fake-llm/server.ts';
import { type BenchServer, setAgents, startServer } from './server.ts';

export const postgresBase = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';
const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const AI_CONCURRENCY = 16;
const LATENCY = { min: 300, max: 800 };
const MEAN_LATENCY_S = (LATENCY.min + LATENCY.max) / 2 / 1000;
const MAX_PRICE = 300_000;
const CLIENTS = 16;

export interface PostgresRun {
  instances: number;
  tasks: number;
  completed: number;
  failed: number;
  clientErrors: number;
  seconds: number;
  perSecond: number;
  bound: number;
  /** perSecond / bound. */
  ofBound: number;
  /** `deadlock detected` on the database during the run (retried inside `transact` or not). */
  deadlocks: number;
  /** Of the samples of backends inside a transaction: the share waiting for any lock, and for the counters row. */
  lockWaitShare: number;
  counterWaitShare: number;
}

export interface PostgresFigures {
  runs: PostgresRun[];
  meanLatencyS: number;
  aiConcurrency: number;
}

async function admin<T>(use: (client: pg.Client) => Promise<T>, database = 'postgres'): Promise<T> {
  const client = new pg.Client({ connectionString: `${postgresBase}/${database}`, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

export async function postgresReachable(): Promise<boolean> {
  try {
    await admin((c) => c.query('SELECT 1'));
    return true;
  } catch {
    return false;
  }
}

/** Sample pg_stat_activity every 20 ms until stopped: backends in a transaction, waiting on a lock, on the counters. */
function sampleLocks(database: string) {
  let stop = false;
  const totals = { busy: 0, waiting: 0, onCounters: 0 };
  const done = admin(async (client) => {
    while (!stop) {
      const { rows } = await client.query<{ busy: string; waiting: string; on_counters: string }>(
        `SELECT count(*) FILTER (WHERE state IN ('active', 'idle in transaction')) AS busy,
                count(*) FILTER (WHERE wait_event_type = 'Lock') AS waiting,
                count(*) FILTER (WHERE wait_event_type = 'Lock' AND (query ILIKE '%"counters"%' OR query ILIKE '%FROM counters%')) AS on_counters
           FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
        [database],
      );
      const row = rows[0];
      totals.busy += Number(row?.busy ?? 0);
      totals.waiting += Number(row?.waiting ?? 0);
      totals.onCounters += Number(row?.on_counters ?? 0);
      await sleep(20);
    }
  });
  return {
    async stop() {
      stop = true;
      await done;
      return { lockWaitShare: totals.busy ? totals.waiting / totals.busy : 0, counterWaitShare: totals.busy ? totals.onCounters / totals.busy : 0 };
    },
  };
}

async function deadlocksOf(database: string): Promise<number> {
  return admin(async (c) => Number((await c.query<{ n: string }>('SELECT deadlocks AS n FROM pg_stat_database WHERE datname = $1', [database])).rows[0]?.n ?? 0));
}

async function oneRun(instances: number, seconds: number, providerUrl: string, log: (line: string) => void): Promise<PostgresRun> {
  const database = `aicp_bench_${process.pid}_${randomBytes(3).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${database}`));
  const servers: BenchServer[] = [];
  try {
    const env = {
      DATABASE_URL: `${postgresBase}/${database}`,
      REDIS_URL: redisUrl,
      REDIS_PREFIX: database,
      AI_CONCURRENCY: String(AI_CONCURRENCY),
    };
    for (let i = 0; i < instances; i++) servers.push(await startServer({ dir: tmpdir(), providerUrl, name: `postgres-${instances}-${i}`, env }));
    const first = servers[0] as BenchServer;
    // Far more room than the instances may have in flight, so the provider's concurrency is what binds;
    // each agent takes at most what one instance runs at once, as a real agent has a limit of its own.
    // (One agent taking every task would make its row and wallet the lock every claim and payout queues on.)
    await setAgents(first, { maxConcurrency: AI_CONCURRENCY });
    await addAgents(first, Math.ceil((2 * AI_CONCURRENCY * instances) / AI_CONCURRENCY));
    const bound = (AI_CONCURRENCY * instances) / MEAN_LATENCY_S;
    const total = Math.ceil(bound * seconds);
    const perBuyer = Math.ceil(total / CLIENTS);
    const buyers = await Promise.all(Array.from({ length: CLIENTS }, () => first.user('BUYER', perBuyer * MAX_PRICE)));
    log(`figure 8: ${instances} instance(s) on PostgreSQL, ${total} tasks, bound ${bound.toFixed(1)} tasks/s`);

    const deadlocksBefore = await deadlocksOf(database);
    const sampler = sampleLocks(database);
    let posted = 0;
    let clientErrors = 0;
    await Promise.all(
      buyers.map(async (buyer, b) => {
        for (let i = 0; i < perBuyer && posted < total; i++) {
          const n = posted++;
          const server = servers[n % instances] as BenchServer;
          try {
            const res = await server.gql<{ createTask: { __typename: string } }>(
              'mutation ($input: CreateTaskInput!) { createTask(input: $input) { __typename } }',
              { input: { title: `bench ${b}-${i}`, prompt: `Bench task ${n}`, maxPrice: MAX_PRICE, complexity: 1 } },
              buyer.token,
            );
            if (res.createTask.__typename !== 'Task') clientErrors++;
          } catch {
            clientErrors++;
          }
        }
      }),
    );
    const outcome = await admin(async (c) => {
      const deadline = Date.now() + 600_000;
      for (;;) {
        const open = await c.query<{ n: string }>("SELECT count(*) AS n FROM tasks WHERE status IN ('PENDING', 'ASSIGNED', 'PROCESSING')");
        if (Number(open.rows[0]?.n) === 0) break;
        if (Date.now() > deadline) throw new Error('figure 8: tasks still open after 10 minutes');
        await sleep(100);
      }
      const { rows } = await c.query<{ n: string; completed: string; failed: string; first: string; last: string }>(
        `SELECT count(*) AS n, count(*) FILTER (WHERE status = 'COMPLETED') AS completed, count(*) FILTER (WHERE status = 'FAILED') AS failed,
                min(created_at) AS first, max(completed_at) AS last FROM tasks`,
      );
      return rows[0];
    }, database);
    const locks = await sampler.stop();
    const deadlocks = (await deadlocksOf(database)) - deadlocksBefore;
    const completed = Number(outcome?.completed ?? 0);
    const elapsed = (Number(outcome?.last) - Number(outcome?.first)) / 1000;
    const perSecond = completed / elapsed;
    const run: PostgresRun = {
      instances,
      tasks: Number(outcome?.n ?? 0),
      completed,
      failed: Number(outcome?.failed ?? 0),
      clientErrors,
      seconds: elapsed,
      perSecond,
      bound,
      ofBound: perSecond / bound,
      deadlocks,
      ...locks,
    };
    log(
      `  ${perSecond.toFixed(1)} tasks/s = ${run.ofBound.toFixed(2)} of the bound; ${run.failed} failed, ${clientErrors} client errors, ${deadlocks} deadlocks; ` +
        `lock waits ${(run.lockWaitShare * 100).toFixed(1)}% of busy backends, counters row ${(run.counterWaitShare * 100).toFixed(1)}%`,
    );
    return run;
  } finally {
    for (const server of servers) await server.stop();
    await admin((c) => c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
  }
}

/** `count` more MANAGED agents, each with room for AI_CONCURRENCY tasks, asking a little more than the last. */
async function addAgents(server: BenchServer, count: number): Promise<void> {
  const operator = await server.user('AGENT');
  for (let i = 0; i < count; i++) {
    const res = await server.gql<{ registerAgent: { __typename: string } }>(
      'mutation ($input: RegisterAgentInput!) { registerAgent(input: $input) { __typename } }',
      { input: { name: `bench-agent-${i}`, maxConcurrency: AI_CONCURRENCY, askPerUnit: 100_000 + i * 1_000 } },
      operator.token,
    );
    if (res.registerAgent.__typename !== 'Agent') throw new Error(`figure 8: registerAgent answered ${res.registerAgent.__typename}`);
  }
}

/** Both runs, one after the other, each on a fresh database; `seconds` sizes each run at its bound. */
export async function postgresFigure(seconds: number, log: (line: string) => void): Promise<PostgresFigures> {
  const fake = await startFakeLlm({ latencyMs: LATENCY });
  try {
    const runs = [await oneRun(1, seconds, fake.baseUrl, log), await oneRun(3, seconds, fake.baseUrl, log)];
    return { runs, meanLatencyS: MEAN_LATENCY_S, aiConcurrency: AI_CONCURRENCY };
  } finally {
    await fake.close();
  }
}
