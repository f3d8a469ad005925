import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/types.ts';
import type { TaskEvent } from './model.ts';

/** What a committed transaction changed: published (events, stats) only after the commit. */
export interface Committed {
  events: TaskEvent[];
  /** Agents whose capacity or status changed: pending tasks may now fit one of them. */
  capacityFreed: boolean;
}

/** The marketplace's handle on its data. Plain data plus one hook; the rules are functions taking it. */
export interface Store {
  db: Kysely<Database>;
  /** Epoch milliseconds; injectable so tests can move time. */
  now(): number;
  /** Runs after every commit that changed something, in commit order. */
  onCommit(changes: Committed): void;
}

/** One transaction of the marketplace: the Kysely transaction plus what it will announce when committed. */
export class Tx {
  readonly events: TaskEvent[] = [];
  capacityFreed = false;
  constructor(
    readonly db: Transaction<Database>,
    readonly now: number,
  ) {}
}

/**
 * Run `fn` in one transaction (BEGIN IMMEDIATE on SQLite). Thrown errors roll everything back, so a
 * failed mutation leaves no half-created task and moves no money. Events go out only after the commit.
 */
export async function transact<T>(store: Store, fn: (tx: Tx) => Promise<T>): Promise<T> {
  let tx: Tx | undefined;
  const result = await store.db.transaction().execute(async (trx) => {
    tx = new Tx(trx, store.now());
    return fn(tx);
  });
  if (tx && (tx.events.length > 0 || tx.capacityFreed)) {
    store.onCommit({ events: tx.events, capacityFreed: tx.capacityFreed });
  }
  return result;
}
