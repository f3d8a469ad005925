import { type Kysely, sql } from 'kysely';
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

/**
 * Add `deltas` to their counters and take the next event sequence, in one statement: every change of a
 * task's status moves two counters and records one event. The sequence row is locked until commit, so
 * sequences are handed out in commit order on every dialect: a reader that has seen sequence N can never
 * later meet a smaller one.
 */
export async function nextSequence(tx: Tx, deltas: Readonly<Record<string, number>> = {}): Promise<number> {
  const all: Record<string, number> = { ...deltas, [Counter.eventSequence]: (deltas[Counter.eventSequence] ?? 0) + 1 };
  const names = Object.keys(all);
  // The CAST gives PostgreSQL a type for the bound amounts (a bare parameter in a CASE would be text).
  const amount = sql<number>`CASE name ${sql.join(
    names.map((name) => sql`WHEN ${name} THEN CAST(${all[name]} AS BIGINT)`),
    sql` `,
  )} END`;
  const rows = await tx.db
    .updateTable('counters')
    .set((eb) => ({ value: eb('value', '+', amount) }))
    .where('name', 'in', names)
    .returning(['name', 'value'])
    .execute();
  const sequence = rows.find((row) => row.name === Counter.eventSequence);
  if (!sequence || rows.length !== names.length) throw new Error(`counters missing: ${names.join(', ')}`);
  return Number(sequence.value);
}

export async function readCounters(db: Kysely<Database>): Promise<Map<string, number>> {
  const rows = await db.selectFrom('counters').select(['name', 'value']).execute();
  return new Map(rows.map((r) => [r.name, Number(r.value)]));
}
