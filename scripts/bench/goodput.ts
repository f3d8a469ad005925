/**
 * Child process for figure 6: the OpenAI executor alone against a fake provider that allows R requests a
 * second (429 + Retry-After beyond). The server has no switch for the executor's pacing, so the policies
 * are compared here, on the executor itself, driven the way the coordinator drives it: at most `inFlight`
 * tasks at a time (the agents' total maxConcurrency), the next one starting as soon as one ends.
 *
 * Policies:
 * - `adaptive`: the executor as the server runs it (pacing by the provider's rate-limit signals);
 * - `backoff`:  adaptive pacing off, each task backs off on its own, honouring Retry-After;
 * - `original`: the original system's fixed 2-4-8-16-32 s waits (5 retries), Retry-After not honoured
 *   (the fake's retry-after headers are stripped before the client sees them).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { startFakeLlm } from '../fake-llm/server.ts';
import { loadConfig } from '../../src/config.ts';
import { OpenAiExecutor } from '../../src/engine/openai-executor.ts';
import { serve } from './child.ts';

export type Policy = 'adaptive' | 'backoff' | 'original';

export interface GoodputJob {
  policy: Policy;
  requestsPerSecond: number;
  tasks: number;
  inFlight: number;
  /** Give up on what is left after this long (the run is reported as unfinished). */
  deadlineSeconds: number;
}

export interface GoodputResult {
  policy: Policy;
  requestsPerSecond: number;
  tasks: number;
  completed: number;
  failed: number;
  unfinished: number;
  seconds: number;
  /** Completed calls per second, first call to last completion. */
  goodput: number;
  calls: number;
  rateLimited: number;
}

/** A pass-through proxy that drops the headers telling a client how long to wait. */
async function stripRetryAfter(target: string): Promise<{ url: string; close: () => void }> {
  const proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers.set(k, v);
      fetch(new URL(req.url ?? '/', target), { method: req.method, headers, body: chunks.length ? Buffer.concat(chunks) : undefined })
        .then(async (answer) => {
          const out: Record<string, string> = {};
          answer.headers.forEach((v, k) => {
            if (!k.startsWith('retry-after') && k !== 'content-length' && k !== 'content-encoding') out[k] = v;
          });
          res.writeHead(answer.status, out).end(Buffer.from(await answer.arrayBuffer()));
        })
        .catch(() => res.socket?.destroy());
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, close: () => proxy.close() };
}

serve<GoodputJob, GoodputResult>(async (job) => {
  const fake = await startFakeLlm({ requestsPerSecond: job.requestsPerSecond });
  const proxy = job.policy === 'original' ? await stripRetryAfter(fake.baseUrl.replace(/\/v1$/, '')) : undefined;
  const config = loadConfig({ NODE_ENV: 'test', OPENAI_BASE_URL: proxy ? `${proxy.url}/v1` : fake.baseUrl, AI_CONCURRENCY: String(job.inFlight) });
  const executor = new OpenAiExecutor(config.ai, pino({ level: 'silent' }), {
    adaptive: job.policy === 'adaptive',
    ...(job.policy === 'original' && { jitter: 'none' as const }),
  });
  const deadline = AbortSignal.timeout(job.deadlineSeconds * 1000);
  let next = 0;
  let completed = 0;
  let failed = 0;
  let lastDone = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < job.tasks && !deadline.aborted) {
      const n = next++;
      const outcome = await executor.execute({
        taskId: `task-${n}`,
        agentId: `agent-${n % 3}`,
        agentName: `agent-${n % 3}`,
        model: 'fake-model',
        systemPrompt: null,
        prompt: `Task ${n}`,
        complexity: 1,
        agentConcurrency: job.inFlight,
        // Each task its own signal, as the coordinator gives it: waits add abort listeners to it.
        signal: AbortSignal.any([deadline]),
        onAttempt: () => {},
      });
      if (outcome.ok) {
        completed += 1;
        lastDone = performance.now();
      } else if (outcome.blame !== 'aborted') failed += 1;
    }
  };
  await Promise.all(Array.from({ length: job.inFlight }, worker));
  const seconds = ((completed > 0 ? lastDone : performance.now()) - started) / 1000;
  const stats = fake.stats;
  await executor.close();
  proxy?.close();
  await fake.close();
  return {
    policy: job.policy,
    requestsPerSecond: job.requestsPerSecond,
    tasks: job.tasks,
    completed,
    failed,
    unfinished: job.tasks - completed - failed,
    seconds,
    goodput: completed / seconds,
    calls: stats.total,
    rateLimited: stats.rateLimited,
  };
});
