/**
 * One autocannon measurement, run in a child process (load-worker.ts): a warm-up that is thrown away,
 * then the measured run. Every answer is checked: a GraphQL error in a 200 counts as a failure, not as
 * throughput.
 */
import { runChild } from './child.ts';

export interface LoadJob {
  url: string;
  /** The GraphQL request body (JSON). */
  body: string;
  /** One Authorization token per connection, used round-robin; none: anonymous. */
  tokens?: string[];
  connections: number;
  warmupSeconds: number;
  /** Measured seconds; ignored when `amount` is set. */
  seconds: number;
  /** Stop after this many requests instead of after `seconds` (no warm-up then). */
  amount?: number;
  /** At most this many requests per second over all connections (autocannon overallRate); none: as fast as it can. */
  rate?: number;
  /** A substring every good answer contains. */
  expect: string;
}

export interface LoadResult {
  /** Good answers per second over the measured run. */
  rps: number;
  requests: number;
  /** Non-2xx, timeouts, connection errors, and 200s without `expect`. */
  failures: number;
  seconds: number;
  latencyMs: { p50: number; p90: number; p99: number; mean: number; max: number };
}

export function measure(job: LoadJob): Promise<LoadResult> {
  return runChild<LoadResult>('./load-worker.ts', job).result;
}

export const benchSettings = {
  seconds: Number(process.env.BENCH_DURATION ?? 10),
  /** Figures 1-3 and their baseline are measured in this many alternating rounds of seconds / rounds each. */
  rounds: Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5)),
  warmupSeconds: Number(process.env.BENCH_WARMUP ?? 3),
  connections: 32,
};

export function graphqlBody(query: string, variables?: Record<string, unknown>): string {
  return JSON.stringify(variables ? { query, variables } : { query });
}
