import { pino } from 'pino';
import type { Config } from '../config.ts';
import type { ExecutionRequest } from './executor.ts';

/** Shared by the executor tests: a quiet logger, a fast retry policy, and requests that count attempts. */

export const silentLogger = pino({ level: 'silent' });

/** Small waits keep the retry tests fast; `maxRetries` stays at the real default of 5. */
export function aiConfig(baseUrl: string, overrides: Partial<Config['ai']> = {}): Config['ai'] {
  return {
    apiKey: 'sk-test',
    baseUrl,
    model: 'fake-model',
    maxRetries: 5,
    retryBaseMs: 5,
    retryCapMs: 40,
    timeoutMs: 10_000,
    concurrency: 16,
    ...overrides,
  };
}

export type CountingRequest = ExecutionRequest & { readonly attempts: number };

let taskSeq = 0;

export function executionRequest(overrides: Partial<ExecutionRequest> = {}): CountingRequest {
  taskSeq += 1;
  let attempts = 0;
  const request = {
    taskId: `task-${taskSeq}`,
    agentId: 'agent-1',
    agentName: 'agent-1',
    model: 'fake-model',
    systemPrompt: null,
    prompt: `prompt ${taskSeq}`,
    complexity: 3,
    agentConcurrency: 1000,
    signal: new AbortController().signal,
    ...overrides,
    onAttempt: () => {
      attempts += 1;
      overrides.onAttempt?.();
    },
    get attempts() {
      return attempts;
    },
  };
  return request;
}
