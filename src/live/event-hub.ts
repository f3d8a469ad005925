import type { Logger } from 'pino';
import type { TaskEvent } from '../market/model.ts';
import { type AppPubSub, fromMessage } from '../pubsub.ts';
import { AsyncQueue } from './async-queue.ts';
import { type EventSource, EventSequencer, type SequencerOptions } from './event-sequencer.ts';

const REPLAY_PAGE = 500;

/**
 * One subscription to the `task:event` topic per process, put in sequence order (EventSequencer: no gap,
 * no duplicate, whichever instance committed an event) and fanned out to every live subscriber by a
 * plain loop. Ten thousand subscribers cost ten thousand callbacks per event, not ten thousand topic
 * listeners each with its own buffer.
 */
export class TaskEventHub {
  readonly #listeners = new Set<(event: TaskEvent) => void>();
  readonly #sequencer: EventSequencer;
  #stop: (() => void) | undefined;

  /** @param source  the database's events (`eventsAfter`, `latestSequence`): replays and gap fills read it. */
  constructor(
    private readonly pubsub: AppPubSub,
    private readonly logger: Logger,
    private readonly source: EventSource,
    options: SequencerOptions = {},
  ) {
    this.#sequencer = new EventSequencer(source, (event) => this.#fanOut(event), logger, options);
  }

  /** Listen to the topic, then start after the newest committed event (news of older ones is dropped). */
  async start(): Promise<void> {
    const messages = this.pubsub.subscribe('task:event');
    this.#stop = () => void messages.return?.();
    await this.#sequencer.start();
    void (async () => {
      for await (const message of messages) this.#sequencer.receive(fromMessage(message));
    })();
  }

  stop(): void {
    this.#stop?.();
    this.#sequencer.stop();
    this.#listeners.clear();
  }

  get subscriberCount(): number {
    return this.#listeners.size;
  }

  /** The last sequence handed to the listeners: every event up to it has been, in order. */
  get position(): number {
    return this.#sequencer.position;
  }

  #fanOut(event: TaskEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        this.logger.error({ err: error }, 'task event listener failed');
      }
    }
  }

  /** Call `listener` for every event from now on, in sequence order, local or (with Redis) from other instances; returns the unsubscribe. */
  onEvent(listener: (event: TaskEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Live events from now on, in sequence order, as an async iterator; closing it unsubscribes. */
  listen(): AsyncQueue<TaskEvent> {
    const listener = (event: TaskEvent) => queue.push(event);
    const queue = new AsyncQueue<TaskEvent>(() => this.#listeners.delete(listener));
    this.#listeners.add(listener);
    return queue;
  }

  /**
   * Events after `afterSequence` replayed from the database, then live ones, with no gap and no duplicate
   * at the seam: the live listener is attached before the replay reads, and anything at or below the last
   * sequence already delivered is skipped. The live half starts right after the hub's position when it
   * was attached, and that event was committed before the replay read, so the read reaches at least it.
   * Without `afterSequence`, live events only. `live`: a queue from `listen()` the caller may close to end
   * the stream at once (see closingWith).
   */
  async *stream(afterSequence: number | null | undefined, live = this.listen()): AsyncGenerator<TaskEvent> {
    try {
      let last = afterSequence ?? Number.NEGATIVE_INFINITY;
      if (afterSequence != null) {
        for (;;) {
          const page = await this.source.after(last, REPLAY_PAGE);
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
