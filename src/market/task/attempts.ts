/**
 * The moves of a running attempt, made by whoever holds its lease (the engine for a MANAGED agent, the
 * operator of an EXTERNAL one) and the lease sweep. Each is a compare-and-set on the status AND the lease
 * token, so a stale attempt (requeued, superseded by a newer claim) can never pay, release or requeue
 * anything: its token no longer matches.
 */
import { InvalidStateError } from '../errors.ts';
import { type Task, toTask } from '../model.ts';
import { type Store, transact, type Tx } from '../store.ts';
import type { Outcome } from './agent-effects.ts';
import { lockedTaskRow } from './rows.ts';
import { TaskStatus } from './state.ts';
import { transition } from './transition.ts';

export type AttemptOutcome =
  | { ok: true; result: string }
  | { ok: false; error: string; /** Whether the failure counts against the agent's reputation. */ agentAtFault: boolean };

/** The task as locked in `tx`, if `leaseToken` is its live PROCESSING attempt's; InvalidStateError otherwise. */
async function heldAttempt(tx: Tx, taskId: string, leaseToken: string): Promise<Task> {
  const row = await lockedTaskRow(tx, taskId);
  if (!row) throw new InvalidStateError('No such task', TaskStatus.FAILED);
  const task = toTask(row);
  if (task.status !== TaskStatus.PROCESSING) throw new InvalidStateError(`The task is ${task.status}, not PROCESSING`, task.status);
  if (row.lease_token !== leaseToken) throw new InvalidStateError('This attempt was superseded by a newer one', task.status);
  if ((row.lease_expires_at ?? 0) < tx.now) throw new InvalidStateError('The lease on this task has run out', task.status);
  return task;
}

/**
 * The attempt's answer. A result is DELIVERED for review when the task has a review window, else
 * COMPLETED and paid at once; a failure refunds the buyer. Refused (InvalidStateError) unless the lease is
 * held and live, so a late answer can never finish a task twice or after it was requeued.
 */
export async function finishAttempt(store: Store, taskId: string, leaseToken: string, outcome: AttemptOutcome): Promise<Task> {
  return transact(store, async (tx) => {
    const task = await heldAttempt(tx, taskId, leaseToken);
    const endLease = { lease_token: null, lease_expires_at: null };
    if (!outcome.ok) {
      const blame: Outcome | undefined = outcome.agentAtFault ? 'failure' : undefined;
      return transition(tx, task, 'fail', { leaseToken, outcome: blame, message: `Failed: ${outcome.error}; escrow refunded`, set: { ...endLease, error: outcome.error } });
    }
    if (task.reviewWindowSeconds > 0) {
      const deadline = tx.now + task.reviewWindowSeconds * 1000;
      return transition(tx, task, 'deliver', {
        leaseToken,
        message: `Delivered; the payment is held for review until ${new Date(deadline).toISOString()}`,
        set: { ...endLease, result: outcome.result, error: null, review_deadline: deadline },
      });
    }
    return transition(tx, task, 'complete', {
      leaseToken,
      outcome: 'success',
      message: 'Completed; the agent was paid',
      set: { result: outcome.result, error: null },
    });
  });
}

/**
 * Record that an attempt failed and will be retried after `waitMs`: a RETRYING event, so the timeline
 * explains a slow task. Nothing when the attempt no longer holds the lease.
 */
export async function recordRetry(store: Store, taskId: string, leaseToken: string, reason: string, waitMs: number): Promise<void> {
  await transact(store, async (tx) => {
    const task = await heldAttempt(tx, taskId, leaseToken).catch((error: unknown) => {
      if (error instanceof InvalidStateError) return null;
      throw error;
    });
    if (!task) return;
    await transition(tx, task, 'retry', { leaseToken, message: `${reason}; retrying in ${(waitMs / 1000).toFixed(1)} s` });
  });
}

/** Count one call to the provider, under the attempt's lease. No event: attempts show on the task. */
export async function recordAttempt(store: Store, taskId: string, leaseToken: string): Promise<void> {
  await transact(store, async (tx) => {
    await tx.db
      .updateTable('tasks')
      .set((eb) => ({ attempts: eb('attempts', '+', 1), updated_at: tx.now }))
      .where('id', '=', taskId)
      .where('status', '=', TaskStatus.PROCESSING)
      .where('lease_token', '=', leaseToken)
      .execute();
  });
}

/** Extend a running attempt's lease. False when the lease is gone (expired and requeued, superseded, or finished). */
export async function renewLease(store: Store, taskId: string, leaseToken: string, leaseMs: number): Promise<boolean> {
  const now = store.now();
  const result = await store.db
    .updateTable('tasks')
    .set({ lease_expires_at: now + leaseMs })
    .where('id', '=', taskId)
    .where('status', '=', TaskStatus.PROCESSING)
    .where('lease_token', '=', leaseToken)
    .where('lease_expires_at', '>=', now)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/**
 * Let go of a running attempt at shutdown: the lease is ended now rather than left to run out, so the
 * next sweep (here or in another instance) puts the task back in the queue at once.
 */
export async function releaseLease(store: Store, taskId: string, leaseToken: string): Promise<void> {
  await store.db
    .updateTable('tasks')
    .set({ lease_expires_at: 0 })
    .where('id', '=', taskId)
    .where('status', '=', TaskStatus.PROCESSING)
    .where('lease_token', '=', leaseToken)
    .execute();
}

/**
 * Return tasks whose lease ran out to PENDING (a crashed process, a silent EXTERNAL agent), each in a
 * transaction of its own: a row another instance holds or moved meanwhile is skipped, not a reason to
 * roll back the others. Silence counts against an EXTERNAL agent; a MANAGED agent's lost lease is the
 * engine's doing. A first attempt's agent is skipped when the task is matched again (unless nobody else
 * fits); a rework stays with its agent and price.
 */
export async function requeueExpired(store: Store, limit = 100): Promise<Task[]> {
  const due = await store.db
    .selectFrom('tasks')
    .select(['id', 'lease_token'])
    .where('status', '=', TaskStatus.PROCESSING)
    .where('lease_expires_at', '<', store.now())
    .orderBy('lease_expires_at')
    .limit(limit)
    .execute();
  const requeued: Task[] = [];
  for (const { id, lease_token: leaseToken } of due) {
    if (!leaseToken) continue;
    const task = await transact(store, async (tx) => {
      const row = await lockedTaskRow(tx, id, { skipLocked: true });
      if (!row || row.status !== TaskStatus.PROCESSING || row.lease_token !== leaseToken || (row.lease_expires_at ?? 0) >= tx.now) return null;
      const task = toTask(row);
      const agent = task.agentId ? await tx.db.selectFrom('agents').select(['name', 'mode']).where('id', '=', task.agentId).executeTakeFirst() : undefined;
      const rework = task.changeRequests.length > 0;
      const unassign = rework ? {} : { agent_id: null, price: null, skip_agent_id: task.agentId };
      return transition(tx, task, 'requeue', {
        leaseToken,
        outcome: agent?.mode === 'EXTERNAL' ? 'failure' : undefined,
        message: `Lease expired${agent ? ` with ${agent.name}` : ''}; back in the queue`,
        set: { ...unassign, lease_token: null, lease_expires_at: null, claimed_by: null },
      });
    });
    if (task) requeued.push(task);
  }
  return requeued;
}
