import type { Insertable, Kysely } from 'kysely';
import { PreparedStatement } from '../db/prepared.ts';
import type { Database, TaskEventsTable } from '../db/types.ts';
import { Counter, takeSequences } from './counters.ts';
import { numberEventsOnPostgres, type MinuteOutcomes } from './event-numbering-postgres.ts';
import { recordOutcomes } from './minute-stats.ts';
import { type Task, type TaskEvent, toTaskEvent } from './model.ts';
import type { Tx } from './store.ts';
import type { TaskEventKind } from './task/state.ts';

const insertEvent = new PreparedStatement<Insertable<TaskEventsTable>>((db, value) =>
  db.insertInto('task_events').values({
    sequence: value('sequence'),
    task_id: value('task_id'),
    buyer_id: value('buyer_id'),
    agent_id: value('agent_id'),
    status: value('status'),
    kind: value('kind'),
    message: value('message'),
    at: value('at'),
  }),
);

interface PendingEvent {
  task: Pick<Task, 'id' | 'buyerId' | 'agentId' | 'status'>;
  kind: TaskEventKind;
  message: string | null;
  counters: Readonly<Record<string, number>>;
}

/** Per transaction: its events not yet numbered, and the counter moves that go with them. */
const pendingOf = new WeakMap<Tx, { events: PendingEvent[]; counters: Record<string, number> }>();

/**
 * Record one step of a task's lifecycle, with the `counters` it moves. The event is numbered and written,
 * and the counters moved, as the transaction's last statements (`numberEvents`), so the counter rows every
 * writer shares are locked for as short a time as possible; it is published when the transaction commits.
 */
export function appendEvent(
  tx: Tx,
  task: Pick<Task, 'id' | 'buyerId' | 'agentId' | 'status'>,
  kind: TaskEventKind,
  message: string | null,
  counters: Readonly<Record<string, number>> = {},
): void {
  let pending = pendingOf.get(tx);
  if (!pending) {
    pending = { events: [], counters: {} };
    pendingOf.set(tx, pending);
    tx.beforeCommit('events', numberEvents);
  }
  pending.events.push({ task: { id: task.id, buyerId: task.buyerId, agentId: task.agentId, status: task.status }, kind, message, counters });
  for (const [name, delta] of Object.entries(counters)) pending.counters[name] = (pending.counters[name] ?? 0) + delta;
}

/**
 * Take the transaction's sequences and move its counters in one statement, then write its events. The
 * counter rows stay locked until the commit that follows at once; a transaction that rolls back gives
 * its numbers back, so sequences have no holes (see EventSequencer).
 */
async function numberEvents(tx: Tx): Promise<void> {
  const pending = pendingOf.get(tx);
  if (!pending || pending.events.length === 0) return;
  const toNumber = pending.events.map(({ task, kind, message }) => ({
    task_id: task.id,
    buyer_id: task.buyerId,
    agent_id: task.agentId,
    status: task.status,
    kind,
    message,
  }));
  const outcomes = minuteOutcomes(pending.events);
  let last: number;
  if (tx.dialect === 'postgres') {
    last = await numberEventsOnPostgres(tx, toNumber, pending.counters, outcomes);
  } else {
    // SQLite has one writer at a time and no round trips: the same steps, one statement each.
    last = await takeSequences(tx, toNumber.length, pending.counters);
    const first = last - toNumber.length + 1;
    const rows = toNumber.map((event, i) => ({ ...event, sequence: first + i, at: tx.now }));
    if (rows.length === 1) await insertEvent.run(tx, rows[0] as (typeof rows)[number]);
    else await tx.db.insertInto('task_events').values(rows).execute();
    // After the counters, keeping the lock order: counters, then this minute's row.
    if (outcomes) await recordOutcomes(tx, outcomes);
  }
  const first = last - toNumber.length + 1;
  tx.events.push(...toNumber.map((event, i) => toTaskEvent({ ...event, sequence: first + i, at: tx.now })));
}

/**
 * The per-minute history (MarketStats.series) moves with the outcome it counts, paid at payout time: only
 * an event that moves a task into COMPLETED or FAILED (its counter goes up), never a later note.
 */
function minuteOutcomes(events: readonly PendingEvent[]): MinuteOutcomes | null {
  const outcomes = { completed: 0, failed: 0, paid: 0 };
  for (const { task, counters } of events) {
    const outcome = task.status === 'COMPLETED' || task.status === 'FAILED' ? task.status : null;
    if (!outcome || (counters[Counter.tasksIn(outcome)] ?? 0) <= 0) continue;
    if (outcome === 'COMPLETED') outcomes.completed++;
    else outcomes.failed++;
    outcomes.paid += counters[Counter.totalPaid] ?? 0;
  }
  return outcomes.completed + outcomes.failed > 0 ? outcomes : null;
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
