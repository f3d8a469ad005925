import type { Logger } from 'pino';
import type { TaskEvent } from '../market/model.ts';

/** How events are read back from the database (the source of truth): `eventsAfter` and the newest sequence. */
export interface EventSource {
  /** Committed events after `afterSequence`, oldest first, at most `limit`. */
  after(afterSequence: number, limit: number): Promise<TaskEvent[]>;
  /** The newest committed sequence (0 when there is none). */
  latest(): Promise<number>;
}

export interface SequencerOptions {
  /**
   * How long an event that arrived ahead of a missing one waits for it before the gap is read from the
   * database. Commits on several connections (PostgreSQL) or instances (Redis) announce their events a
   * few milliseconds out of order; a message Redis lost never comes.
   * @default 100
   */
  gapWaitMs?: number;
  /**
   * How often the newest committed sequence is checked when no news arrives: the only way to notice the
   * last events before a silence were lost on the way (Redis pub/sub drops what is published while a
   * subscriber reconnects).
   * @default 1000
   */
  tailCheckMs?: number;
}

const FILL_PAGE = 500;
/** After a failed database read, the next try waits this long (the read is retried until it succeeds). */
const RETRY_MS = 1000;

/**
 * Turns the news of committed events, which arrives in any order, duplicated or not at all, into the
 * committed events strictly in sequence order, each once, with no gap.
 *
 * The database is the source of truth and Redis (or the in-process pub/sub) only carries news of it.
 * Sequences are dense: the counter row that hands them out is updated in the transaction that uses the
 * number and stays locked until it commits, so a transaction that rolls back also gives its number back
 * and the next one takes it (see `takeSequences`). A commit's lock is only released once the commit is
 * visible, so a reader that sees sequence N sees every sequence below it. Hence the one rule here: when
 * a read of the database returns events past a missing sequence, that sequence will never exist, and it
 * is passed over (logged; it would mean the allocation above changed) rather than waited for.
 */
export class EventSequencer {
  /** The last sequence delivered. */
  #last = 0;
  /** Events that arrived ahead of a missing one, by sequence. */
  readonly #early = new Map<number, TaskEvent>();
  #fillTimer: NodeJS.Timeout | undefined;
  #tailTimer: NodeJS.Timeout | undefined;
  #filling = false;
  /** The newest sequence known to be committed (from the tail check), to fill up to. */
  #target = 0;
  #stopped = false;
  readonly #gapWaitMs: number;
  readonly #tailCheckMs: number;

  constructor(
    private readonly source: EventSource,
    private readonly deliver: (event: TaskEvent) => void,
    private readonly logger: Logger,
    options: SequencerOptions = {},
  ) {
    this.#gapWaitMs = options.gapWaitMs ?? 100;
    this.#tailCheckMs = options.tailCheckMs ?? 1000;
  }

  /** Start after the newest committed event: what came before is the replay's (`eventsAfter`), not news. */
  async start(): Promise<void> {
    this.#last = await this.source.latest();
    this.#target = this.#last;
    this.#tailTimer = setInterval(() => void this.#checkTail(), this.#tailCheckMs);
    this.#tailTimer.unref();
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#tailTimer);
    clearTimeout(this.#fillTimer);
    this.#early.clear();
  }

  /** The last sequence delivered: every event up to it has been, in order. */
  get position(): number {
    return this.#last;
  }

  /** News of a committed event, from any instance, in any order. */
  receive(event: TaskEvent): void {
    if (this.#stopped || event.sequence <= this.#last) return;
    if (event.sequence === this.#last + 1 && !this.#filling) {
      this.#pass(event);
      this.#passEarly();
      return;
    }
    this.#early.set(event.sequence, event);
    this.#scheduleFill(this.#gapWaitMs);
  }

  #pass(event: TaskEvent): void {
    if (event.sequence !== this.#last + 1) {
      this.logger.warn({ from: this.#last + 1, to: event.sequence - 1 }, 'event sequences missing from the database: passed over');
    }
    this.#last = event.sequence;
    this.deliver(event);
  }

  /** Deliver the events that waited, as far as they follow on without a gap. */
  #passEarly(): void {
    for (const sequence of this.#early.keys()) if (sequence <= this.#last) this.#early.delete(sequence);
    for (let next = this.#early.get(this.#last + 1); next; next = this.#early.get(this.#last + 1)) {
      this.#early.delete(next.sequence);
      this.#pass(next);
    }
  }

  #scheduleFill(delayMs: number): void {
    if (this.#stopped || this.#fillTimer || this.#filling) return;
    this.#fillTimer = setTimeout(() => void this.#fill(), delayMs);
  }

  /** Read from the database everything up to the newest sequence heard of, and deliver it in order. */
  async #fill(): Promise<void> {
    this.#fillTimer = undefined;
    this.#filling = true;
    let retry = false;
    try {
      for (;;) {
        let wanted = this.#target;
        for (const sequence of this.#early.keys()) wanted = Math.max(wanted, sequence);
        if (this.#last >= wanted || this.#stopped) break;
        const page = await this.source.after(this.#last, FILL_PAGE);
        for (const event of page) if (event.sequence > this.#last && !this.#stopped) this.#pass(event);
        // Fewer than a page and still short: the news was of events not committed (cannot happen, see
        // the class comment), or the tail check raced a fill. Nothing more to read now.
        if (page.length < FILL_PAGE) break;
      }
    } catch (error) {
      this.logger.error({ err: error, after: this.#last }, 'reading missed events from the database failed; retrying');
      retry = true;
    } finally {
      this.#filling = false;
    }
    this.#passEarly();
    if (retry) this.#scheduleFill(RETRY_MS);
    else if (this.#early.size > 0) this.#scheduleFill(this.#gapWaitMs);
  }

  /** No news for a while, yet the database is ahead: the news was lost. Fill from the database. */
  async #checkTail(): Promise<void> {
    if (this.#filling || this.#fillTimer || this.#stopped) return;
    try {
      const latest = await this.source.latest();
      if (latest > this.#last) {
        this.#target = Math.max(this.#target, latest);
        // Give news on its way the usual time to arrive before reading it from the database.
        this.#scheduleFill(this.#gapWaitMs);
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'checking the newest event sequence failed');
    }
  }
}
