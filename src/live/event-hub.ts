import type { Logger } from 'pino';
import type { TaskEvent } from '../market/model.ts';
import { type AppPubSub, fromMessage } from '../pubsub.ts';
import { AsyncQueue } from './async-queue.ts';

const REPLAY_PAGE = 500;

/**
 * One subscription to the `task:event` topic per process, fanned out to every live subscriber by a plain
 * loop. Ten thousand subscribers cost ten thousand callbacks per event, not ten thousand topic listeners
 * each with its own buffer.
 */
export class TaskEventHub {
  readonly #listeners = new Set<(event: TaskEvent) => void>();
  #stop: (() => void) | undefined;

  /** @param replay  events after a sequence, oldest first, at most `limit` (`eventsAfter` on the database). */
  constructor(
    private readonly pubsub: AppPubSub,
    private readonly logger: Logger,
    private readonly replay: (afterSequence: number, limit: number) => Promise<TaskEvent[]>,
  ) {}

  start(): void {
    const messages = this.pubsub.subscribe('task:event');
    this.#stop = () => void messages.return?.();
    void (async () => {
      for await (const message of messages) {
        const event = fromMessage(message);
        for (const listener of this.#listeners) {
          try {
            listener(event);
          } catch (error) {
            this.logger.error({ err: error }, 'task event listener failed');
          }
        }
      }
    })();
  }

  stop(): void {
    this.#stop?.();
    this.#listeners.clear();
  }

  get subscriberCount(): number {
    return this.#listeners.size;
  }

  /** Call `listener` for every event from now on, local or (with Redis) from other instances; returns the unsubscribe. */
  onEvent(listener: (event: TaskEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Live events from now on, as an async iterator; closing it unsubscribes. */
  listen(): AsyncQueue<TaskEvent> {
    const listener = (event: TaskEvent) => queue.push(event);
    const queue = new AsyncQueue<TaskEvent>(() => this.#listeners.delete(listener));
    this.#listeners.add(listener);
    return queue;
  }

  /**
   * Events after `afterSequence` replayed from the database, then live ones, with no gap and no duplicate
   * at the seam: the live listener is attached before the replay reads, and anything at or below the last
   * sequence already delivered is skipped. Without `afterSequence`, live events only.
   */
  async *stream(afterSequence: number | null | undefined): AsyncGenerator<TaskEvent> {
    const live = this.listen();
    try {
      let last = afterSequence ?? Number.NEGATIVE_INFINITY;
      if (afterSequence != null) {
        for (;;) {
          const page = await this.replay(last, REPLAY_PAGE);
          for (const event of page) {
            last = event.sequence;
            yield event;
          }
          if (page.length < REPLAY_PAGE) break;
        }
      }
      for await (const event of live) {
        if (event.sequence <= last) continue;
        last = event.sequence;
        yield event;
      }
    } finally {
      live.close();
    }
  }
}
