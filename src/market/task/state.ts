/**
 * The states of a task and the kinds of events its timeline records.
 *
 *   PENDING     waiting for an agent; its maxPrice is held in escrow. A task sent back for rework whose
 *               lease ran out waits here too, still tied to its agent and price.
 *   ASSIGNED    a passing state, never a resting one: the claim that fixes an agent and a price (<= maxPrice)
 *               also starts the work, in the same transaction, so no committed row is ever ASSIGNED. The
 *               timeline still records the ASSIGNED step (status ASSIGNED, kind ASSIGNED) before STARTED.
 *   PROCESSING  an attempt is running (a MANAGED agent's LLM call, or an EXTERNAL agent's work) under a lease:
 *               a token and an expiry, renewed while the call runs. Every later move of that attempt
 *               presents the token (compare-and-set), so a stale attempt can never pay, release or requeue
 *               a newer one. A lease that runs out (crash, silent agent) sends the task back to PENDING.
 *   DELIVERED   the result is in and the task has a review window: the escrow stays held until the buyer
 *               accepts, requests changes (back to PROCESSING with the same agent and price) or disputes, or
 *               until reviewDeadline passes (auto-release: paid). The deadline is a durable row, swept by
 *               whichever instance is up.
 *   DISPUTED    the buyer disputed the result: frozen (no deadline) until an admin resolves it.
 *   COMPLETED   final: the agent was paid its share less the platform fee, the platform the fee, and the
 *               rest of the escrow went back to the buyer.
 *   FAILED      final: the escrow went back to the buyer (all of it, or what a dispute left the buyer).
 *   CANCELLED   final: the buyer withdrew it before it started; the whole escrow went back.
 *
 * Moves between them are listed, with who may make them and what they do to money, in `moves.ts`; every
 * change goes through `transition()` in `transition.ts`.
 */
export const TaskStatus = {
  PENDING: 'PENDING',
  ASSIGNED: 'ASSIGNED',
  PROCESSING: 'PROCESSING',
  DELIVERED: 'DELIVERED',
  DISPUTED: 'DISPUTED',
  COMPLETED: 'COMPLETED',
  FAILED: 'FAILED',
  CANCELLED: 'CANCELLED',
} as const;
export type TaskStatus = (typeof TaskStatus)[keyof typeof TaskStatus];

/** What a task event records: one per move (the claim records two: ASSIGNED, then STARTED). */
export const TaskEventKind = {
  CREATED: 'CREATED',
  BID_PLACED: 'BID_PLACED',
  ASSIGNED: 'ASSIGNED',
  STARTED: 'STARTED',
  /** An attempt failed and will be retried; the message says why and how long it waits. */
  RETRYING: 'RETRYING',
  /** A lease ran out: back to PENDING. */
  REQUEUED: 'REQUEUED',
  DELIVERED: 'DELIVERED',
  CHANGES_REQUESTED: 'CHANGES_REQUESTED',
  ACCEPTED: 'ACCEPTED',
  AUTO_RELEASED: 'AUTO_RELEASED',
  DISPUTE_OPENED: 'DISPUTE_OPENED',
  DISPUTE_RESOLVED: 'DISPUTE_RESOLVED',
  COMPLETED: 'COMPLETED',
  FAILED: 'FAILED',
  CANCELLED: 'CANCELLED',
} as const;
export type TaskEventKind = (typeof TaskEventKind)[keyof typeof TaskEventKind];

const FINAL: ReadonlySet<TaskStatus> = new Set([TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED]);

/** No move leaves a final state, and nothing else writes a final task's row. */
export function isFinal(status: TaskStatus): boolean {
  return FINAL.has(status);
}

/** Statuses in which the task's escrow still holds money (every status but the final ones). */
export const OPEN_STATUSES: readonly TaskStatus[] = Object.values(TaskStatus).filter((status) => !isFinal(status));
