/** Child process: runs one autocannon job from load.ts and answers with its figures. */
import autocannon from 'autocannon';
import { serve } from './child.ts';
import type { LoadJob, LoadResult } from './load.ts';

function run(job: LoadJob, seconds: number, amount?: number): Promise<autocannon.Result> {
  let next = 0;
  const tokens = job.tokens ?? [];
  return autocannon({
    url: job.url,
    method: 'POST',
    connections: job.connections,
    duration: seconds,
    ...(amount !== undefined && { amount }),
    ...(job.rate !== undefined && { overallRate: job.rate }),
    timeout: 30,
    body: job.body,
    headers: { 'content-type': 'application/json' },
    setupClient: (client) => {
      const token = tokens.length > 0 ? tokens[next++ % tokens.length] : undefined;
      client.setHeaders({ 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) });
    },
    verifyBody: (body) => typeof body === 'string' && body.includes(job.expect) && !body.includes('"errors"'),
  });
}

serve<LoadJob, LoadResult>(async (job) => {
  if (job.amount === undefined && job.warmupSeconds > 0) await run(job, job.warmupSeconds);
  const started = performance.now();
  const result = await run(job, job.seconds, job.amount);
  const seconds = job.amount === undefined ? result.duration : (performance.now() - started) / 1000;
  const failures = result.errors + result.timeouts + result.non2xx + result.mismatches;
  const good = result['2xx'] - result.mismatches;
  return {
    rps: good / seconds,
    requests: result.requests.total,
    failures,
    seconds,
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      mean: result.latency.average,
      max: result.latency.max,
    },
  };
});
