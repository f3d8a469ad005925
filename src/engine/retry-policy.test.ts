import { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';
import { describe, expect, it } from 'vitest';
import { backoffDelayMs, classifyFailure, retryAfterMs, type BackoffPolicy } from './retry-policy.ts';

const original: BackoffPolicy = { baseMs: 2000, capMs: 32_000, jitter: 'none' };

describe('backoffDelayMs', () => {
  it('without jitter: the original 2, 4, 8, 16, 32 s, then capped', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((retry) => backoffDelayMs(retry, original))).toEqual([
      2000, 4000, 8000, 16_000, 32_000, 32_000, 32_000,
    ]);
  });

  it('equal jitter stays within half..all of the computed wait', () => {
    const equal = { ...original, jitter: 'equal' as const };
    expect(backoffDelayMs(3, equal, () => 0)).toBe(4000);
    expect(backoffDelayMs(3, equal, () => 0.999_999)).toBe(8000);
  });

  it('full jitter spreads over 0..the computed wait', () => {
    const full = { ...original, jitter: 'full' as const };
    expect(backoffDelayMs(2, full, () => 0)).toBe(0);
    expect(backoffDelayMs(2, full, () => 0.5)).toBe(2000);
  });
});

describe('retryAfterMs', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  const headers = (init: Record<string, string>) => new Headers(init);

  it('prefers retry-after-ms', () => {
    expect(retryAfterMs(headers({ 'retry-after-ms': '250', 'retry-after': '9' }), now)).toBe(250);
  });

  it('reads Retry-After in seconds', () => {
    expect(retryAfterMs(headers({ 'retry-after': '3' }), now)).toBe(3000);
    expect(retryAfterMs(headers({ 'retry-after': '0.5' }), now)).toBe(500);
  });

  it('reads Retry-After as an HTTP date, never negative', () => {
    expect(retryAfterMs(headers({ 'retry-after': 'Wed, 01 Jan 2025 00:00:07 GMT' }), now)).toBe(7000);
    expect(retryAfterMs(headers({ 'retry-after': 'Tue, 31 Dec 2024 23:59:00 GMT' }), now)).toBe(0);
  });

  it('ignores what it cannot read', () => {
    expect(retryAfterMs(undefined, now)).toBeUndefined();
    expect(retryAfterMs(headers({}), now)).toBeUndefined();
    expect(retryAfterMs(headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect(retryAfterMs(headers({ 'retry-after-ms': '-5' }), now)).toBeUndefined();
  });
});

describe('classifyFailure', () => {
  const apiError = (status: number, body?: object) => APIError.generate(status, body, undefined, new Headers());

  it.each([
    [429, true, 'provider'],
    [408, true, 'provider'],
    [409, true, 'provider'],
    [500, true, 'provider'],
    [502, true, 'provider'],
    [401, false, 'provider'],
    [403, false, 'provider'],
    [400, false, 'agent'],
    [422, false, 'agent'],
  ] as const)('%i: retryable %s, blame %s', (status, retryable, blame) => {
    expect(classifyFailure(apiError(status), 'm')).toMatchObject({ retryable, blame, status });
  });

  it('404: the agent when it names the model, else the provider', () => {
    const missingModel = apiError(404, { error: { message: 'The model `m-x` does not exist', code: 'model_not_found' } });
    expect(classifyFailure(missingModel, 'm-x')).toMatchObject({ kind: 'model-not-found', blame: 'agent' });
    expect(classifyFailure(apiError(404, { error: { message: 'Invalid URL' } }), 'm-x')).toMatchObject({ blame: 'provider' });
  });

  it('timeouts and connection errors are retried', () => {
    expect(classifyFailure(new APIConnectionTimeoutError(), 'm')).toMatchObject({ kind: 'timeout', retryable: true });
    expect(classifyFailure(new APIConnectionError({ message: 'x' }), 'm')).toMatchObject({ kind: 'connection', retryable: true });
  });

  it('the message carries the status and the provider explanation', () => {
    const failure = classifyFailure(apiError(429, { error: { message: 'Slow down' } }), 'm');
    expect(failure.message).toBe('429 Too Many Requests: Slow down');
  });
});
