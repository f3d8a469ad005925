import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/types.ts';
import { forgetLapsed, keepLeasesAlive, markAbsent, markPresent, shortenLeasesOfAbsent } from '../market/presence.ts';

export interface PresenceOptions {
  db: Kysely<Database>;
  logger: Logger;
  /** A running attempt's lease while its operator listens (TASK_LEASE_SECONDS). */
  leaseMs: number;
  /** What a running attempt gets once nobody listens (EXTERNAL_GRACE_SECONDS). */
  graceMs: number;
  /** An agent with a new listener may take waiting work: run an assignment pass. */
  onConnect: () => void;
  /** How often this instance renews its rows and checks for absent agents. */
  heartbeatMs?: number;
  now?: () => number;
}

/**
 * This instance's side of presence (see market/presence.ts): which EXTERNAL agents it holds listeners
 * for, renewed in the database every heartbeat. A row lives three heartbeats, so a crashed instance's
 * agents count as gone within seconds; a listener that closes cleanly removes its row at once.
 */
export class Presence {
  readonly instance = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  readonly #held = new Map<string, number>();
  readonly #heartbeatMs: number;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #beat: Promise<void> = Promise.resolve();
  /** Releases under way, awaited by stop() so none runs into a closed database. */
  readonly #releasing = new Set<Promise<void>>();

  constructor(private readonly options: PresenceOptions) {
    this.#heartbeatMs = options.heartbeatMs ?? 2000;
    this.#now = options.now ?? Date.now;
  }

  get ttlMs(): number {
    return this.#heartbeatMs * 3;
  }

  start(): void {
    this.#timer = setInterval(() => void this.#heartbeat(), this.#heartbeatMs);
    this.#timer.unref();
    void this.#heartbeat();
    // Rows of instances that died long ago mean nothing any more.
    void this.#guard('forgetting lapsed presence', () => forgetLapsed(this.options.db, this.#now() - 3_600_000));
  }

  /**
   * A listener for `agentId` opened here; resolves once the agent counts as connected everywhere. Call the
   * returned release exactly once when it closes.
   */
  async hold(agentId: string): Promise<() => Promise<void>> {
    const count = this.#held.get(agentId) ?? 0;
    this.#held.set(agentId, count + 1);
    if (count === 0) {
      await this.#guard('marking an agent connected', () => markPresent(this.options.db, this.instance, [agentId], this.#now() + this.ttlMs));
      this.options.onConnect();
    }
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      const left = (this.#held.get(agentId) ?? 1) - 1;
      if (left > 0) return void this.#held.set(agentId, left);
      this.#held.delete(agentId);
      const releasing = this.#guard('marking an agent disconnected', async () => {
        await markAbsent(this.options.db, this.instance, [agentId]);
        await shortenLeasesOfAbsent(this.options.db, this.#now(), this.options.graceMs);
      });
      this.#releasing.add(releasing);
      await releasing;
      this.#releasing.delete(releasing);
    };
  }

  /** Whether this instance holds a listener for the agent (the database says whether any does). */
  holds(agentId: string): boolean {
    return this.#held.has(agentId);
  }

  /** Stop renewing and remove this instance's rows: its agents' work gets the grace, as on a disconnect. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await Promise.all([this.#beat, ...this.#releasing]);
    const agents = [...this.#held.keys()];
    this.#held.clear();
    await this.#guard('removing presence at shutdown', async () => {
      await markAbsent(this.options.db, this.instance, agents);
      await shortenLeasesOfAbsent(this.options.db, this.#now(), this.options.graceMs);
    });
  }

  #heartbeat(): Promise<void> {
    // One at a time: a slow database must not pile heartbeats up.
    this.#beat = this.#beat.then(() =>
      this.#guard('presence heartbeat', async () => {
        const { db, leaseMs, graceMs } = this.options;
        const now = this.#now();
        const agents = [...this.#held.keys()];
        await markPresent(db, this.instance, agents, now + this.ttlMs);
        await keepLeasesAlive(db, agents, now, leaseMs);
        const cut = await shortenLeasesOfAbsent(db, now, graceMs);
        if (cut > 0) this.options.logger.warn({ tasks: cut }, 'external agents disconnected: their running tasks return to the queue after the grace');
      }),
    );
    return this.#beat;
  }

  async #guard(what: string, work: () => Promise<unknown>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.options.logger.error({ err: error }, `${what} failed`);
    }
  }
}
