/** Figure 6: provider goodput under a rate limit, three retry policies side by side (see goodput.ts). */
import { runChild } from './child.ts';
import type { GoodputJob, GoodputResult, Policy } from './goodput.ts';

export interface ProviderFigures {
  requestsPerSecond: number;
  inFlight: number;
  runs: GoodputResult[];
}

/**
 * The three runs go at once, each with its own fake provider (its own token bucket) in its own process:
 * together they need little CPU (a few hundred calls a second), and it saves two minutes of the run.
 */
export async function providerFigure(requestsPerSecond: number, tasks: number, log: (line: string) => void): Promise<ProviderFigures> {
  const inFlight = 24;
  log(`figure 6: ${tasks} tasks against a provider allowing ${requestsPerSecond} req/s, three policies at once`);
  const policies: Policy[] = ['adaptive', 'backoff', 'original'];
  const deadlineSeconds = Math.max(60, (2 * tasks) / requestsPerSecond);
  const runs = await Promise.all(
    policies.map((policy) => runChild<GoodputResult>('./goodput.ts', { policy, requestsPerSecond, tasks, inFlight, deadlineSeconds } satisfies GoodputJob).result),
  );
  return { requestsPerSecond, inFlight, runs };
}
