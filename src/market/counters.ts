import type { Kysely } from 'kysely';
import type { Database } from '../db/types.ts';
import type { Tx } from './store.ts';
import { TaskStatus } from './task-state.ts';

/**
 * Market-wide numbers kept in the same transaction as the change they count, so reading the stats is one
 * small query however many tasks there are, and they are never out of step with the tasks table.
 */
export const Counter = {
  eventSequence: 'event.sequence',
  tasksTotal: 'tasks.total',
  totalPaid: 'paid.total',
  tasksIn: (status: TaskStatus) => `tasks.${status}`,
} as const;

export async function ensureCounters(db: Kysely<Database>): Promise<void> {
  const names = [Counter.eventSequence, Counter.tasksTotal, Counter.totalPaid, ...Object.values(TaskStatus).map(Counter.tasksIn)];
  await db
    .insertInto('counters')
    .values(names.map((name) => ({ name, value: 0 })))
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
}

export async function bump(tx: Tx, name: string, delta: number): Promise<void> {
  await tx.db.updateTable('counters').set((eb) => ({ value: eb('value', '+', delta) })).where('name', '=', name).execute();
}

/**
 * The next event sequence. The counter row is locked until commit, so sequences are handed out in commit
 * order on every dialect: a reader that has seen sequence N can never later meet a smaller one.
 */
export async function nextSequence(tx: Tx): Promise<number> {
  const row = await tx.db
    .updateTable('counters')
    .set((eb) => ({ value: eb('value', '+', 1) }))
    .where('name', '=', Counter.eventSequence)
    .returning('value')
    .executeTakeFirstOrThrow();
  return Number(row.value);
}

export async function readCounters(db: Kysely<Database>): Promise<Map<string, number>> {
  const rows = await db.selectFrom('counters').select(['name', 'value']).execute();
  return new Map(rows.map((r) => [r.name, Number(r.value)]));
}
