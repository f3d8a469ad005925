/** The moves that begin and withdraw a task: create (escrow) and cancel (refund). */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/types.ts';
import { Counter } from '../counters.ts';
import { InvalidStateError, NotFoundError } from '../errors.ts';
import { appendEvent } from '../events.ts';
import { newId } from '../ids.ts';
import { estimateComplexity } from '../matching.ts';
import { type Task, toTask } from '../model.ts';
import { type Store, transact } from '../store.ts';
import { Moves } from './moves.ts';
import { insertTask, lockedTaskRow } from './rows.ts';
import { holdInEscrow } from './settlement.ts';
import { TaskStatus } from './state.ts';
import { transition } from './transition.ts';

export interface CreateTask {
  title: string;
  prompt: string;
  skills: string[];
  complexity?: number | null;
  maxPrice: number;
  idempotencyKey?: string | null;
  /** Seconds to review the result; left out, the market's REVIEW_WINDOW_SECONDS. */
  reviewWindowSeconds?: number | null;
}

/**
 * Post a task and hold its maxPrice in escrow, in one transaction: either the task exists and the money
 * is held, or neither. A repeated idempotency key returns the first task and charges nothing. The one move
 * that has no task to start from, so it inserts rather than going through `transition()`.
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
        review_window_seconds: input.reviewWindowSeconds ?? tx.rules.reviewWindowSeconds,
        created_at: tx.now,
        updated_at: tx.now,
        completed_at: null,
      };
      await insertTask.run(tx, row);
      const task = toTask({ ...row, claimed_by: null, fee: null, review_deadline: null, change_requests: '[]', ...noDispute });
      await holdInEscrow(tx, task);
      appendEvent(tx, task, Moves.create.kind, 'Posted; maxPrice held in escrow', { [Counter.tasksTotal]: 1, [Counter.tasksIn(TaskStatus.PENDING)]: 1 });
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

const noDispute = { dispute_reason: null, dispute_opened_at: null, dispute_share_bps: null, dispute_note: null, dispute_resolved_at: null };

/** The buyer withdraws a task that has not started; the whole escrow goes back. Who may: access.ts. */
export async function cancelTask(store: Store, taskId: string): Promise<Task> {
  return transact(store, async (tx) => {
    const row = await lockedTaskRow(tx, taskId);
    if (!row) throw new NotFoundError('No task with this id');
    const task = toTask(row);
    if (task.changeRequests.length > 0) throw new InvalidStateError('A result was delivered already: accept it, or open a dispute when it comes back', task.status);
    return transition(tx, task, 'cancel', { message: 'Cancelled by the buyer; escrow refunded', set: { lease_token: null, lease_expires_at: null } });
  });
}

async function taskByIdempotencyKey(db: Kysely<Database>, buyerId: string, key: string): Promise<Task | null> {
  const row = await db.selectFrom('tasks').selectAll().where('buyer_id', '=', buyerId).where('idempotency_key', '=', key).executeTakeFirst();
  return row ? toTask(row) : null;
}

function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}
