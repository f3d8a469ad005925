import type { Expression, ExpressionBuilder, Kysely, SqlBool } from 'kysely';
import type { Database } from '../db/types.ts';
import { Counter } from './counters.ts';
import { InvalidStateError, NotFoundError } from './errors.ts';
import { appendEvent } from './events.ts';
import { newId } from './ids.ts';
import { Accounts, openAccount, transfer } from './ledger.ts';
import { finishedTasks } from './finished-tasks.ts';
import { estimateComplexity } from './matching.ts';
import { type Task, toTask } from './model.ts';
import { type Store, transact, type Tx } from './store.ts';
import { insertTask, lockedTaskRow } from './task-rows.ts';
import { containsText } from './search.ts';
import { TaskStatus } from './task-state.ts';
import { releaseAgent, setStatus } from './transitions.ts';

export interface CreateTask {
  title: string;
  prompt: string;
  skills: string[];
  complexity?: number | null;
  maxPrice: number;
  idempotencyKey?: string | null;
}

/**
 * Post a task and hold its maxPrice in escrow, in one transaction: either the task exists and the money
 * is held, or neither. A repeated idempotency key returns the first task and charges nothing.
 */
export async function createTask(store: Store, buyerId: string, input: CreateTask): Promise<Task> {
  try {
    return await transact(store, async (tx) => {
      if (input.idempotencyKey) {
        const earlier = await taskByIdempotencyKey(tx.db, buyerId, input.idempotencyKey);
        if (earlier) return earlier;
      }
      const id = newId(tx.now);
      const row = {
        id,
        buyer_id: buyerId,
        agent_id: null,
        title: input.title,
        prompt: input.prompt,
        skills: JSON.stringify(input.skills),
        complexity: input.complexity ?? estimateComplexity(input.prompt),
        max_price: input.maxPrice,
        price: null,
        status: TaskStatus.PENDING,
        result: null,
        error: null,
        attempts: 0,
        idempotency_key: input.idempotencyKey ?? null,
        lease_token: null,
        lease_expires_at: null,
        skip_agent_id: null,
        created_at: tx.now,
        updated_at: tx.now,
        completed_at: null,
      };
      await insertTask.run(tx, row);
      await openAccount(tx, Accounts.escrow(id), 'escrow');
      await transfer(tx, { id: `escrow:${id}`, from: Accounts.user(buyerId), to: Accounts.escrow(id), amount: input.maxPrice, kind: 'escrow', taskId: id });
      const task = toTask(row);
      appendEvent(tx, task, 'Posted; maxPrice held in escrow', { [Counter.tasksTotal]: 1, [Counter.tasksIn(TaskStatus.PENDING)]: 1 });
      return task;
    });
  } catch (error) {
    // Two instances (PostgreSQL) racing on one key: the unique index lets one win; the other returns it.
    if (input.idempotencyKey && isUniqueViolation(error)) {
      const earlier = await taskByIdempotencyKey(store.db, buyerId, input.idempotencyKey);
      if (earlier) return earlier;
    }
    throw error;
  }
}

/** The buyer withdraws a task that has not started; the whole escrow goes back. Who may: task/access.ts. */
export async function cancelTask(store: Store, taskId: string): Promise<Task> {
  return transact(store, async (tx) => {
    const task = await lockedTask(tx, taskId);
    if (!task) throw new NotFoundError('No task with this id');
    if (task.status !== TaskStatus.PENDING && task.status !== TaskStatus.ASSIGNED) {
      throw new InvalidStateError(`A ${task.status} task can no longer be cancelled`, task.status);
    }
    if (task.agentId) await releaseAgent(tx, task.agentId);
    await transfer(tx, { id: `refund:${task.id}`, from: Accounts.escrow(task.id), to: Accounts.user(task.buyerId), amount: task.maxPrice, kind: 'refund', taskId: task.id });
    return setStatus(tx, task, TaskStatus.CANCELLED, { message: 'Cancelled by the buyer; escrow refunded', changes: { lease_token: null, lease_expires_at: null } });
  });
}

/** Read a task inside a transaction (the write lock is already held on SQLite: BEGIN IMMEDIATE). */
export async function lockedTask(tx: Tx, taskId: string): Promise<Task | null> {
  const row = await lockedTaskRow(tx, taskId);
  return row ? toTask(row) : null;
}

async function taskByIdempotencyKey(db: Kysely<Database>, buyerId: string, key: string): Promise<Task | null> {
  const row = await db.selectFrom('tasks').selectAll().where('buyer_id', '=', buyerId).where('idempotency_key', '=', key).executeTakeFirst();
  return row ? toTask(row) : null;
}

function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/** The tasks with these ids (in no particular order); finished ones the app already knows are not read again. */
export async function tasksByIds(db: Kysely<Database>, ids: readonly string[]): Promise<Task[]> {
  const finished = finishedTasks(db);
  const known: Task[] = [];
  const missing: string[] = [];
  for (const id of ids) {
    const task = finished.get(id);
    if (task) known.push(task);
    else missing.push(id);
  }
  if (missing.length === 0) return known;
  const rows = await db.selectFrom('tasks').selectAll().where('id', 'in', missing).execute();
  for (const row of rows) {
    const task = toTask(row);
    finished.offer(task);
    known.push(task);
  }
  return known;
}

export interface TaskFilter {
  /** Only tasks of this buyer. */
  buyerId?: string;
  /** Only tasks with one of these agents (an operator's). */
  agentIds?: readonly string[];
  status?: Task['status'] | null;
  /** Only tasks whose title contains this, ignoring case. */
  titleContains?: string | null;
}

/** The filter as one condition, shared by a page and its count so the two can never disagree. */
function matching(filter: TaskFilter) {
  return (eb: ExpressionBuilder<Database, 'tasks'>) => {
    const conditions: Expression<SqlBool>[] = [];
    if (filter.buyerId) conditions.push(eb('buyer_id', '=', filter.buyerId));
    // An operator with no agents matches nothing (an empty IN list is not valid SQL everywhere).
    if (filter.agentIds) conditions.push(eb('agent_id', 'in', filter.agentIds.length ? filter.agentIds : ['']));
    if (filter.status) conditions.push(eb('status', '=', filter.status));
    if (filter.titleContains) conditions.push(containsText('title', filter.titleContains));
    return eb.and(conditions);
  };
}

export interface TaskPage {
  /** Exclusive bounds on the id (ids sort by creation time). */
  before?: string | null;
  after?: string | null;
  limit: number;
  /** Oldest first instead of newest first (paging backwards with `last`). */
  oldestFirst?: boolean;
}

/**
 * Newest first by default; key-set paging on the time-ordered id, so deep pages cost the same as the first.
 * The page's ids come from an index; the tasks themselves from `tasksByIds`, which knows finished ones
 * already. A task that changed between the two reads so that it no longer matches the filter (its status
 * or agent moved) is left out rather than shown under the wrong filter.
 */
export async function pageOfTasks(db: Kysely<Database>, filter: TaskFilter, page: TaskPage): Promise<Task[]> {
  let query = db.selectFrom('tasks').select('id').where(matching(filter));
  // "after" in a newest-first list means older, i.e. a smaller id.
  if (page.after) query = query.where('id', '<', page.after);
  if (page.before) query = query.where('id', '>', page.before);
  const ids = (await query.orderBy('id', page.oldestFirst ? 'asc' : 'desc').limit(page.limit).execute()).map((row) => row.id);
  const tasks = new Map((await tasksByIds(db, ids)).map((task) => [task.id, task]));
  return ids.flatMap((id) => {
    const task = tasks.get(id);
    return task && stillMatches(task, filter) ? [task] : [];
  });
}

function stillMatches(task: Task, filter: TaskFilter): boolean {
  if (filter.status && task.status !== filter.status) return false;
  if (filter.agentIds && !(task.agentId && filter.agentIds.includes(task.agentId))) return false;
  return true;
}

export async function countTasks(db: Kysely<Database>, filter: TaskFilter): Promise<number> {
  const row = await db
    .selectFrom('tasks')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where(matching(filter))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
