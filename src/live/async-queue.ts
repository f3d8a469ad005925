/**
 * An unbounded push queue read as an async iterator: the bridge from a listener callback to a
 * subscription's generator. `close()` ends iteration (and calls `onClose` once, e.g. to unsubscribe);
 * pushes after that are dropped. One lives as long as each subscription, so it holds no closures of its own.
 */
export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  #items: T[] = [];
  #waiting: ((result: IteratorResult<T>) => void) | undefined;
  #closed = false;

  constructor(private readonly onClose?: () => void) {}

  push(item: T): void {
    if (this.#closed) return;
    const waiting = this.#waiting;
    if (waiting) {
      this.#waiting = undefined;
      waiting({ value: item, done: false });
    } else {
      this.#items.push(item);
    }
  }

  close(): void {
    if (!this.#closed) this.onClose?.();
    this.#closed = true;
    this.#items = [];
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#items.length > 0) return Promise.resolve({ value: this.#items.shift() as T, done: false });
    if (this.#closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.#waiting = resolve;
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}

/**
 * `inner`, with `onEnd` called the moment its consumer stops it (return/throw) rather than when the
 * generator next wakes up: a generator suspended in `await` handles return() only after that await.
 * `onEnd` should make the pending await finish (e.g. close the queue it waits on).
 */
export function closingWith<T>(inner: AsyncGenerator<T>, onEnd: () => void): AsyncIterableIterator<T> {
  return {
    next: () => inner.next(),
    return: (value?: unknown) => {
      onEnd();
      return inner.return(value as T);
    },
    throw: (error?: unknown) => {
      onEnd();
      return inner.throw(error);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
