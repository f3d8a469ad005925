/**
 * FIFO semaphores for bounding calls in flight: waiters are served in arrival order (no starvation, no
 * polling), and a waiter whose signal aborts leaves the queue at once.
 */

export type Release = () => void;

interface Waiter {
  grant: (release: Release) => void;
  /** Set when the waiter gave up; it is skipped when its turn comes. */
  cancelled: boolean;
}

export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

export class Semaphore {
  private active = 0;
  private queue: Waiter[] = [];
  private head = 0;
  private waiting = 0;

  /** @param limit calls allowed at once (at least 1). */
  constructor(private limit: number) {
    this.limit = Math.max(1, Math.floor(limit));
  }

  get inUse(): number {
    return this.active;
  }

  /** True when nobody holds or waits for a permit: the semaphore can be forgotten. */
  get idle(): boolean {
    return this.active === 0 && this.waiting === 0;
  }

  /** Raising the limit lets waiters in at once; lowering it takes effect as permits come back. */
  setLimit(limit: number): void {
    this.limit = Math.max(1, Math.floor(limit));
    this.drain();
  }

  /** Resolves with a release function (idempotent) once a permit is free; rejects if `signal` aborts first. */
  acquire(signal?: AbortSignal): Promise<Release> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (this.active < this.limit && this.waiting === 0) {
      this.active += 1;
      return Promise.resolve(this.releaser());
    }
    return new Promise<Release>((resolve, reject) => {
      const waiter: Waiter = {
        cancelled: false,
        grant: (release) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
      };
      const onAbort = () => {
        waiter.cancelled = true;
        this.waiting -= 1;
        reject(abortReason(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiter);
      this.waiting += 1;
    });
  }

  private releaser(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active -= 1;
      this.drain();
    };
  }

  private drain(): void {
    while (this.active < this.limit && this.head < this.queue.length) {
      const waiter = this.queue[this.head];
      this.head += 1;
      if (!waiter || waiter.cancelled) continue;
      this.waiting -= 1;
      this.active += 1;
      waiter.grant(this.releaser());
    }
    // Compact now and then so the array does not grow forever under steady load.
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}

/** One semaphore per key (an agent id), created on demand and forgotten when idle. */
export class KeyedSemaphore {
  private readonly byKey = new Map<string, Semaphore>();

  /** The key's limit is (re)set on each call, so a changed maxConcurrency applies to the next call. */
  async acquire(key: string, limit: number, signal?: AbortSignal): Promise<Release> {
    let semaphore = this.byKey.get(key);
    if (semaphore) semaphore.setLimit(limit);
    else this.byKey.set(key, (semaphore = new Semaphore(limit)));
    try {
      const release = await semaphore.acquire(signal);
      return () => {
        release();
        this.forget(key, semaphore);
      };
    } catch (error) {
      this.forget(key, semaphore);
      throw error;
    }
  }

  get size(): number {
    return this.byKey.size;
  }

  private forget(key: string, semaphore: Semaphore): void {
    if (semaphore.idle && this.byKey.get(key) === semaphore) this.byKey.delete(key);
  }
}
