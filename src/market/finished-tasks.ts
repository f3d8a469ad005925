import type { Kysely } from 'kysely';
import { BoundedMap } from '../bounded-map.ts';
import type { Database } from '../db/types.ts';
import type { Task } from './model.ts';
import { isFinal } from './task/state.ts';

/** How many finished tasks each database keeps in memory (about 1 KB each); the oldest go first. */
const CAPACITY = 5_000;

/**
 * Finished tasks (COMPLETED, FAILED, CANCELLED) never change again: no transition leaves those states
 * and nothing else writes their rows. Lists, mostly of finished work, can therefore read only the ids of
 * a page from an index and take the tasks they already know from here, instead of reading and decoding
 * every column of every row again (half the cost of a page of 20 tasks). Entries are frozen, since one
 * object is shared by every request that reads it.
 */
export class FinishedTasks {
  readonly #tasks = new BoundedMap<string, Task>(CAPACITY);

  get(id: string): Task | undefined {
    return this.#tasks.get(id);
  }

  /** Remember `task` if it is finished. */
  offer(task: Task): void {
    if (!isFinal(task.status) || this.#tasks.has(task.id)) return;
    Object.freeze(task.skills);
    this.#tasks.set(task.id, Object.freeze(task));
  }
}

const byDatabase = new WeakMap<Kysely<Database>, FinishedTasks>();

/** The finished tasks known for this database handle (one per app). */
export function finishedTasks(db: Kysely<Database>): FinishedTasks {
  let known = byDatabase.get(db);
  if (!known) {
    known = new FinishedTasks();
    byDatabase.set(db, known);
  }
  return known;
}
