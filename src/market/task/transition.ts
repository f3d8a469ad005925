/**
 * `transition()`: the one function that changes a task. It does what the move's row in `moves.ts` says,
 * in the caller's transaction and in the fixed lock order (task, accounts, agent, counters; see moves.ts).
 */
import type { Selectable, Updateable } from 'kysely';
import { PreparedStatement } from '../../db/prepared.ts';
import type { TasksTable } from '../../db/types.ts';
import { Counter } from '../counters.ts';
import { InvalidStateError } from '../errors.ts';
import { appendEvent } from '../events.ts';
import { type Task, toTask } from '../model.ts';
import type { Tx } from '../store.ts';
import { affectAgent, type Outcome } from './agent-effects.ts';
import { type Claim, claimRow } from './claim-statement.ts';
import { allows, type Move, type MoveName, Moves } from './moves.ts';
import { divide, FULL_SHARE_BPS, refundAll, type Settlement, settle } from './settlement.ts';
import { isFinal, TaskEventKind, TaskStatus } from './state.ts';

export type TaskChanges = Omit<Updateable<TasksTable>, 'id' | 'status' | 'updated_at'>;

export interface MoveArgs {
  /** Shown in the task's timeline. */
  message: string;
  /** The end state, for a move with more than one (resolveDispute). */
  to?: TaskStatus;
  /** Columns the move sets besides status and updated_at. */
  set?: TaskChanges;
  /** A move of a running attempt: the lease token its caller holds. */
  leaseToken?: string;
  /** Recorded on the agent (reputation, success rate) with the move's agent effect. */
  outcome?: Outcome;
  /** `pay`: the agent's share of the price in basis points. @default 10000 */
  shareBps?: number;
  /** `claim`: the agent, price and lease, and what the STARTED event says. */
  claim?: Claim & { startedMessage: string };
}

/**
 * Make `move` on `task` (as the caller read it, locked, in this transaction). Throws InvalidStateError,
 * changing nothing, when the move is not allowed from the task's status or the task (or its lease) moved
 * meanwhile: the caller's transaction then rolls back.
 */
export async function transition(tx: Tx, task: Task, move: MoveName, args: MoveArgs): Promise<Task> {
  const rule: Move = Moves[move];
  const to = args.to ?? rule.to[0];
  if (!to || !allows(move, task.status, to)) throw new InvalidStateError(`A ${task.status} task cannot ${describe(move)}`, task.status);
  if (rule.attempt && !args.leaseToken) throw new Error(`${move} needs the attempt's lease token`);

  const settlement = settlementOf(tx, task, rule, args);
  const set: TaskChanges = {
    ...args.set,
    ...(rule.money === 'pay' && { fee: settlement.fee }),
    ...(isFinal(to) && { completed_at: tx.now, lease_token: null, lease_expires_at: null, review_deadline: null }),
  };

  // 1. The task: compare-and-set on its status (and lease).
  const row = move === 'claim' ? await claimed(tx, task, args) : await compareAndSet(tx, task, to, set, rule.attempt ? args.leaseToken : undefined);
  if (!row) throw new InvalidStateError(task.status === to ? 'The task changed meanwhile' : `The task changed meanwhile; it could not ${describe(move)}`, task.status);
  const updated = toTask(row);

  // 2. The money.
  if (rule.money === 'pay' || rule.money === 'refundAll') await settle(tx, task, settlement);

  // 3. The agent: after the money, so a busy agent's row is held for as short a time as it can be.
  if (task.agentId) {
    const earned = args.outcome === 'success' ? settlement.payout : 0;
    // A claim's slot was taken by the claim statement itself (with its capacity check): not twice.
    if (rule.agent === 'hold' && move !== 'claim') await affectAgent(tx, task.agentId, 1);
    if (rule.agent === 'release') await affectAgent(tx, task.agentId, -1, args.outcome, earned);
    if (rule.agent === 'outcome') await affectAgent(tx, task.agentId, 0, args.outcome, earned);
  }

  // 4. The event(s), with the counters they move.
  const money = { ...(settlement.payout > 0 && { [Counter.totalPaid]: settlement.payout }), ...(settlement.fee > 0 && { [Counter.platformRevenue]: settlement.fee }) };
  if (move === 'claim') {
    // ASSIGNED passes within the claim: recorded for the timeline, never a resting state.
    appendEvent(tx, { ...updated, status: TaskStatus.ASSIGNED }, TaskEventKind.ASSIGNED, args.message, moved(task.status, TaskStatus.ASSIGNED));
    appendEvent(tx, updated, rule.kind, args.claim?.startedMessage ?? 'Started', moved(TaskStatus.ASSIGNED, to));
  } else {
    appendEvent(tx, updated, rule.kind, args.message, { ...moved(task.status, to), ...money });
  }
  return updated;
}

function settlementOf(tx: Tx, task: Task, rule: Move, args: MoveArgs): Settlement {
  if (rule.money === 'refundAll') return refundAll(task);
  if (rule.money === 'pay') return divide(task, args.shareBps ?? FULL_SHARE_BPS, tx.rules.platformFeeBps);
  return { payout: 0, fee: 0, refund: 0 };
}

async function claimed(tx: Tx, task: Task, args: MoveArgs): Promise<Selectable<TasksTable> | undefined> {
  if (!args.claim) throw new Error('claim needs the agent, price and lease');
  return claimRow(tx, task.id, args.claim);
}

const moved = (from: TaskStatus, to: TaskStatus): Record<string, number> => (from === to ? {} : { [Counter.tasksIn(from)]: -1, [Counter.tasksIn(to)]: 1 });

const describe = (move: MoveName) => move.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`);

type CasValues = TaskChanges & { id: string; from: TaskStatus; to: TaskStatus; updated_at: number; leaseToken?: string };
const casStatements = new Map<string, PreparedStatement<CasValues, Selectable<TasksTable>>>();

/** UPDATE ... WHERE id AND status = from [AND lease_token = token] RETURNING *, prepared once per set of columns. */
async function compareAndSet(tx: Tx, task: Task, to: TaskStatus, set: TaskChanges, leaseToken: string | undefined) {
  // Like Kysely's own `set`, a change given as undefined is no change.
  const columns = (Object.keys(set) as (keyof TaskChanges & string)[]).filter((column) => set[column] !== undefined).sort();
  const key = `${columns.join(',')}${leaseToken ? '+lease' : ''}`;
  let statement = casStatements.get(key);
  if (!statement) {
    statement = new PreparedStatement<CasValues, Selectable<TasksTable>>((db, value) => {
      let query = db
        .updateTable('tasks')
        .set({ ...(Object.fromEntries(columns.map((column) => [column, value(column)])) as TaskChanges), status: value('to'), updated_at: value('updated_at') })
        .where('id', '=', value('id'))
        .where('status', '=', value('from'));
      if (leaseToken) query = query.where('lease_token', '=', value('leaseToken') as string);
      return query.returningAll();
    });
    casStatements.set(key, statement);
  }
  const { rows } = await statement.run(tx, { ...set, id: task.id, from: task.status, to, updated_at: tx.now, leaseToken });
  return rows[0];
}
