import { type Kysely, sql, type Transaction } from 'kysely';
import type { Dialect } from '../db/create-db.ts';
import { type RetryPolicy, retryTransient } from '../db/transient.ts';
import type { Database } from '../db/types.ts';
import type { TaskEvent } from './model.ts';

/** What a committed transaction changed: published (events, stats) only after the commit. */
export interface Committed {
  events: TaskEvent[];
  /** Agents whose capacity or status changed: pending tasks may now fit one of them. */
  capacityFreed: boolean;
  /** Ledger accounts whose balance moved (`Accounts` ids): their owners hear of it (accountUpdated). */
  accounts: readonly string[];
}

/** The market's policy knobs (from config), read by the task's moves. */
export interface MarketRules {
  /** The platform's cut of each payout, in basis points. @default 0 */
  platformFeeBps: number;
  /** A new task's review window when its buyer gives none; 0 pays on delivery. @default 0 */
  reviewWindowSeconds: number;
  /** Change requests a buyer may make per task. @default 2 */
  maxChangeRequests: number;
}

export const DEFAULT_RULES: MarketRules = { platformFeeBps: 0, reviewWindowSeconds: 0, maxChangeRequests: 2 };

/** The marketplace's handle on its data. Plain data plus one hook; the rules are functions taking it. */
export interface Store {
  db: Kysely<Database>;
  /** Which SQL `db` speaks: prepared statements are compiled once per dialect. */
  dialect: Dialect;
  /** Epoch milliseconds; injectable so tests can move time. */
  now(): number;
  /** Defaults to DEFAULT_RULES. */
  rules?: MarketRules;
  /** Which process this is: recorded on every claim (`tasks.claimed_by`). */
  instanceId?: string;
  /** Runs after every commit that changed something, in commit order. */
  onCommit(changes: Committed): void;
  /**
   * Commit transactions that queue up behind each other together (see `GroupCommit`). Set for SQLite,
   * where one connection serializes every writer anyway; PostgreSQL runs transactions side by side.
   */
  groupCommit?: GroupCommit;
  /** How a transaction lost to a deadlock or serialization failure is run again (default: `defaultRetryPolicy`). */
  retry?: RetryPolicy;
}

/** One transaction of the marketplace: the Kysely transaction plus what it will announce when committed. */
export class Tx {
  readonly events: TaskEvent[] = [];
  capacityFreed = false;
  /** Filled by `transfer()`. */
  readonly accounts = new Set<string>();
  readonly #beforeCommit = new Map<string, (tx: Tx) => Promise<void>>();
  constructor(
    readonly db: Transaction<Database>,
    readonly now: number,
    readonly dialect: Dialect,
    readonly rules: MarketRules = DEFAULT_RULES,
    readonly instanceId = 'local',
  ) {}

  /**
   * Run `step` once, after the transaction's own work and just before it commits (registering the same
   * `key` again keeps the first). For writes to rows every transaction shares, such as the counters and
   * the event sequence (see `appendEvent`): taken last, their row locks are held for one statement and
   * the commit, and never while this transaction waits for any other lock.
   */
  beforeCommit(key: string, step: (tx: Tx) => Promise<void>): void {
    if (!this.#beforeCommit.has(key)) this.#beforeCommit.set(key, step);
  }

  /** `fn`, then the steps it left for the end of the transaction. */
  async run<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const value = await fn(this);
    for (const step of this.#beforeCommit.values()) await step(this);
    return value;
  }
}

/**
 * Run `fn` in one transaction (BEGIN IMMEDIATE on SQLite). Thrown errors roll everything back, so a
 * failed mutation leaves no half-created task and moves no money. Events go out only after the commit.
 *
 * A transaction the database rolled back for a deadlock or a serialization failure (or SQLite's
 * SQLITE_BUSY) is run again from the start, a bounded number of times with jittered waits
 * (`retryTransient`), so writers meeting in the database never surface as errors. `fn` may therefore run
 * more than once: it must act only through `tx` (each attempt gets a fresh one, and only the attempt that
 * committed is announced).
 */
export async function transact<T>(store: Store, fn: (tx: Tx) => Promise<T>): Promise<T> {
  if (store.groupCommit) return store.groupCommit.run(store, fn);
  let tx: Tx | undefined;
  const result = await retryTransient(
    () =>
      store.db.transaction().execute(async (trx) => {
        tx = new Tx(trx, store.now(), store.dialect, store.rules, store.instanceId);
        return tx.run(fn);
      }),
    store.retry,
  );
  if (tx) announce(store, tx);
  return result;
}

/** Tell the app what a committed transaction changed, if anything. */
function announce(store: Store, tx: Tx): void {
  if (tx.events.length > 0 || tx.capacityFreed || tx.accounts.size > 0) {
    store.onCommit({ events: tx.events, capacityFreed: tx.capacityFreed, accounts: [...tx.accounts] });
  }
}

interface Job {
  fn: (tx: Tx) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: transactions waiting for the database while another runs are run one after another in
 * a single database transaction, each inside its own SAVEPOINT, and committed once.
 *
 * On SQLite a commit is most of a small transaction's cost: every page it touched is appended to the
 * WAL with one write each (about 40 pages for a new task), and writers take turns on one connection
 * anyway. Sharing the commit among the transactions that queued up meanwhile writes each shared page
 * (the newest leaf of every index) once per group instead of once per transaction.
 *
 * Each transaction keeps its own outcome: one that throws is rolled back to its savepoint, alone, and
 * its caller gets the error. The others' callers hear of success only after the commit that makes them
 * durable, and their events are published after it, in order. If the commit itself fails, every
 * caller in the group gets that error and nothing of the group is kept.
 */
export class GroupCommit {
  readonly #queue: Job[] = [];
  #running = false;

  /** @param maxGroup  at most this many transactions share one commit, so none waits long for the others. */
  constructor(private readonly maxGroup = 32) {}

  run<T>(store: Store, fn: (tx: Tx) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ fn, resolve: resolve as (value: unknown) => void, reject });
      if (this.#running) return;
      this.#running = true;
      // better-sqlite3 is synchronous: while a group runs, no request can arrive. Starting on the next
      // turn of the event loop lets every request already read from its socket this turn join the group.
      setImmediate(() => void this.#drain(store));
    });
  }

  /** One group, then the next on a later turn: requests and timers get their turn between groups. */
  async #drain(store: Store): Promise<void> {
    try {
      await this.#commitGroup(store);
    } finally {
      if (this.#queue.length > 0) setImmediate(() => void this.#drain(store));
      else this.#running = false;
    }
  }

  async #commitGroup(store: Store): Promise<void> {
    let done: { job: Job; tx: Tx; value: unknown }[] = [];
    let failed: { job: Job; error: unknown }[] = [];
    const first = this.#queue.shift();
    if (!first) return;
    // The jobs this group took from the queue: a retry (another process held the file's write lock past
    // busy_timeout) runs the same ones again, from scratch.
    const group: Job[] = [first];
    const attempt = () => {
      done = [];
      failed = [];
      return store.db.transaction().execute(async (trx) => {
        // The first needs no savepoint: if it throws, the whole (so far its own) transaction rolls back.
        const tx = new Tx(trx, store.now(), store.dialect, store.rules, store.instanceId);
        done.push({ job: first, tx, value: await tx.run(first.fn) });
        // Later arrivals join while the group runs, up to its size.
        for (let taken = 1; taken < this.maxGroup; taken++) {
          let job = group[taken];
          if (!job) {
            job = this.#queue.shift();
            if (!job) break;
            group.push(job);
          }
          const tx = new Tx(trx, store.now(), store.dialect, store.rules, store.instanceId);
          await sql`savepoint grouped`.execute(trx);
          try {
            const value = await tx.run(job.fn);
            await sql`release savepoint grouped`.execute(trx);
            done.push({ job, tx, value });
          } catch (error) {
            // If this fails too, the database dropped the whole transaction: the group fails as one.
            await sql`rollback to savepoint grouped`.execute(trx);
            await sql`release savepoint grouped`.execute(trx);
            failed.push({ job, error });
          }
        }
      });
    };
    try {
      await retryTransient(attempt, store.retry);
    } catch (error) {
      // The first transaction threw (nothing else had run), or the commit failed: everyone so far fails.
      for (const job of group) job.reject(error);
      return;
    }
    for (const { job, tx, value } of done) {
      announce(store, tx);
      job.resolve(value);
    }
    for (const { job, error } of failed) job.reject(error);
  }
}
