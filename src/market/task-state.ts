/**
 * The task state machine.
 *
 *   PENDING     waiting for an agent; its maxPrice is held in escrow.
 *   ASSIGNED    an agent and a price (<= maxPrice) are fixed; the engine will start it. Holds a lease, so a
 *               crash between assigning and starting returns it to PENDING.
 *   PROCESSING  an attempt is running (a MANAGED agent's LLM call, or an EXTERNAL agent's work). Holds a
 *               lease renewed while the call runs; a result is accepted only with the current lease token.
 *   COMPLETED   final: the agent was paid the price and the rest of the escrow went back to the buyer.
 *   FAILED      final: the whole escrow went back to the buyer.
 *   CANCELLED   final: the buyer withdrew it before it started; the whole escrow went back.
 *
 * A lease that runs out (crash, silent agent) sends ASSIGNED or PROCESSING back to PENDING.
 */
export const TaskStatus = {
  PENDING: 'PENDING',
  ASSIGNED: 'ASSIGNED',
  PROCESSING: 'PROCESSING',
  COMPLETED: 'COMPLETED',
  FAILED: 'FAILED',
  CANCELLED: 'CANCELLED',
} as const;
export type TaskStatus = (typeof TaskStatus)[keyof typeof TaskStatus];

const allowed: Record<TaskStatus, readonly TaskStatus[]> = {
  PENDING: [TaskStatus.ASSIGNED, TaskStatus.CANCELLED],
  ASSIGNED: [TaskStatus.PROCESSING, TaskStatus.CANCELLED, TaskStatus.PENDING],
  PROCESSING: [TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.PENDING],
  COMPLETED: [],
  FAILED: [],
  CANCELLED: [],
};

export function canTransition(from: TaskStatus, to: TaskStatus): boolean {
  return allowed[from].includes(to);
}

export function isFinal(status: TaskStatus): boolean {
  return allowed[status].length === 0;
}

/** Statuses in which the task's escrow still holds money. */
export const OPEN_STATUSES: readonly TaskStatus[] = [TaskStatus.PENDING, TaskStatus.ASSIGNED, TaskStatus.PROCESSING];
