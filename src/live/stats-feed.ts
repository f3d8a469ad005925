import type { Logger } from 'pino';
import type { Kysely } from 'kysely';
import type { Database } from '../db/types.ts';
import type { Agent } from '../market/model.ts';
import { pageOfAgents } from '../market/agents.ts';
import { marketStats, type MarketStats } from '../market/stats.ts';
import type { AppPubSub } from '../pubsub.ts';

/** How many of the leaderboard are kept in a snapshot; `topAgents(limit)` beyond this reads the database. */
export const SNAPSHOT_TOP_AGENTS = 20;

/** Stats plus the leaderboard, computed once and shared by every reader and subscriber. */
export interface StatsSnapshot extends MarketStats {
  topAgents: Agent[];
}

/**
 * Keeps one current StatsSnapshot. Changes mark it stale; it is recomputed at most once per
 * `intervalMs` (coalescing bursts of thousands of task events into one query and one publish), and
 * `marketStats` queries are answered from memory in between.
 */
export class StatsFeed {
  #current: Promise<StatsSnapshot> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #lastPublish = 0;
  #closed = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly pubsub: AppPubSub,
    private readonly logger: Logger,
    private readonly intervalMs = 250,
  ) {}

  current(): Promise<StatsSnapshot> {
    this.#current ??= this.#compute();
    return this.#current;
  }

  /** Something changed: recompute and publish soon, at most once per interval. */
  changed(): void {
    if (this.#closed || this.#timer) return;
    const wait = Math.max(0, this.#lastPublish + this.intervalMs - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#lastPublish = Date.now();
      const next = this.#compute();
      this.#current = next;
      next.then(
        (snapshot) => this.pubsub.publish('stats', snapshot),
        (error: unknown) => {
          this.#current = undefined;
          this.logger.error({ err: error }, 'computing market stats failed');
        },
      );
    }, wait);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  async #compute(): Promise<StatsSnapshot> {
    const [stats, top] = await Promise.all([marketStats(this.db), pageOfAgents(this.db, 'REPUTATION', 0, SNAPSHOT_TOP_AGENTS)]);
    return { ...stats, topAgents: top.agents };
  }
}
