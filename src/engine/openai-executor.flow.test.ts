import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../../scripts/fake-llm/server.ts';
import type { Config } from '../config.ts';
import { aiConfig, executionRequest, silentLogger } from './executor.fixtures.ts';
import { OpenAiExecutor, type OpenAiExecutorOptions } from './openai-executor.ts';

/** Concurrency bounds, aborts, attempt counting and adaptive pacing, against the fake over real HTTP. */

let fake: FakeLlm;
const executors: OpenAiExecutor[] = [];

beforeAll(async () => {
  fake = await startFakeLlm();
});
afterAll(() => fake.close());
afterEach(async () => {
  await Promise.all(executors.splice(0).map((e) => e.close()));
  fake.reset();
});

function executor(overrides: Partial<Config['ai']> = {}, options?: OpenAiExecutorOptions): OpenAiExecutor {
  const created = new OpenAiExecutor(aiConfig(fake.baseUrl, overrides), silentLogger, options);
  executors.push(created);
  return created;
}

describe('concurrency', () => {
  it('100 requests against a slow provider: never more than AI_CONCURRENCY in flight', async () => {
    fake.configure({ latencyMs: { min: 5, max: 25 } });
    const subject = executor({ concurrency: 4 });

    const outcomes = await Promise.all(Array.from({ length: 100 }, () => subject.execute(executionRequest())));

    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(fake.stats.maxInFlight).toBeLessThanOrEqual(4);
    expect(fake.stats.maxInFlight).toBeGreaterThan(1);
  });

  it('per agent: at most its maxConcurrency in flight', async () => {
    fake.configure({ latencyMs: 10 });
    const subject = executor({ concurrency: 16 });

    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () => subject.execute(executionRequest({ agentId: 'agent-a', agentConcurrency: 2 }))),
    );

    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(fake.stats.maxInFlight).toBe(2);
  });

  it('per agent: each agent has its own bound', async () => {
    fake.configure({ latencyMs: 10 });
    const subject = executor({ concurrency: 16 });
    const run = (agentId: string) => subject.execute(executionRequest({ agentId, agentConcurrency: 2 }));

    const outcomes = await Promise.all(Array.from({ length: 40 }, (_, i) => run(i % 2 === 0 ? 'agent-a' : 'agent-b')));

    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(fake.stats.maxInFlight).toBeLessThanOrEqual(4);
    expect(fake.stats.maxInFlight).toBeGreaterThan(2);
  });

  it('onAttempt is called once per provider call, retries included', async () => {
    fake.configure({ errorRate: 0.3 });
    const subject = executor({ maxRetries: 3 });
    const requests = Array.from({ length: 60 }, () => executionRequest());

    await Promise.all(requests.map((r) => subject.execute(r)));

    const attempts = requests.reduce((sum, r) => sum + r.attempts, 0);
    expect(attempts).toBe(fake.stats.total);
    expect(Math.max(...requests.map((r) => r.attempts))).toBeLessThanOrEqual(4);
  });
});

describe('abort', () => {
  it('stops a call in flight at once: blame aborted', async () => {
    fake.enqueue({ kind: 'hang' });
    const controller = new AbortController();
    const request = executionRequest({ signal: controller.signal });
    // A long timeout: only the abort can end this call.
    const pending = executor({ timeoutMs: 3_600_000 }).execute(request);
    await vi.waitFor(() => expect(fake.stats.hangs).toBe(1));

    controller.abort();

    expect(await pending).toMatchObject({ ok: false, blame: 'aborted' });
    expect(request.attempts).toBe(1);
    await vi.waitFor(() => expect(fake.stats.inFlight).toBe(0));
  });

  it('stops the wait between attempts', async () => {
    fake.enqueue({ status: 500 });
    const controller = new AbortController();
    const request = executionRequest({ signal: controller.signal });
    const pending = executor({ retryBaseMs: 3_600_000, retryCapMs: 3_600_000 }).execute(request);
    await vi.waitFor(() => expect(fake.stats.byStatus[500]).toBe(1));

    controller.abort();

    expect(await pending).toMatchObject({ ok: false, blame: 'aborted' });
    expect(fake.stats.total).toBe(1);
  });

  it('stops a request queued behind the concurrency bound without counting an attempt', async () => {
    fake.enqueue({ kind: 'hang' });
    const subject = executor({ concurrency: 1, timeoutMs: 3_600_000 });
    const first = new AbortController();
    const second = new AbortController();
    const queued = executionRequest({ signal: second.signal });
    const running = subject.execute(executionRequest({ signal: first.signal }));
    const waiting = subject.execute(queued);
    await vi.waitFor(() => expect(fake.stats.hangs).toBe(1));

    second.abort();
    expect(await waiting).toMatchObject({ ok: false, blame: 'aborted' });
    expect(queued.attempts).toBe(0);
    first.abort();
    expect(await running).toMatchObject({ ok: false, blame: 'aborted' });
  });

  it('an already aborted signal makes no call', async () => {
    const request = executionRequest({ signal: AbortSignal.abort() });

    expect(await executor().execute(request)).toMatchObject({ ok: false, blame: 'aborted' });
    expect(request.attempts).toBe(0);
    expect(fake.stats.total).toBe(0);
  });
});

describe('close', () => {
  it('waits for calls under way and refuses new ones', async () => {
    fake.configure({ latencyMs: 50 });
    const subject = executor();
    const running = subject.execute(executionRequest());
    await vi.waitFor(() => expect(fake.stats.inFlight).toBe(1));

    const closed = subject.close();
    expect(await subject.execute(executionRequest())).toMatchObject({ ok: false, blame: 'aborted' });
    await closed;

    expect(fake.stats.byStatus[200]).toBe(1);
    expect(await running).toMatchObject({ ok: true });
    await subject.close();
  });
});

describe('adaptive pacing', () => {
  it('against a provider limited to 100 req/s: every task completes with few 429s', async () => {
    fake.configure({ requestsPerSecond: 100, burst: 20 });
    const subject = executor({ concurrency: 16, retryBaseMs: 20 });

    const outcomes = await Promise.all(Array.from({ length: 300 }, () => subject.execute(executionRequest())));

    expect(outcomes.filter((o) => !o.ok)).toEqual([]);
    // 300 successes; without pacing the same run sees hundreds of 429s.
    expect(fake.stats.rateLimited).toBeLessThanOrEqual(30);
    expect(subject.limiterState?.ratePerSecond).toBeGreaterThan(80);
  });

  it('a 429 saying the bucket is empty closes the gate for everyone until its Retry-After', async () => {
    fake.enqueue({
      status: 429,
      headers: {
        'retry-after-ms': '150',
        'x-ratelimit-limit-requests': '10',
        'x-ratelimit-remaining-requests': '0',
        'x-ratelimit-reset-requests': '1s',
      },
    });
    const subject = executor({ concurrency: 1 });

    await Promise.all([subject.execute(executionRequest()), subject.execute(executionRequest())]);

    const [rejected, ...rest] = fake.requests;
    expect(rest).toHaveLength(2);
    for (const later of rest) expect(later.receivedAt - rejected!.receivedAt).toBeGreaterThanOrEqual(149);
  });
});
