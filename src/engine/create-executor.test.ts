import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../../scripts/fake-llm/server.ts';
import { createExecutor } from './create-executor.ts';
import { aiConfig, executionRequest, silentLogger } from './executor.fixtures.ts';
import { OfflineExecutor, offlineNotice } from './offline-executor.ts';
import { OpenAiExecutor } from './openai-executor.ts';

let fake: FakeLlm;

beforeAll(async () => {
  fake = await startFakeLlm();
});
afterAll(() => fake.close());

describe('createExecutor', () => {
  it('offline when neither a key nor a base URL is set', () => {
    const executor = createExecutor(aiConfig('', { apiKey: undefined, baseUrl: undefined }), silentLogger);
    expect(executor).toBeInstanceOf(OfflineExecutor);
  });

  it('a base URL alone is a local server that needs no key', async () => {
    const executor = createExecutor(aiConfig(fake.baseUrl, { apiKey: undefined }), silentLogger);

    expect(executor).toBeInstanceOf(OpenAiExecutor);
    expect(await executor.execute(executionRequest({ prompt: 'local?' }))).toEqual({ ok: true, result: 'Answer to: local?' });
    expect(fake.requests.at(-1)?.apiKey).toBe('not-needed');
    expect(executor.health()).toEqual({ status: 'OK', detail: `fake-model at ${fake.baseUrl}`, latencyMs: expect.any(Number) });
    await executor.close();
  });

  it('a key alone talks to OpenAI itself', () => {
    const executor = createExecutor(aiConfig('', { apiKey: 'sk-x', baseUrl: undefined }), silentLogger);
    expect(executor.health().detail).toBe('fake-model at https://api.openai.com/v1');
  });
});

describe('OfflineExecutor', () => {
  it('answers deterministically, says it is offline, counts one attempt', async () => {
    const executor = new OfflineExecutor();
    const request = executionRequest({ agentName: 'Ada', prompt: 'Summarise the news' });

    const first = await executor.execute(request);
    const again = await executor.execute({ ...request, onAttempt: () => {} });

    expect(first.ok && first.result.startsWith(offlineNotice)).toBe(true);
    expect(first.ok && first.result).toContain('Summarise the news');
    expect(again).toEqual(first);
    expect(request.attempts).toBe(1);
  });

  it('reports DEGRADED with the reason', () => {
    expect(new OfflineExecutor().health()).toMatchObject({ status: 'DEGRADED', detail: expect.stringContaining('OPENAI_API_KEY') });
  });

  it('an aborted request is not answered', async () => {
    const request = executionRequest({ signal: AbortSignal.abort() });
    expect(await new OfflineExecutor().execute(request)).toMatchObject({ ok: false, blame: 'aborted' });
    expect(request.attempts).toBe(0);
  });
});
