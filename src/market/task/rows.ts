/**
 * The tasks table's hottest statements, prepared once (see PreparedStatement): every task is inserted
 * once and read, locked, by id inside the transactions that move it.
 */
import type { Insertable, Selectable } from 'kysely';
import { PreparedStatement } from '../../db/prepared.ts';
import type { TasksTable } from '../../db/types.ts';
import type { Tx } from '../store.ts';

/** A new task's row; every column is listed, so one compiled statement serves every task. */
export const insertTask = new PreparedStatement<Insertable<TasksTable>>((db, value) =>
  db.insertInto('tasks').values({
    id: value('id'),
    buyer_id: value('buyer_id'),
    agent_id: value('agent_id'),
    title: value('title'),
    prompt: value('prompt'),
    skills: value('skills'),
    complexity: value('complexity'),
    max_price: value('max_price'),
    price: value('price'),
    status: value('status'),
    result: value('result'),
    error: value('error'),
    attempts: value('attempts'),
    idempotency_key: value('idempotency_key'),
    lease_token: value('lease_token'),
    lease_expires_at: value('lease_expires_at'),
    skip_agent_id: value('skip_agent_id'),
    review_window_seconds: value('review_window_seconds'),
    created_at: value('created_at'),
    updated_at: value('updated_at'),
    completed_at: value('completed_at'),
  }),
);

const taskRowById = new PreparedStatement<{ id: string }, Selectable<TasksTable>>((db, value) =>
  db.selectFrom('tasks').selectAll().where('id', '=', value('id')),
);
const taskRowForUpdate = new PreparedStatement<{ id: string }, Selectable<TasksTable>>((db, value) =>
  db.selectFrom('tasks').selectAll().where('id', '=', value('id')).forUpdate(),
);
const taskRowUnlessLocked = new PreparedStatement<{ id: string }, Selectable<TasksTable>>((db, value) =>
  db.selectFrom('tasks').selectAll().where('id', '=', value('id')).forUpdate().skipLocked(),
);

/**
 * A task's row read and locked inside a transaction, the first lock every move takes (task, then agent,
 * then accounts, then counters). SQLite's BEGIN IMMEDIATE already holds the one write lock; PostgreSQL
 * locks the row (`FOR UPDATE`). With `skipLocked`, a row another transaction holds reads as missing: a
 * sweep passes over it instead of waiting.
 */
export async function lockedTaskRow(tx: Tx, taskId: string, options: { skipLocked?: boolean } = {}): Promise<Selectable<TasksTable> | null> {
  const statement = tx.dialect === 'sqlite' ? taskRowById : options.skipLocked ? taskRowUnlessLocked : taskRowForUpdate;
  const { rows } = await statement.run(tx, { id: taskId });
  return rows[0] ?? null;
}

