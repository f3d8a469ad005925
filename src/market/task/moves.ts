/**
 * Every move a task can make: the whole lifecycle in one table. `transition()` (transition.ts) is the only
 * code that changes a task, and it does exactly what the move's row says, in one transaction:
 *
 *   1. a compare-and-set on the task's status (and, for a move of a running attempt, its lease token);
 *   2. the money (`money`, see settlement.ts), every transfer with an id derived from the task;
 *   3. the agent's side (`agent`): capacity held or released, and the outcome that moves its reputation,
 *      success rate and earnings, which happens only when money moves;
 *   4. one event of kind `kind` (two for a claim: ASSIGNED, then STARTED), with the counters it moves.
 *
 * Rows are locked in that order (task; accounts: the task's escrow, the buyer, the platform, the agent's
 * wallet; the agent; the counters) in every move, so two moves can never wait on each other in a cycle.
 * The rows many tasks share come last, so they are held only for the end of a transaction: the agent (one
 * popular agent's row is touched by every claim and payout it takes) and the counters (every write).
 *
 *   ┌──────────────┬─────────────────────┬────────────┬─────────┬───────────────────────────────────────────┐
 *   │ move         │ from -> to          │ who        │ agent   │ money                                     │
 *   ├──────────────┼─────────────────────┼────────────┼─────────┼───────────────────────────────────────────┤
 *   │ create       │ -> PENDING          │ buyer      │ -       │ buyer -> escrow: maxPrice                 │
 *   │ cancel       │ PENDING -> CANCELLED│ buyer      │ -       │ escrow -> buyer: all                      │
 *   │ claim        │ PENDING -> PROC.    │ engine     │ hold    │ -                                         │
 *   │ retry        │ PROC. -> PROC.      │ attempt    │ -       │ -                                         │
 *   │ deliver      │ PROC. -> DELIVERED  │ attempt    │ release │ - (held for review)                       │
 *   │ complete     │ PROC. -> COMPLETED  │ attempt    │ rel.+ok │ pay: agent price-fee, platform fee, rest  │
 *   │ fail         │ PROC. -> FAILED     │ attempt    │ release │ escrow -> buyer: all                      │
 *   │ requeue      │ PROC. -> PENDING    │ sweep      │ release │ -                                         │
 *   │ accept       │ DELIVERED -> COMPL. │ buyer      │ ok      │ pay                                       │
 *   │ autoRelease  │ DELIVERED -> COMPL. │ sweep      │ ok      │ pay                                       │
 *   │ requestChgs  │ DELIVERED -> PROC.  │ buyer      │ hold    │ -                                         │
 *   │ openDispute  │ DELIVERED -> DISP.  │ buyer      │ -       │ - (frozen)                                │
 *   │ resolve      │ DISP. -> COMPL/FAIL │ admin      │ outcome │ pay the agent's share, refund the rest    │
 *   └──────────────┴─────────────────────┴────────────┴─────────┴───────────────────────────────────────────┘
 */
import { TaskEventKind, TaskStatus } from './state.ts';

/** Who may make a move. `attempt`: whoever holds the running attempt's lease token (the engine, or the operator of an EXTERNAL agent). */
export type Actor = 'buyer' | 'engine' | 'attempt' | 'sweep' | 'admin';

/** What a move does to the agent: `hold` takes one of its maxConcurrency slots, `release` gives it back; an outcome is recorded when the caller names one. */
export type AgentEffect = 'none' | 'hold' | 'release' | 'outcome';

/** What a move does to money (settlement.ts). `pay`: the agent's share of the price (all of it unless a dispute says otherwise) less the fee, the fee to the platform, the rest of the escrow to the buyer. */
export type MoneyEffect = 'none' | 'escrow' | 'refundAll' | 'pay';

export interface Move {
  from: readonly TaskStatus[];
  to: readonly TaskStatus[];
  by: Actor;
  /** What must hold besides the status, in words; checked by the function that makes the move. */
  precondition: string;
  agent: AgentEffect;
  money: MoneyEffect;
  kind: TaskEventKind;
  /** A move of a running attempt: compare-and-set on its lease token as well as the status. */
  attempt?: true;
}

const { PENDING, PROCESSING, DELIVERED, DISPUTED, COMPLETED, FAILED, CANCELLED } = TaskStatus;

export const Moves = {
  create: { from: [], to: [PENDING], by: 'buyer', precondition: 'the buyer can cover maxPrice', agent: 'none', money: 'escrow', kind: TaskEventKind.CREATED },
  cancel: {
    from: [PENDING],
    to: [CANCELLED],
    by: 'buyer',
    precondition: 'not started yet, and no result delivered before (a rework cannot be cancelled)',
    agent: 'none',
    money: 'refundAll',
    kind: TaskEventKind.CANCELLED,
  },
  claim: {
    from: [PENDING],
    to: [PROCESSING],
    by: 'engine',
    precondition: 'the agent is ONLINE with a free slot, has the skills and asks at most maxPrice (a rework: its own agent at its price)',
    agent: 'hold',
    money: 'none',
    kind: TaskEventKind.STARTED,
  },
  retry: { from: [PROCESSING], to: [PROCESSING], by: 'attempt', precondition: 'the lease is held', agent: 'none', money: 'none', kind: TaskEventKind.RETRYING, attempt: true },
  deliver: {
    from: [PROCESSING],
    to: [DELIVERED],
    by: 'attempt',
    precondition: 'the lease is held and the task has a review window',
    agent: 'release',
    money: 'none',
    kind: TaskEventKind.DELIVERED,
    attempt: true,
  },
  complete: {
    from: [PROCESSING],
    to: [COMPLETED],
    by: 'attempt',
    precondition: 'the lease is held and the task has no review window',
    agent: 'release',
    money: 'pay',
    kind: TaskEventKind.COMPLETED,
    attempt: true,
  },
  fail: { from: [PROCESSING], to: [FAILED], by: 'attempt', precondition: 'the lease is held', agent: 'release', money: 'refundAll', kind: TaskEventKind.FAILED, attempt: true },
  requeue: {
    from: [PROCESSING],
    to: [PENDING],
    by: 'sweep',
    precondition: 'the lease ran out (or was handed back at shutdown)',
    agent: 'release',
    money: 'none',
    kind: TaskEventKind.REQUEUED,
    attempt: true,
  },
  accept: { from: [DELIVERED], to: [COMPLETED], by: 'buyer', precondition: 'none', agent: 'outcome', money: 'pay', kind: TaskEventKind.ACCEPTED },
  autoRelease: {
    from: [DELIVERED],
    to: [COMPLETED],
    by: 'sweep',
    precondition: 'reviewDeadline has passed',
    agent: 'outcome',
    money: 'pay',
    kind: TaskEventKind.AUTO_RELEASED,
  },
  requestChanges: {
    from: [DELIVERED],
    to: [PROCESSING],
    by: 'buyer',
    precondition: 'fewer than MAX_CHANGE_REQUESTS change requests so far',
    agent: 'hold',
    money: 'none',
    kind: TaskEventKind.CHANGES_REQUESTED,
  },
  openDispute: { from: [DELIVERED], to: [DISPUTED], by: 'buyer', precondition: 'none', agent: 'none', money: 'none', kind: TaskEventKind.DISPUTE_OPENED },
  resolveDispute: {
    from: [DISPUTED],
    to: [COMPLETED, FAILED],
    by: 'admin',
    precondition: 'agentShareBps in 0..10000; COMPLETED when above 0, FAILED otherwise',
    agent: 'outcome',
    money: 'pay',
    kind: TaskEventKind.DISPUTE_RESOLVED,
  },
} as const satisfies Record<string, Move>;

export type MoveName = keyof typeof Moves;

/** Whether `move` may start from `status` and end in `to`. */
export function allows(move: MoveName, status: TaskStatus, to: TaskStatus): boolean {
  const m: Move = Moves[move];
  return m.from.includes(status) && m.to.includes(to);
}
