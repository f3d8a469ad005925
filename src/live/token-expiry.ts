import { type ExecutionResult, GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context.ts';

/** setTimeout's longest delay (about 24.8 days); a token may live 30. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Run `fn` at `atMs` (epoch ms), however far away; returns a cancel function. */
export function atTime(atMs: number, fn: () => void): () => void {
  let timer: NodeJS.Timeout;
  const arm = () => {
    const left = atMs - Date.now();
    if (left <= 0) return fn();
    timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
    timer.unref();
  };
  arm();
  return () => clearTimeout(timer);
}

const EXPIRED = Symbol('expired');

const expired = (): ExecutionResult => ({
  errors: [new GraphQLError('Sign in again: token expired', { extensions: { code: 'UNAUTHENTICATED' } })],
});

/**
 * A subscription's events until its token's `exp`, then one UNAUTHENTICATED error and the end: no event
 * reaches a caller after its token expired (an event that arrives at that moment is dropped, not sent).
 * `return()` reaches the source at once, so an unsubscribe still closes it.
 */
class UntilExpiry implements AsyncIterableIterator<ExecutionResult> {
  #done = false;
  readonly #cancelTimer: () => void;
  readonly #expired: Promise<typeof EXPIRED>;

  constructor(
    private readonly source: AsyncIterator<ExecutionResult>,
    private readonly expiresAt: number,
  ) {
    let fire!: () => void;
    this.#expired = new Promise<void>((resolve) => (fire = resolve)).then(() => EXPIRED);
    this.#cancelTimer = atTime(expiresAt, fire);
  }

  async next(): Promise<IteratorResult<ExecutionResult>> {
    if (this.#done) return { done: true, value: undefined };
    const next = await Promise.race([this.source.next(), this.#expired]);
    if (this.#done) return { done: true, value: undefined };
    if (next === EXPIRED || Date.now() >= this.expiresAt) {
      this.#finish();
      // Not awaited: an async generator suspended in its own await only returns after that settles.
      this.source.return?.()?.catch(() => undefined);
      return { done: false, value: expired() };
    }
    if (next.done) this.#finish();
    return next;
  }

  #finish(): void {
    this.#done = true;
    this.#cancelTimer();
  }

  async return(): Promise<IteratorResult<ExecutionResult>> {
    this.#finish();
    await this.source.return?.();
    return { done: true, value: undefined };
  }

  async throw(error: unknown): Promise<IteratorResult<ExecutionResult>> {
    this.#finish();
    await this.source.return?.();
    throw error;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<ExecutionResult> {
    return this;
  }
}

/** Every subscription (SSE and graphql-ws) opened with a token ends when that token expires. */
export function useSubscriptionsEndAtTokenExpiry(): Plugin<Context> {
  return {
    onSubscribe({ args }) {
      const expiresAt = (args.contextValue as Partial<Context>).tokenExpiresAt;
      if (expiresAt == null) return undefined;
      return {
        onSubscribeResult({ result, setResult }) {
          if (Symbol.asyncIterator in result) setResult(new UntilExpiry(result[Symbol.asyncIterator](), expiresAt));
        },
      };
    },
  };
}

const socketTimers = new WeakMap<object, () => void>();

/** graphql-ws: the socket whose connection token expires is closed with 4403 at that moment. */
export function closeAtTokenExpiry(socket: { close(code: number, reason: string): void; once(event: 'close', fn: () => void): unknown }, expiresAt: number): void {
  if (socketTimers.has(socket)) return;
  const cancel = atTime(expiresAt, () => socket.close(4403, 'Forbidden: token expired'));
  socketTimers.set(socket, cancel);
  socket.once('close', cancel);
}
