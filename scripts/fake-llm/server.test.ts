import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from './server.ts';

/** The fake provider itself, over plain fetch: the shapes and counters the executor tests rely on. */

let fake: FakeLlm;

beforeAll(async () => {
  fake = await startFakeLlm();
});
afterAll(() => fake.close());
afterEach(() => {
  fake.reset();
});

function chat(content: string, key = 'sk-any') {
  return fetch(`${fake.baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ model: 'm-1', messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content }] }),
  });
}

describe('fake LLM', () => {
  it('reset goes back to the behaviour it was started with, and forgets what it counted', async () => {
    const own = await startFakeLlm({ requiredApiKey: 'sk-own' });
    try {
      own.configure({ requiredApiKey: null, errorRate: 1 });
      expect((await fetch(`${own.baseUrl}/chat/completions`, { method: 'POST', body: '{"messages":[]}' })).status).toBe(500);
      own.reset();
      expect(own.behaviour).toMatchObject({ requiredApiKey: 'sk-own', errorRate: 0 });
      expect(own.stats.total).toBe(0);
      expect((await fetch(`${own.baseUrl}/chat/completions`, { method: 'POST', body: '{"messages":[]}' })).status).toBe(401);
    } finally {
      await own.close();
    }
  });

  it('answers in the chat.completion shape, deterministically, and records the request', async () => {
    const response = await chat('hello');
    const body = (await response.json()) as { object: string; model: string; choices: { message: { content: string } }[] };

    expect(response.status).toBe(200);
    expect(body.object).toBe('chat.completion');
    expect(body.model).toBe('m-1');
    expect(body.choices[0]?.message.content).toBe('Answer to: hello');
    expect(fake.requests[0]).toMatchObject({ seq: 1, model: 'm-1', apiKey: 'sk-any', outcome: 200 });
    expect(fake.stats).toMatchObject({ total: 1, byStatus: { 200: 1 }, inFlight: 0, maxInFlight: 1 });
  });

  it('lists models', async () => {
    const response = await fetch(`${fake.baseUrl}/models`);
    expect(((await response.json()) as { object: string }).object).toBe('list');
  });

  it('plays scripted answers first, in order, once each', async () => {
    fake.enqueue({ status: 503 }, { status: 429, headers: { 'retry-after-ms': '5' } });

    expect((await chat('a')).status).toBe(503);
    const limited = await chat('b');
    expect([limited.status, limited.headers.get('retry-after-ms')]).toEqual([429, '5']);
    expect((await chat('c')).status).toBe(200);
    expect(fake.stats.rateLimited).toBe(1);
  });

  it('a reset drops the connection; garbage is a 200 that is not JSON', async () => {
    fake.enqueue({ kind: 'reset' }, { kind: 'garbage' });

    await expect(chat('a')).rejects.toThrow();
    const garbage = await chat('b');
    expect(garbage.status).toBe(200);
    await expect(garbage.json()).rejects.toThrow();
  });

  it('401 with OpenAI error body for a wrong key', async () => {
    fake.configure({ requiredApiKey: 'sk-right' });

    const wrong = await chat('a', 'sk-wrong');
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'invalid_api_key' } });
    expect((await chat('b', 'sk-right')).status).toBe(200);
  });

  it('beyond its rate limit: 429 with the wait until the next token, rate headers on every answer', async () => {
    // One token per 100 s: refill during the test is negligible.
    fake.configure({ requestsPerSecond: 0.01, burst: 2 });

    const first = await chat('a');
    expect(first.headers.get('x-ratelimit-limit-requests')).toBe('2');
    expect(first.headers.get('x-ratelimit-remaining-requests')).toBe('1');
    await chat('b');
    const third = await chat('c');
    expect(third.status).toBe(429);
    expect(third.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    const waitMs = Number(third.headers.get('retry-after-ms'));
    expect(waitMs).toBeGreaterThan(90_000);
    expect(third.headers.get('retry-after')).toBe(String(Math.ceil(waitMs / 1000)));
  });

  it('a hanging request stays in flight until close() drops it', async () => {
    fake.enqueue({ kind: 'hang' });
    const pending = chat('a').then(
      () => 'answered',
      () => 'dropped',
    );
    await expect.poll(() => fake.stats.inFlight).toBe(1);

    await fake.close();
    expect(await pending).toBe('dropped');
    fake = await startFakeLlm();
  });
});
