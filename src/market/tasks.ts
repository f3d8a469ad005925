/** Reading tasks: by id and in pages. The moves that change them live in `task/`. */
import type { Expression, ExpressionBuilder, Kysely, SqlBool } from 'kysely';
import type { Database } from '../db/types.ts';
import { finishedTasks } from './finished-tasks.ts';
import { type Task, toTask } from './model.ts';
import { containsText } from './search.ts';

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
