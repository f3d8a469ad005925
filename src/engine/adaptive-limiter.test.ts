import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AdaptiveLimiter, parseResetDuration } from './adaptive-limiter.ts';

/** Fake timers drive the clock, so these tests say what the limiter does at which moment without sleeping. */

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

const rateHeaders = (limit: number, remaining: number, reset: string) =>
  new Headers({
    'x-ratelimit-limit-requests': String(limit),
    'x-ratelimit-remaining-requests': String(remaining),
    'x-ratelimit-reset-requests': reset,
  });

function settled<T>(promise: Promise<T>): { done: boolean } {
  const state = { done: false };
  void promise.then(() => (state.done = true));
  return state;
}

describe('parseResetDuration', () => {
  it.each([
    ['20ms', 20],
    ['1s', 1000],
    ['1.5s', 1500],
    ['6m0s', 360_000],
    ['1h2m3s', 3_723_000],
  ])('%s = %i ms', (text, ms) => {
    expect(parseResetDuration(text)).toBe(ms);
  });

  it('rejects what is not a duration', () => {
    expect(parseResetDuration('soon')).toBeUndefined();
    expect(parseResetDuration('5')).toBeUndefined();
    expect(parseResetDuration(null)).toBeUndefined();
  });
});

describe('AdaptiveLimiter', () => {
  it('lets everything through while the provider shows no limit', async () => {
    const limiter = new AdaptiveLimiter();
    const permits = await Promise.all([1, 2, 3].map(() => limiter.acquire()));
    expect(permits).toEqual([1, 2, 3]);
    expect(limiter.observe({ permit: 3, status: 200, headers: new Headers(), retryAfterMs: undefined })).toBe(false);
    expect(limiter.state.ratePerSecond).toBeNull();
  });

  it('paces at the rate the headers reveal once the bucket runs dry', async () => {
    const limiter = new AdaptiveLimiter();
    const permit = await limiter.acquire();
    // 10 requests a second: 10 used, a full refill in 1 s.
    limiter.observe({ permit, status: 200, headers: rateHeaders(10, 0, '1s'), retryAfterMs: undefined });
    expect(limiter.state.ratePerSecond).toBeCloseTo(9.5, 5);

    const next = settled(limiter.acquire());
    await vi.advanceTimersByTimeAsync(100);
    expect(next.done).toBe(false);
    await vi.advanceTimersByTimeAsync(10);
    expect(next.done).toBe(true);
  });

  it('uses tokens the provider still has, minus the calls sent since', async () => {
    const limiter = new AdaptiveLimiter();
    const first = await limiter.acquire();
    await limiter.acquire();
    limiter.observe({ permit: first, status: 200, headers: rateHeaders(10, 3, '700ms'), retryAfterMs: undefined });
    // 3 left, 1 already spent by the second call: 2 more go at once, the third waits.
    await limiter.acquire();
    await limiter.acquire();
    const third = settled(limiter.acquire());
    await vi.advanceTimersByTimeAsync(0);
    expect(third.done).toBe(false);
  });

  it('a 429 with an empty bucket closes the gate for everyone until its Retry-After', async () => {
    const limiter = new AdaptiveLimiter();
    const permit = await limiter.acquire();
    const handled = limiter.observe({ permit, status: 429, headers: rateHeaders(100, 0, '10ms'), retryAfterMs: 500 });
    expect(handled).toBe(true);

    const waiters = [settled(limiter.acquire()), settled(limiter.acquire())];
    await vi.advanceTimersByTimeAsync(499);
    expect(waiters.some((w) => w.done)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(waiters[0]!.done).toBe(true);
  });

  it('a 429 while tokens remain, or without rate headers, is left to the task', async () => {
    const limiter = new AdaptiveLimiter();
    const permit = await limiter.acquire();
    expect(limiter.observe({ permit, status: 429, headers: rateHeaders(100, 50, '1s'), retryAfterMs: 500 })).toBe(false);
    expect(limiter.observe({ permit, status: 429, headers: new Headers(), retryAfterMs: 500 })).toBe(false);
    await expect(limiter.acquire()).resolves.toBe(2);
  });

  it('an aborted waiter leaves the queue', async () => {
    const limiter = new AdaptiveLimiter();
    const permit = await limiter.acquire();
    limiter.observe({ permit, status: 429, headers: rateHeaders(10, 0, '1s'), retryAfterMs: 1000 });
    const controller = new AbortController();
    const abandoned = limiter.acquire(controller.signal);

    controller.abort();
    await expect(abandoned).rejects.toThrow();
    expect(limiter.state.waiting).toBe(0);
  });
});
