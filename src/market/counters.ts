import { type Kysely, sql } from 'kysely';
import { PreparedStatement } from '../db/prepared.ts';
import type { Database } from '../db/types.ts';
import type { Tx } from './store.ts';
import { TaskStatus } from './task/state.ts';

/**
 * Market-wide numbers kept in the same transaction as the change they count, so reading the stats is one
 * small query however many tasks there are, and they are never out of step with the tasks table.
 */
export const Counter = {
  eventSequence: 'event.sequence',
  tasksTotal: 'tasks.total',
  totalPaid: 'paid.total',
  /** Every fee the platform took. */
  platformRevenue: 'platform.revenue',
  tasksIn: (status: TaskStatus) => `tasks.${status}`,
} as const;

export async function ensureCounters(db: Kysely<Database>): Promise<void> {
  const names = [Counter.eventSequence, Counter.tasksTotal, Counter.totalPaid, Counter.platformRevenue, ...Object.values(TaskStatus).map(Counter.tasksIn)];
  await db
    .insertInto('counters')
    .values(names.map((name) => ({ name, value: 0 })))
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
}

/**
 * Add `deltas` to their counters and take the next `count` event sequences, in one statement; returns the
 * last of them. The sequence row is locked until commit, so sequences are handed out in commit order (a
 * reader that has seen sequence N can never later meet a smaller one), and a rolled-back transaction gives
 * its numbers back. Called as a transaction's last statement (see `appendEvent`). SQLite's way, where one
 * writer runs at a time; PostgreSQL locks the counters by name and writes the events in the same statement
 * (event-numbering-postgres.ts).
 */
export async function takeSequences(tx: Tx, count: number, deltas: Readonly<Record<string, number>> = {}): Promise<number> {
  const all: Record<string, number> = { ...deltas, [Counter.eventSequence]: (deltas[Counter.eventSequence] ?? 0) + count };
  // Sorted: the same counters always make the same statement text (PreparedStatement caches by count).
  const names = Object.keys(all).sort();
  const values: Record<string, string | number> = {};
  names.forEach((name, i) => {
    values[`name${i}`] = name;
    values[`amount${i}`] = all[name] ?? 0;
  });
  const { rows } = await addToCounters(names.length).run(tx, values);
  const sequence = rows.find((row) => row.name === Counter.eventSequence);
  if (!sequence || rows.length !== names.length) throw new Error(`counters missing: ${names.join(', ')}`);
  return Number(sequence.value);
}

type CounterValues = Record<string, string | number>;
const addToCountersOf = new Map<number, PreparedStatement<CounterValues, { name: string; value: number }>>();

/** The statement adding to `count` counters at once, built once per count (see PreparedStatement). */
function addToCounters(count: number): PreparedStatement<CounterValues, { name: string; value: number }> {
  let statement = addToCountersOf.get(count);
  if (!statement) {
    const indexes = Array.from({ length: count }, (_, i) => i);
    statement = new PreparedStatement<CounterValues, { name: string; value: number }>((db, value) => {
      // The CAST gives PostgreSQL a type for the bound amounts (a bare parameter in a CASE would be text).
      const amount = sql<number>`CASE name ${sql.join(
        indexes.map((i) => sql`WHEN ${value(`name${i}`)} THEN CAST(${value(`amount${i}`)} AS BIGINT)`),
        sql` `,
      )} END`;
      return db
        .updateTable('counters')
        .set((eb) => ({ value: eb('value', '+', amount) }))
        .where(
          'name',
          'in',
          indexes.map((i) => value(`name${i}`) as string),
        )
        .returning(['name', 'value']);
    });
    addToCountersOf.set(count, statement);
  }
  return statement;
}

export async function readCounters(db: Kysely<Database>): Promise<Map<string, number>> {
  const rows = await db.selectFrom('counters').select(['name', 'value']).execute();
  return new Map(rows.map((r) => [r.name, Number(r.value)]));
}
