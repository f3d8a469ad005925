import { abortReason } from './semaphore.ts';

/**
 * Paces calls to the provider so that a shared rate limit is used fully without being overrun: with a
 * provider allowing R requests a second, the executor settles at about R, sees almost no 429s, and no task
 * burns its retries on them. Without it, every task backs off on its own and the whole burst comes back at
 * once, again and again.
 *
 * It keeps a mirror of the provider's token bucket, fed by the headers OpenAI (and most compatible
 * providers) send with every response:
 * - `x-ratelimit-limit-requests` (capacity L), `x-ratelimit-remaining-requests` (M) and
 *   `x-ratelimit-reset-requests` (T, the time until the bucket is full again) give the refill rate
 *   (L - M) / T and the tokens left. Tokens are re-read from the newest response as M minus the calls we
 *   dispatched after that request: the provider may have counted some of those already, so the mirror errs
 *   on the side of waiting, and the next response corrects it.
 * - A 429 that says the bucket is empty (remaining 0) closes a gate for everyone until its Retry-After,
 *   instead of only for the task that got it, and trims the estimated rate by 10 % (once per round of
 *   calls, not once per 429 that was already on its way).
 * - A 429 while the provider still reports tokens, or one without rate headers, says nothing about a
 *   shared limit (it is load shedding aimed at that call): the task waits on its own, as without the
 *   limiter. Guessing a shared limit from such 429s (AIMD) collapses throughput under random 429s.
 *
 * Waiting here is not an attempt: callers count an attempt only once `acquire` has let them through.
 */

export interface RateObservation {
  /** The `permit` returned by `acquire` for this call. */
  permit: number;
  status: number;
  headers: Headers | undefined;
  /** The wait the response asked for, when it did. */
  retryAfterMs: number | undefined;
}

export interface LimiterState {
  /** Requests a second the limiter paces to, or null while unconstrained. */
  ratePerSecond: number | null;
  tokens: number;
  /** Epoch ms until which nobody is let through. */
  blockedUntil: number;
  waiting: number;
}

interface Waiter {
  resolve: (permit: number) => void;
  reject: (reason: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

/** "20ms", "1.5s", "6m0s", "1h2m3s" -> milliseconds. */
export function parseResetDuration(text: string | null): number | undefined {
  if (!text) return undefined;
  let total = 0;
  let matched = '';
  for (const [part, value, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) {
    matched += part;
    total += Number(value) * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000);
  }
  return matched.length === text.trim().length && matched.length > 0 ? total : undefined;
}

export class AdaptiveLimiter {
  /** Tokens per ms; null until the provider shows a limit. */
  private rate: number | null = null;
  private capacity = Number.POSITIVE_INFINITY;
  private tokens = Number.POSITIVE_INFINITY;
  private refilledAt: number;
  private blockedUntil = 0;
  private dispatched = 0;
  private syncedPermit = -1;
  private decreasedAtPermit = -1;
  private queue: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly now: () => number = Date.now) {
    this.refilledAt = now();
  }

  get state(): LimiterState {
    this.refill();
    return {
      ratePerSecond: this.rate === null ? null : this.rate * 1000,
      tokens: this.tokens,
      blockedUntil: this.blockedUntil,
      waiting: this.queue.length,
    };
  }

  /** Resolves with a permit number when the call may go, FIFO; rejects when `signal` aborts first. */
  acquire(signal?: AbortSignal): Promise<number> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (this.queue.length === 0 && this.readyAt() <= this.now()) return Promise.resolve(this.take());
    return new Promise<number>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          this.queue = this.queue.filter((w) => w !== waiter);
          reject(abortReason(signal!));
          this.schedule();
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.queue.push(waiter);
      this.schedule();
    });
  }

  /**
   * Learn from a response. Returns true when the limiter takes care of the wait a 429 asked for (the
   * gate or the pace), so the caller should not wait on top of it.
   */
  observe({ permit, status, headers, retryAfterMs }: RateObservation): boolean {
    const limit = Number(headers?.get('x-ratelimit-limit-requests') ?? Number.NaN);
    const remaining = Number(headers?.get('x-ratelimit-remaining-requests') ?? Number.NaN);
    if (!Number.isFinite(limit) || !Number.isFinite(remaining) || limit <= 0) return false;

    this.refill();
    this.capacity = limit;
    const resetMs = parseResetDuration(headers?.get('x-ratelimit-reset-requests') ?? null);
    if (resetMs !== undefined && resetMs > 0 && limit - remaining >= 2) {
      // `remaining` is rounded down, so the true deficit is about half a token less.
      const measured = (limit - remaining - 0.5) / resetMs;
      this.rate = this.rate === null ? measured : this.rate * 0.7 + measured * 0.3;
    }
    if (permit > this.syncedPermit) {
      this.syncedPermit = permit;
      this.tokens = Math.min(limit, remaining - (this.dispatched - permit));
    }

    let handled = false;
    if (status === 429 && remaining <= 0) {
      this.tokens = Math.min(this.tokens, 0);
      if (retryAfterMs !== undefined) this.blockedUntil = Math.max(this.blockedUntil, this.now() + retryAfterMs);
      if (permit > this.decreasedAtPermit && this.rate !== null) {
        this.decreasedAtPermit = this.dispatched;
        this.rate *= 0.9;
      }
      handled = retryAfterMs !== undefined || this.rate !== null;
    }
    this.schedule();
    return handled;
  }

  private refill(): void {
    const now = this.now();
    if (this.rate !== null && this.tokens < this.capacity) {
      this.tokens = Math.min(this.capacity, this.tokens + (now - this.refilledAt) * this.rate);
    }
    this.refilledAt = now;
  }

  private readyAt(): number {
    this.refill();
    const now = this.now();
    const tokenAt = this.tokens >= 1 || this.rate === null ? now : now + (1 - this.tokens) / this.rate;
    return Math.max(this.blockedUntil, tokenAt);
  }

  private take(): number {
    if (this.rate !== null) this.tokens -= 1;
    this.dispatched += 1;
    return this.dispatched;
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.queue.length > 0) {
      const wait = this.readyAt() - this.now();
      if (wait > 0) {
        this.timer = setTimeout(() => this.schedule(), Math.ceil(wait));
        return;
      }
      const waiter = this.queue.shift()!;
      waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.resolve(this.take());
    }
  }
}
