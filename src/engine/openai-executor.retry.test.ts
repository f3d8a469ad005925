import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { completionBody } from '../../scripts/fake-llm/behaviour.ts';
import { startFakeLlm, type FakeLlm } from '../../scripts/fake-llm/server.ts';
import type { Config } from '../config.ts';
import { aiConfig, executionRequest, silentLogger } from './executor.fixtures.ts';
import { OpenAiExecutor, type OpenAiExecutorOptions } from './openai-executor.ts';

/** The retry policy against the fake provider over real HTTP: what is retried, what is not, and how long we wait. */

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

describe.each([true, false])('retried failures (adaptive %s)', (adaptive) => {
  it.each([
    ['429 with retry-after-ms', { status: 429, headers: { 'retry-after-ms': '20' } }],
    ['500', { status: 500 }],
    ['503', { status: 503 }],
    ['408', { status: 408 }],
    ['connection reset', { kind: 'reset' as const }],
    ['body that is not JSON', { kind: 'garbage' as const, shape: 'invalid-json' as const }],
    ['body without choices', { kind: 'garbage' as const, shape: 'wrong-shape' as const }],
  ])('%s, then success: completes after 2 calls', async (_, failure) => {
    fake.enqueue(failure);
    const request = executionRequest({ prompt: 'what is 2+2?' });

    const outcome = await executor({}, { adaptive }).execute(request);

    expect(outcome).toEqual({ ok: true, result: 'Answer to: what is 2+2?' });
    expect(fake.stats.total).toBe(2);
    expect(request.attempts).toBe(2);
  });

  it('a hanging call times out and is retried', async () => {
    fake.enqueue({ kind: 'hang' });
    const request = executionRequest();

    const outcome = await executor({ timeoutMs: 200 }, { adaptive }).execute(request);

    expect(outcome.ok).toBe(true);
    expect(fake.stats.hangs).toBe(1);
    expect(request.attempts).toBe(2);
  });

  it('retry-after-ms overrides the computed wait', async () => {
    fake.enqueue({ status: 429, headers: { 'retry-after-ms': '150' } });

    await executor({ retryBaseMs: 1 }, { adaptive }).execute(executionRequest());

    const [first, second] = fake.requests;
    // Timers may fire up to 1 ms early against performance.now(); allow that much.
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(149);
  });
});

describe('waits', () => {
  it('Retry-After in seconds overrides the computed wait', async () => {
    fake.enqueue({ status: 503, headers: { 'retry-after': '1' } });

    await executor({ retryBaseMs: 1 }).execute(executionRequest());

    const [first, second] = fake.requests;
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(999);
  });

  it('Retry-After longer than maxRetryAfterMs is cut short', async () => {
    fake.enqueue({ status: 429, headers: { 'retry-after': '3600' } });

    const outcome = await executor({}, { maxRetryAfterMs: 10 }).execute(executionRequest());

    expect(outcome.ok).toBe(true);
  });
});

describe('not retried', () => {
  it('401: one call, the provider is blamed, health DEGRADED at once', async () => {
    fake.configure({ requiredApiKey: 'sk-right' });
    const request = executionRequest();
    const subject = executor({ apiKey: 'sk-wrong' });

    const outcome = await subject.execute(request);

    expect(outcome).toMatchObject({ ok: false, blame: 'provider' });
    expect(!outcome.ok && outcome.error).toMatch(/^401 Unauthorized: Incorrect API key/);
    expect(fake.stats.total).toBe(1);
    expect(request.attempts).toBe(1);
    expect(subject.health()).toMatchObject({ status: 'DEGRADED', detail: expect.stringMatching(/401/) });
  });

  it.each([
    [400, 'agent'],
    [403, 'provider'],
    [422, 'agent'],
  ] as const)('%i: one call, blame %s', async (status, blame) => {
    fake.enqueue({ status });
    const request = executionRequest();

    const outcome = await executor().execute(request);

    expect(outcome).toMatchObject({ ok: false, blame });
    expect(fake.stats.total).toBe(1);
    expect(request.attempts).toBe(1);
  });

  it('404 model_not_found is the agent configuration: blame agent', async () => {
    fake.enqueue({ status: 404 });

    const outcome = await executor().execute(executionRequest({ model: 'no-such-model' }));

    expect(outcome).toMatchObject({ ok: false, blame: 'agent' });
    expect(fake.stats.total).toBe(1);
  });

  it('404 not about the model means our base URL is wrong: blame provider', async () => {
    const outcome = await new OpenAiExecutor(aiConfig(`${fake.baseUrl}/wrong`), silentLogger).execute(executionRequest());

    expect(outcome).toMatchObject({ ok: false, blame: 'provider' });
  });

  it('429 insufficient_quota: waiting will not help', async () => {
    fake.enqueue({
      status: 429,
      body: { error: { message: 'You exceeded your current quota', type: 'insufficient_quota', param: null, code: 'insufficient_quota' } },
    });

    const outcome = await executor().execute(executionRequest());

    expect(outcome).toMatchObject({ ok: false, blame: 'provider' });
    expect(fake.stats.total).toBe(1);
  });
});

describe('giving up', () => {
  it('exhausted retries: ok false after exactly 1 + maxRetries calls', async () => {
    fake.enqueue(...Array.from({ length: 10 }, () => ({ status: 500 })));
    const request = executionRequest();
    const subject = executor({ maxRetries: 5 });

    const outcome = await subject.execute(request);

    expect(outcome).toMatchObject({ ok: false, blame: 'provider' });
    expect(!outcome.ok && outcome.error).toMatch(/^500 Internal Server Error.*\(after 6 attempts\)$/);
    expect(fake.stats.total).toBe(6);
    expect(request.attempts).toBe(6);
    expect(subject.health()).toMatchObject({ status: 'DEGRADED', detail: expect.stringMatching(/^last 6 calls failed: 500/) });

    expect((await subject.execute(executionRequest())).ok).toBe(true);
    expect(subject.health()).toMatchObject({ status: 'OK', detail: `fake-model at ${fake.baseUrl}` });
    expect(subject.health().latencyMs).not.toBeNull();
  });

  it('maxRetries 0: a single call', async () => {
    fake.enqueue({ status: 503 });

    const outcome = await executor({ maxRetries: 0 }).execute(executionRequest());

    expect(outcome.ok).toBe(false);
    expect(fake.stats.total).toBe(1);
  });

  it('an empty answer is retried once, then blamed on the agent', async () => {
    const empty = { status: 200, body: completionBody('', 'fake-model') };
    fake.enqueue(empty, empty, empty);
    const request = executionRequest();

    const outcome = await executor().execute(request);

    expect(outcome).toMatchObject({ ok: false, blame: 'agent' });
    expect(request.attempts).toBe(2);
  });

  it('an empty answer then a real one completes', async () => {
    fake.enqueue({ status: 200, body: completionBody(null, 'fake-model') });

    expect((await executor().execute(executionRequest({ prompt: 'hi' }))).ok).toBe(true);
  });
});

describe('what reaches the provider', () => {
  it('the agent model, a system prompt with its name, complexity and instructions, the prompt, our key', async () => {
    const outcome = await executor().execute(
      executionRequest({
        agentName: 'Ada',
        model: 'agent-model-x',
        complexity: 7,
        systemPrompt: 'Answer in French.',
        prompt: 'Explain leases.',
      }),
    );

    expect(outcome).toEqual({ ok: true, result: 'Answer to: Explain leases.' });
    const [seen] = fake.requests;
    expect(seen?.model).toBe('agent-model-x');
    expect(seen?.apiKey).toBe('sk-test');
    expect(seen?.messages).toHaveLength(2);
    expect(seen?.messages[0]?.role).toBe('system');
    expect(seen?.messages[0]?.content).toContain('Ada');
    expect(seen?.messages[0]?.content).toContain('complexity is 7');
    expect(seen?.messages[0]?.content).toContain('Answer in French.');
    expect(seen?.messages[1]).toEqual({ role: 'user', content: 'Explain leases.' });
  });
});
