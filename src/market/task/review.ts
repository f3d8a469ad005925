/**
 * The buyer's review of a DELIVERED result, the admin's resolution of a dispute, and the sweep that pays
 * the agent when the review window ends in silence. Each is one `transition()` under the task's row lock,
 * so an accept racing the deadline (or a dispute racing it) has exactly one winner and one payout at most.
 */
import { InvalidStateError, NotFoundError, ValidationError } from '../errors.ts';
import { newId } from '../ids.ts';
import { type Task, toTask } from '../model.ts';
import { type Store, transact, type Tx } from '../store.ts';
import { lockedTaskRow } from './rows.ts';
import { divide, FULL_SHARE_BPS } from './settlement.ts';
import { TaskStatus } from './state.ts';
import { transition } from './transition.ts';

/** The task, locked. Who may review or resolve is decided before, by access.ts. */
async function lockedTask(tx: Tx, taskId: string): Promise<Task> {
  const row = await lockedTaskRow(tx, taskId);
  if (!row) throw new NotFoundError('No task with this id');
  return toTask(row);
}

/**
 * Says who got money, never how much: amounts are on the task (price, fee) and in the transfers, and every
 * client formats them its own way (a message saying "135000 sat" beside "135,000 sat" reads as two numbers).
 */
function paidMessage(tx: Tx, task: Task, shareBps: number, what: string): string {
  const { payout, refund } = divide(task, shareBps, tx.rules.platformFeeBps);
  const parts = [payout > 0 ? 'the agent was paid' : '', refund > 0 ? 'the buyer got the rest of the escrow back' : ''].filter(Boolean);
  return `${what}; ${parts.join(' and ') || 'nothing moved'}`;
}

/** The buyer accepts the result: the agent is paid now. */
export async function acceptResult(store: Store, taskId: string): Promise<Task> {
  return transact(store, async (tx) => {
    const task = await lockedTask(tx, taskId);
    return transition(tx, task, 'accept', { outcome: 'success', message: paidMessage(tx, task, FULL_SHARE_BPS, 'Accepted by the buyer') });
  });
}

/**
 * The buyer asks for changes: the same agent reworks it at the agreed price, under a new lease claimed by
 * this instance (the engine runs it for a MANAGED agent; an EXTERNAL agent receives it again over
 * agentAssignments, feedback included). The earlier result stays on the task until the new one replaces it.
 */
export async function requestChanges(store: Store, taskId: string, feedback: string, leaseMs: number): Promise<Task> {
  return transact(store, async (tx) => {
    const task = await lockedTask(tx, taskId);
    if (task.status !== TaskStatus.DELIVERED) throw new InvalidStateError(`A ${task.status} task has no result under review`, task.status);
    const max = tx.rules.maxChangeRequests;
    if (task.changeRequests.length >= max) {
      throw new InvalidStateError(`At most ${max} change request${max === 1 ? '' : 's'} per task: accept the result or open a dispute`, task.status);
    }
    const changeRequests = [...task.changeRequests.map((c) => ({ feedback: c.feedback, at: c.at.getTime() })), { feedback, at: tx.now }];
    return transition(tx, task, 'requestChanges', {
      message: `Changes requested (${changeRequests.length} of ${max}): ${feedback}`,
      set: {
        change_requests: JSON.stringify(changeRequests),
        review_deadline: null,
        lease_token: newId(tx.now),
        lease_expires_at: tx.now + leaseMs,
        claimed_by: tx.instanceId,
      },
    });
  });
}

/** The buyer disputes the result: the escrow is frozen until an admin resolves it. */
export async function openDispute(store: Store, taskId: string, reason: string): Promise<Task> {
  return transact(store, async (tx) => {
    const task = await lockedTask(tx, taskId);
    return transition(tx, task, 'openDispute', {
      message: `Disputed by the buyer: ${reason}`,
      set: { dispute_reason: reason, dispute_opened_at: tx.now, review_deadline: null },
    });
  });
}

/**
 * An admin settles a dispute: the agent gets `agentShareBps` of the price less the fee on that share, the
 * buyer the rest of the escrow. COMPLETED when the share is above 0, FAILED otherwise; for the agent's
 * reputation a share of 5,000 bps or more is a success, less a failure.
 */
export async function resolveDispute(store: Store, taskId: string, agentShareBps: number, note: string): Promise<Task> {
  if (!Number.isInteger(agentShareBps) || agentShareBps < 0 || agentShareBps > FULL_SHARE_BPS) {
    throw ValidationError.of(['input', 'agentShareBps'], 'must be a whole number from 0 to 10000');
  }
  return transact(store, async (tx) => {
    const task = await lockedTask(tx, taskId);
    return transition(tx, task, 'resolveDispute', {
      to: agentShareBps > 0 ? TaskStatus.COMPLETED : TaskStatus.FAILED,
      shareBps: agentShareBps,
      outcome: agentShareBps >= FULL_SHARE_BPS / 2 ? 'success' : 'failure',
      message: paidMessage(tx, task, agentShareBps, `Dispute resolved, ${agentShareBps / 100}% to the agent: ${note}`),
      set: { dispute_share_bps: agentShareBps, dispute_note: note, dispute_resolved_at: tx.now },
    });
  });
}

/**
 * Pay every DELIVERED task whose review deadline has passed (AUTO_RELEASED), each in its own transaction:
 * one the buyer accepted, disputed or sent back meanwhile (or another instance holds) is skipped.
 */
export async function releaseDue(store: Store, limit = 100): Promise<Task[]> {
  const due = await store.db
    .selectFrom('tasks')
    .select('id')
    .where('status', '=', TaskStatus.DELIVERED)
    .where('review_deadline', '<=', store.now())
    .orderBy('review_deadline')
    .limit(limit)
    .execute();
  const released: Task[] = [];
  for (const { id } of due) {
    const task = await transact(store, async (tx) => {
      const row = await lockedTaskRow(tx, id, { skipLocked: true });
      if (!row || row.status !== TaskStatus.DELIVERED || row.review_deadline === null || row.review_deadline > tx.now) return null;
      const task = toTask(row);
      return transition(tx, task, 'autoRelease', { outcome: 'success', message: paidMessage(tx, task, FULL_SHARE_BPS, 'Review window ended without a word from the buyer') });
    });
    if (task) released.push(task);
  }
  return released;
}
