import type { Logger } from 'pino';
import type { Kysely } from 'kysely';
import type { Database } from '../db/types.ts';
import type { Agent } from '../market/model.ts';
import { pageOfAgents } from '../market/agents.ts';
import { MINUTE_MS, type MinuteStats, minuteSeries } from '../market/minute-stats.ts';
import { marketStats, type MarketStats } from '../market/stats.ts';
import { AsyncQueue } from './async-queue.ts';

/** How many of the leaderboard are kept in a snapshot; `topAgents(limit)` beyond this reads the database. */
export const SNAPSHOT_TOP_AGENTS = 20;

/** Stats plus the leaderboard, computed once and shared by every reader and subscriber. */
export interface StatsSnapshot extends MarketStats {
  topAgents: Agent[];
}

/**
 * Keeps one current StatsSnapshot. A query gets the cached snapshot unless something changed since it
 * was computed (then one recomputation serves every query waiting on it). Subscribers get a fresh
 * snapshot at most once per `intervalMs`, so a burst of thousands of task events costs one query and one
 * publish, not one per event.
 */
export class StatsFeed {
  #current: Promise<StatsSnapshot> | undefined;
  #stale = true;
  #timer: NodeJS.Timeout | undefined;
  #lastPublish = 0;
  #closed = false;
  readonly #listeners = new Set<AsyncQueue<StatsSnapshot>>();
  /** series(minutes) by length, valid until the stats change or the minute turns. */
  readonly #series = new Map<number, { minute: number; rows: Promise<MinuteStats[]> }>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly logger: Logger,
    private readonly intervalMs = 250,
  ) {}

  current(): Promise<StatsSnapshot> {
    if (this.#stale || !this.#current) this.#refresh();
    return this.#current as Promise<StatsSnapshot>;
  }

  #refresh(): Promise<StatsSnapshot> {
    this.#stale = false;
    this.#series.clear();
    const next = this.#compute();
    this.#current = next;
    next.catch(() => {
      if (this.#current === next) this.#current = undefined;
    });
    return next;
  }

  /** Something changed: recompute and publish soon, at most once per interval. */
  changed(): void {
    this.#stale = true;
    if (this.#closed || this.#timer) return;
    const wait = Math.max(0, this.#lastPublish + this.intervalMs - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#lastPublish = Date.now();
      this.#refresh().then(
        (snapshot) => {
          for (const listener of this.#listeners) listener.push(snapshot);
        },
        (error: unknown) => this.logger.error({ err: error }, 'computing market stats failed'),
      );
    }, wait);
  }

  /**
   * Fresh snapshots from now on. Kept in this process on purpose: every instance computes its own from the
   * shared database when task events (which do cross instances) arrive, so no snapshot is serialized.
   */
  listen(): AsyncQueue<StatsSnapshot> {
    const queue: AsyncQueue<StatsSnapshot> = new AsyncQueue(() => this.#listeners.delete(queue));
    this.#listeners.add(queue);
    return queue;
  }

  /** Open `listen()` queues: one per live marketStats subscription. */
  get listenerCount(): number {
    return this.#listeners.size;
  }

  /**
   * Agents by reputation, best first: the snapshot's leaderboard when the page lies within it (the
   * anonymous front page of every dashboard reads this, so it costs no query), else the database.
   */
  async leaderboard(offset: number, limit: number): Promise<Agent[]> {
    if (offset + limit <= SNAPSHOT_TOP_AGENTS) return (await this.current()).topAgents.slice(offset, offset + limit);
    return pageOfAgents(this.db, 'REPUTATION', offset, limit);
  }

  /**
   * The per-minute history, shared by every reader until something changes: each snapshot sent to
   * thousands of overview subscribers asks for it, and one read serves them all.
   */
  series(minutes: number): Promise<MinuteStats[]> {
    const now = Date.now();
    const minute = Math.floor(now / MINUTE_MS);
    const cached = this.#series.get(minutes);
    if (cached && cached.minute === minute && !this.#stale) return cached.rows;
    const rows = minuteSeries(this.db, minutes, now);
    this.#series.set(minutes, { minute, rows });
    rows.catch(() => this.#series.delete(minutes));
    return rows;
  }

  close(): void {
    this.#closed = true;
    for (const listener of this.#listeners) listener.close();
    clearTimeout(this.#timer);
  }

  async #compute(): Promise<StatsSnapshot> {
    const [stats, top] = await Promise.all([marketStats(this.db), pageOfAgents(this.db, 'REPUTATION', 0, SNAPSHOT_TOP_AGENTS)]);
    return { ...stats, topAgents: top };
  }
}
