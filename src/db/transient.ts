import { backOff } from 'exponential-backoff';

/**
 * Failures where the database gave up on a transaction only because of another one running beside it,
 * and running it again is the documented remedy:
 * - PostgreSQL `40001` serialization_failure and `40P01` deadlock_detected (the database picked this
 *   transaction as the victim and rolled it back);
 * - SQLite `SQLITE_BUSY*`: another process held the write lock past `busy_timeout` (we BEGIN IMMEDIATE,
 *   so this happens at the start, before anything was done).
 * The error may arrive wrapped (`cause`), so the chain is followed.
 */
export function isTransientConflict(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    const code = (current as { code?: unknown }).code;
    if (code === '40001' || code === '40P01') return true;
    if (typeof code === 'string' && code.startsWith('SQLITE_BUSY')) return true;
  }
  return false;
}

/**
 * A transaction lost to conflicts every time it was tried. Nothing of it was kept; the client hears
 * "try again" (`SERVICE_UNAVAILABLE`) rather than an unexpected error.
 */
export class TransactionConflictError extends Error {
  override name = 'TransactionConflictError';
  constructor(attempts: number, cause: unknown) {
    super(`The database was too busy to complete this after ${attempts} attempts; nothing was changed. Try again.`, { cause });
  }
}

export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  /** The first wait; it doubles up to `maxDelayMs`, each wait drawn at random below it (full jitter). */
  firstDelayMs: number;
  maxDelayMs: number;
  /** Told of each retry, e.g. to log it or count it. */
  onRetry?: (error: unknown, attempt: number) => void;
}

/**
 * Ten tries; the waits double from 10 ms and are capped at 640 ms (a few seconds in all at worst, on top
 * of PostgreSQL's own `deadlock_timeout`, 1 s, per deadlock). Full jitter: each wait is drawn at random
 * below its cap, so the two sides of a deadlock do not come back in lockstep and meet again.
 */
export const defaultRetryPolicy: RetryPolicy = { attempts: 10, firstDelayMs: 10, maxDelayMs: 640 };

/**
 * Run `attempt` until it succeeds, fails with something other than a transient conflict, or has been
 * tried `policy.attempts` times. `attempt` must be safe to run again: a whole transaction, whose effects
 * outside the database wait for its commit.
 */
export async function retryTransient<T>(attempt: () => Promise<T>, policy: RetryPolicy = defaultRetryPolicy): Promise<T> {
  let tries = 0;
  try {
    return await backOff(
      () => {
        tries++;
        return attempt();
      },
      {
        numOfAttempts: policy.attempts,
        startingDelay: policy.firstDelayMs,
        maxDelay: policy.maxDelayMs,
        timeMultiple: 2,
        jitter: 'full',
        retry: (error: unknown, attemptNumber: number) => {
          if (!isTransientConflict(error) || attemptNumber >= policy.attempts) return false;
          policy.onRetry?.(error, attemptNumber);
          return true;
        },
      },
    );
  } catch (error) {
    if (isTransientConflict(error)) throw new TransactionConflictError(tries, error);
    throw error;
  }
}
