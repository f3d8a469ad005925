/**
 * Every movement of a task's money. Each transfer's id derives from its cause, so the ledger's unique key
 * makes it impossible to apply twice: a second payout of the same task is not a no-op but an error that
 * rolls the whole move back.
 *
 *   escrow:<task>   buyer -> escrow     maxPrice, when the task is posted
 *   payout:<task>   escrow -> agent     the agent's share of the price, less the fee
 *   fee:<task>      escrow -> platform  PLATFORM_FEE_BPS of the agent's share
 *   refund:<task>   escrow -> buyer     whatever the escrow still holds once the agent is paid (or all of it)
 *
 * Once a task is final its escrow is empty: payout + fee + refund = maxPrice.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/types.ts';
import { InvalidStateError } from '../errors.ts';
import { Accounts, openAccount, transfer, type TransferInput } from '../ledger.ts';
import type { Task } from '../model.ts';
import type { Tx } from '../store.ts';
import { OPEN_STATUSES } from './state.ts';

export const TransferId = {
  escrow: (taskId: string) => `escrow:${taskId}`,
  payout: (taskId: string) => `payout:${taskId}`,
  fee: (taskId: string) => `fee:${taskId}`,
  refund: (taskId: string) => `refund:${taskId}`,
} as const;

export const FULL_SHARE_BPS = 10_000;

export interface Settlement {
  /** To the agent. */
  payout: number;
  /** To the platform. */
  fee: number;
  /** Back to the buyer. */
  refund: number;
}

/**
 * How a settled escrow divides: the agent's share of the price (whole sats, rounded down), the fee taken
 * from that share (rounded down: the agent never loses a fraction of a sat to rounding), the rest back.
 */
export function divide(task: Pick<Task, 'maxPrice' | 'price'>, shareBps: number, feeBps: number): Settlement {
  const share = Math.floor(((task.price ?? 0) * shareBps) / FULL_SHARE_BPS);
  const fee = Math.floor((share * feeBps) / FULL_SHARE_BPS);
  return { payout: share - fee, fee, refund: task.maxPrice - share };
}

/** Nothing to the agent: the whole escrow back to the buyer. */
export const refundAll = (task: Pick<Task, 'maxPrice'>): Settlement => ({ payout: 0, fee: 0, refund: task.maxPrice });

/** Open the task's escrow account and move maxPrice into it from the buyer (InsufficientFundsError if short). */
export async function holdInEscrow(tx: Tx, task: Pick<Task, 'id' | 'buyerId' | 'maxPrice'>): Promise<void> {
  await openAccount(tx, Accounts.escrow(task.id), 'escrow');
  await once(tx, { id: TransferId.escrow(task.id), from: Accounts.user(task.buyerId), to: Accounts.escrow(task.id), amount: task.maxPrice, kind: 'escrow', taskId: task.id });
}

/**
 * Empty the task's escrow as `settlement` says. Accounts are locked escrow, buyer, platform, agent: the
 * agent's wallet last, since a popular agent's wallet is the row most payouts share.
 */
export async function settle(tx: Tx, task: Pick<Task, 'id' | 'buyerId' | 'agentId'>, settlement: Settlement): Promise<void> {
  const escrow = Accounts.escrow(task.id);
  if ((settlement.payout > 0 || settlement.fee > 0) && !task.agentId) throw new InvalidStateError('The task has no agent to pay', 'FAILED');
  await once(tx, { id: TransferId.refund(task.id), from: escrow, to: Accounts.user(task.buyerId), amount: settlement.refund, kind: 'refund', taskId: task.id });
  if (task.agentId) {
    await once(tx, { id: TransferId.fee(task.id), from: escrow, to: Accounts.platform, amount: settlement.fee, kind: 'fee', taskId: task.id });
    await once(tx, { id: TransferId.payout(task.id), from: escrow, to: Accounts.agent(task.agentId), amount: settlement.payout, kind: 'payout', taskId: task.id });
  }
}

/** A transfer that must not have happened before: a repeat means the task was settled already. */
async function once(tx: Tx, input: TransferInput): Promise<void> {
  if (!(await transfer(tx, input))) throw new InvalidStateError(`Money for this task already moved (${input.id})`, 'COMPLETED');
}

/** What each buyer's open tasks hold in escrow, read from the escrow accounts themselves. */
export async function escrowedByBuyer(db: Kysely<Database>, buyerIds: readonly string[]): Promise<Map<string, number>> {
  if (buyerIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('tasks')
    // Accounts.escrow(id) as SQL: the task's escrow account.
    .innerJoin('accounts', (join) => join.on(sql<boolean>`accounts.id = ('escrow:' || tasks.id)`))
    .select((eb) => ['tasks.buyer_id', eb.fn.sum<number>('accounts.balance').as('escrowed')])
    .where('tasks.buyer_id', 'in', buyerIds)
    .where('tasks.status', 'in', OPEN_STATUSES)
    .groupBy('tasks.buyer_id')
    .execute();
  return new Map(rows.map((r) => [r.buyer_id, Number(r.escrowed)]));
}
