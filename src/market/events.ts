import type { Insertable, Kysely } from 'kysely';
import { PreparedStatement } from '../db/prepared.ts';
import type { Database, TaskEventsTable } from '../db/types.ts';
import { Counter, nextSequence } from './counters.ts';
import { recordOutcome } from './minute-stats.ts';
import { type Task, type TaskEvent, toTaskEvent } from './model.ts';
import type { Tx } from './store.ts';

const insertEvent = new PreparedStatement<Insertable<TaskEventsTable>>((db, value) =>
  db.insertInto('task_events').values({
    sequence: value('sequence'),
    task_id: value('task_id'),
    buyer_id: value('buyer_id'),
    agent_id: value('agent_id'),
    status: value('status'),
    message: value('message'),
    at: value('at'),
  }),
);

/**
 * Record one step of a task's lifecycle; it is published when the transaction commits. `counters` are
 * moved in the same statement that takes the event's sequence (see `nextSequence`).
 */
export async function appendEvent(
  tx: Tx,
  task: Pick<Task, 'id' | 'buyerId' | 'agentId' | 'status'>,
  message: string | null,
  counters: Readonly<Record<string, number>> = {},
): Promise<TaskEvent> {
  const row = {
    sequence: await nextSequence(tx, counters),
    task_id: task.id,
    buyer_id: task.buyerId,
    agent_id: task.agentId,
    status: task.status,
    message,
    at: tx.now,
  };
  await insertEvent.run(tx, row);
  // The per-minute history (MarketStats.series) moves with the outcome it counts, paid at payout time:
  // only the event that moves the task into COMPLETED or FAILED (its counter goes up), never a later note.
  const outcome = task.status === 'COMPLETED' || task.status === 'FAILED' ? task.status : null;
  if (outcome && (counters[Counter.tasksIn(outcome)] ?? 0) > 0) await recordOutcome(tx, outcome, counters[Counter.totalPaid] ?? 0);
  const event = toTaskEvent(row);
  tx.events.push(event);
  return event;
}

export async function eventsOfTasks(db: Kysely<Database>, taskIds: readonly string[]): Promise<TaskEvent[]> {
  if (taskIds.length === 0) return [];
  const rows = await db.selectFrom('task_events').selectAll().where('task_id', 'in', taskIds).orderBy('sequence').execute();
  return rows.map(toTaskEvent);
}

export async function eventsBySequence(db: Kysely<Database>, sequences: readonly number[]): Promise<TaskEvent[]> {
  if (sequences.length === 0) return [];
  const rows = await db.selectFrom('task_events').selectAll().where('sequence', 'in', sequences).execute();
  return rows.map(toTaskEvent);
}

/** Events after `afterSequence`, oldest first, in pages: the replay half of `taskEvents(afterSequence:)`. */
export async function eventsAfter(db: Kysely<Database>, afterSequence: number, limit: number): Promise<TaskEvent[]> {
  const rows = await db
    .selectFrom('task_events')
    .selectAll()
    .where('sequence', '>', afterSequence)
    .orderBy('sequence')
    .limit(limit)
    .execute();
  return rows.map(toTaskEvent);
}

/** The newest committed event's sequence, 0 when there is none (the primary key's index answers it). */
export async function latestSequence(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('task_events')
    .select((eb) => eb.fn.max('sequence').as('latest'))
    .executeTakeFirst();
  return Number(row?.latest ?? 0);
}
