/**
 * The engine's side of the task state machine: assign (and start), finish and requeue. Each is one
 * transaction with a compare-and-set on the status (and on the lease token while PROCESSING), the ledger
 * transfers it implies and one event per status it passes. Money moves at most once because every transfer id is derived from the task.
 */
import { type ExpressionBuilder, sql } from 'kysely';
import type { Selectable, Updateable } from 'kysely';
import { PreparedStatement } from '../db/prepared.ts';
import type { Database, TasksTable } from '../db/types.ts';
import { Counter } from './counters.ts';
import { InvalidStateError } from './errors.ts';
import { appendEvent } from './events.ts';
import { newId } from './ids.ts';
import { Accounts, transfer } from './ledger.ts';
import { MAX_REPUTATION, MIN_REPUTATION, REPUTATION_GAIN, REPUTATION_LOSS, selectAgent } from './matching.ts';
import { type Agent, type Task, toAgent, toTask } from './model.ts';
import { connectedAt } from './presence.ts';
import { type Store, transact, type Tx } from './store.ts';
import { lockedTaskRow } from './task-rows.ts';
import { canTransition, TaskStatus } from './task-state.ts';

type TaskChanges = Omit<Updateable<TasksTable>, 'id' | 'status'>;

/**
 * Move a task to `to`: compare-and-set on the status it was read in, keep the counters in step, record
 * the event. Throws InvalidStateError when the task moved meanwhile (the caller's transaction rolls back).
 */
export async function setStatus(
  tx: Tx,
  task: Task,
  to: Task['status'],
  options: { message: string | null; changes?: TaskChanges; /** Other counters this change moves. */ counters?: Record<string, number> },
): Promise<Task> {
  if (!canTransition(task.status, to)) throw new InvalidStateError(`A ${task.status} task cannot become ${to}`, task.status);
  const changes: TaskChanges = { ...options.changes, updated_at: tx.now };
  // Like Kysely's own `set`, a change given as undefined is no change.
  const columns = (Object.keys(changes) as (keyof TaskChanges & string)[]).filter((column) => changes[column] !== undefined).sort();
  const { rows } = await moveTask(columns).run(tx, { ...changes, id: task.id, from: task.status, to });
  const row = rows[0];
  if (!row) throw new InvalidStateError('The task changed meanwhile', task.status);
  const updated = toTask(row);
  appendEvent(tx, updated, options.message, { ...options.counters, [Counter.tasksIn(task.status)]: -1, [Counter.tasksIn(to)]: 1 });
  return updated;
}

type MoveValues = TaskChanges & { id: string; from: Task['status']; to: Task['status'] };
const moveTaskWith = new Map<string, PreparedStatement<MoveValues, Selectable<TasksTable>>>();

/** The compare-and-set UPDATE for one set of changed columns, prepared once per set. */
function moveTask(columns: readonly (keyof TaskChanges & string)[]): PreparedStatement<MoveValues, Selectable<TasksTable>> {
  const key = columns.join(',');
  let statement = moveTaskWith.get(key);
  if (!statement) {
    statement = new PreparedStatement<MoveValues, Selectable<TasksTable>>((db, value) =>
      db
        .updateTable('tasks')
        .set({ ...(Object.fromEntries(columns.map((column) => [column, value(column)])) as TaskChanges), status: value('to') })
        .where('id', '=', value('id'))
        .where('status', '=', value('from'))
        .returningAll(),
    );
    moveTaskWith.set(key, statement);
  }
  return statement;
}

type Release = { agentId: string; earned: number };
const releaseStatement = (outcome: 'completed' | 'failed' | undefined) =>
  new PreparedStatement<Release>((db, value) =>
    db
      .updateTable('agents')
      .set((eb) => ({
        active_tasks: sql<number>`CASE WHEN active_tasks > 0 THEN active_tasks - 1 ELSE 0 END`,
        ...(outcome === 'completed' && {
          tasks_completed: eb('tasks_completed', '+', 1),
          earnings: eb('earnings', '+', value('earned')),
          reputation: reputationAfter(eb, REPUTATION_GAIN),
        }),
        ...(outcome === 'failed' && { tasks_failed: eb('tasks_failed', '+', 1), reputation: reputationAfter(eb, -REPUTATION_LOSS) }),
      }))
      .where('id', '=', value('agentId')),
  );
const releaseAfter = { completed: releaseStatement('completed'), failed: releaseStatement('failed'), neither: releaseStatement(undefined) };

/** The agent has one task fewer in hand; pending tasks may fit it now. */
export async function releaseAgent(tx: Tx, agentId: string, outcome?: 'completed' | 'failed', earned = 0): Promise<void> {
  await releaseAfter[outcome ?? 'neither'].run(tx, { agentId, earned });
  tx.capacityFreed = true;
}

/** reputation + delta, kept within bounds, as one portable SQL expression (no read-modify-write race). */
function reputationAfter(_eb: ExpressionBuilder<Database, 'agents'>, delta: number) {
  return sql<number>`CASE WHEN reputation + ${delta} > ${MAX_REPUTATION} THEN ${MAX_REPUTATION} WHEN reputation + ${delta} < ${MIN_REPUTATION} THEN ${MIN_REPUTATION} ELSE reputation + ${delta} END`;
}

export interface Assignment {
  task: Task;
  agent: Agent;
}

const PENDING_PAGE = 200;

/**
 * Match PENDING tasks, oldest first, with agents, handing out at most `limit` in one transaction. Pages
 * through the queue past tasks nobody fits (a rare skill, a low maxPrice) so they cannot starve the rest,
 * and stops as soon as no agent has room. Agents' load is tracked as tasks are handed out, so a batch
 * never exceeds anyone's maxConcurrency. Every task handed out starts at once (ASSIGNED, then PROCESSING,
 * in the same transaction): its lease runs from here while the engine or the operator works on it.
 */
export async function assignPending(store: Store, leaseMs: number, limit = 64): Promise<Assignment[]> {
  // Every agent full or offline (a backlog, or all paused): a plain read says so without taking the write
  // lock for nothing. An agent freed meanwhile kicks another pass when its transaction commits.
  const room = await store.db
    .selectFrom('agents')
    .select('id')
    .where('status', '=', 'ONLINE')
    .where((eb) => connectedAt(eb, store.now()))
    .whereRef('active_tasks', '<', 'max_concurrency')
    .limit(1)
    .executeTakeFirst();
  if (!room) return [];
  // Likewise when nothing waits: most passes (one follows every commit that frees an agent) find none.
  const waiting = await store.db.selectFrom('tasks').select('id').where('status', '=', TaskStatus.PENDING).limit(1).executeTakeFirst();
  if (!waiting) return [];
  return transact(store, async (tx) => {
    // Only agents that can take work now: an EXTERNAL agent whose operator is not listening is skipped.
    const agents = (await tx.db.selectFrom('agents').selectAll().where('status', '=', 'ONLINE').where((eb) => connectedAt(eb, tx.now)).execute()).map(toAgent);
    const hasRoom = () => agents.some((a) => a.activeTasks < a.maxConcurrency);
    const assignments: Assignment[] = [];
    let afterId = '';
    while (assignments.length < limit && hasRoom()) {
      const pending = await tx.db
        .selectFrom('tasks')
        .selectAll()
        .where('status', '=', TaskStatus.PENDING)
        .where('id', '>', afterId)
        .orderBy('id')
        .limit(PENDING_PAGE)
        .execute();
      for (const row of pending) {
        afterId = row.id;
        const task = toTask(row);
        const match = selectAgent(agents, { complexity: task.complexity, skills: task.skills, maxPrice: task.maxPrice, avoidAgentId: row.skip_agent_id });
        if (!match) continue;
        assignments.push(await assign(tx, task, match.agent, match.price, leaseMs));
        if (assignments.length >= limit || !hasRoom()) break;
      }
      if (pending.length < PENDING_PAGE) break;
    }
    return assignments;
  });
}

async function assign(tx: Tx, task: Task, agent: Agent, price: number, leaseMs: number): Promise<Assignment> {
  const lease = { lease_token: newId(tx.now), lease_expires_at: tx.now + leaseMs };
  const assigned = await setStatus(tx, task, TaskStatus.ASSIGNED, {
    message: `Assigned to ${agent.name} for ${price} sat`,
    changes: { agent_id: agent.id, price, ...lease },
  });
  await tx.db.updateTable('agents').set((eb) => ({ active_tasks: eb('active_tasks', '+', 1) })).where('id', '=', agent.id).execute();
  agent.activeTasks++;
  // Work starts at once, under the lease just taken: the engine calls the provider for a MANAGED agent as
  // soon as this commits, and an EXTERNAL agent receives the task over agentAssignments.
  const started = await setStatus(tx, assigned, TaskStatus.PROCESSING, { message: agent.mode === 'EXTERNAL' ? 'Sent to the external agent' : 'Started' });
  return { task: started, agent };
}

/**
 * Let go of a running attempt at shutdown: the lease is ended now rather than left to run out, so the
 * next sweep (here or in another instance) puts the task back in the queue at once.
 */
export async function releaseLease(store: Store, taskId: string, leaseToken: string): Promise<void> {
  await store.db.updateTable('tasks').set({ lease_expires_at: 0 }).where('id', '=', taskId).where('lease_token', '=', leaseToken).execute();
}

/**
 * Count one call to the provider. No event: attempts show on the task, not in the lifecycle. A
 * transaction of its own, so under load it shares a commit with others (GroupCommit) instead of paying
 * for one alone.
 */
export async function recordAttempt(store: Store, taskId: string, leaseToken: string): Promise<void> {
  await transact(store, async (tx) => {
    await tx.db
      .updateTable('tasks')
      .set((eb) => ({ attempts: eb('attempts', '+', 1), updated_at: tx.now }))
      .where('id', '=', taskId)
      .where('lease_token', '=', leaseToken)
      .execute();
  });
}

/** Extend a running attempt's lease. False when the lease is gone (expired and requeued, or finished). */
export async function renewLease(store: Store, taskId: string, leaseToken: string, leaseMs: number): Promise<boolean> {
  const now = store.now();
  const result = await store.db
    .updateTable('tasks')
    .set({ lease_expires_at: now + leaseMs })
    .where('id', '=', taskId)
    .where('lease_token', '=', leaseToken)
    .where('status', 'in', [TaskStatus.ASSIGNED, TaskStatus.PROCESSING])
    .where('lease_expires_at', '>=', now)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export type Outcome =
  | { ok: true; result: string }
  | { ok: false; error: string; /** Whether the failure counts against the agent's reputation. */ agentAtFault: boolean };

/**
 * Finish a PROCESSING task under its lease: COMPLETED pays the agent its price and returns the rest of
 * the escrow to the buyer; FAILED returns everything. A lease that was lost or has run out is refused
 * (InvalidStateError), so a late answer can never finish a task twice or after it was requeued.
 */
export async function finishTask(store: Store, taskId: string, leaseToken: string, outcome: Outcome): Promise<Task> {
  return transact(store, async (tx) => {
    const row = await lockedTaskRow(tx, taskId);
    if (!row) throw new InvalidStateError('No such task', TaskStatus.FAILED);
    const task = toTask(row);
    if (task.status !== TaskStatus.PROCESSING || row.lease_token !== leaseToken || (row.lease_expires_at ?? 0) < tx.now) {
      throw new InvalidStateError(
        task.status === TaskStatus.PROCESSING ? 'The lease on this task has run out' : `The task is ${task.status}, not PROCESSING`,
        task.status,
      );
    }
    const agentId = task.agentId;
    if (!agentId) throw new InvalidStateError('The task has no agent', task.status);
    const closeLease = { lease_token: null, lease_expires_at: null, completed_at: tx.now };
    if (outcome.ok) {
      const price = task.price ?? 0;
      await transfer(tx, { id: `payout:${task.id}`, from: Accounts.escrow(task.id), to: Accounts.agent(agentId), amount: price, kind: 'payout', taskId: task.id });
      await transfer(tx, { id: `refund:${task.id}`, from: Accounts.escrow(task.id), to: Accounts.user(task.buyerId), amount: task.maxPrice - price, kind: 'refund', taskId: task.id });
      await releaseAgent(tx, agentId, 'completed', price);
      return setStatus(tx, task, TaskStatus.COMPLETED, {
        message: `Completed; ${price} sat paid to the agent`,
        changes: { ...closeLease, result: outcome.result },
        counters: { [Counter.totalPaid]: price },
      });
    }
    await transfer(tx, { id: `refund:${task.id}`, from: Accounts.escrow(task.id), to: Accounts.user(task.buyerId), amount: task.maxPrice, kind: 'refund', taskId: task.id });
    await releaseAgent(tx, agentId, outcome.agentAtFault ? 'failed' : undefined);
    return setStatus(tx, task, TaskStatus.FAILED, { message: `Failed: ${outcome.error}; escrow refunded`, changes: { ...closeLease, error: outcome.error } });
  });
}

/**
 * Return tasks whose lease ran out to PENDING (a crashed process, a silent EXTERNAL agent). Silence counts
 * against an EXTERNAL agent; a MANAGED agent's lost lease is the engine's doing, not the agent's. The
 * agent is skipped when the task is matched again, unless nobody else fits.
 */
export async function requeueExpired(store: Store, limit = 100): Promise<Task[]> {
  return transact(store, async (tx) => {
    const rows = await tx.db
      .selectFrom('tasks')
      .selectAll()
      .where('status', 'in', [TaskStatus.ASSIGNED, TaskStatus.PROCESSING])
      .where('lease_expires_at', '<', tx.now)
      .orderBy('lease_expires_at')
      .limit(limit)
      .execute();
    const requeued: Task[] = [];
    for (const row of rows) {
      const task = toTask(row);
      const agent = task.agentId ? await tx.db.selectFrom('agents').select(['id', 'name', 'mode']).where('id', '=', task.agentId).executeTakeFirst() : undefined;
      if (agent) await releaseAgent(tx, agent.id, agent.mode === 'EXTERNAL' ? 'failed' : undefined);
      const message = `Lease expired${agent ? ` with ${agent.name}` : ''}; back in the queue`;
      requeued.push(
        await setStatus(tx, task, TaskStatus.PENDING, {
          message,
          changes: { agent_id: null, price: null, lease_token: null, lease_expires_at: null, skip_agent_id: task.agentId },
        }),
      );
    }
    return requeued;
  });
}
