import type { Kysely } from 'kysely';
import type { Database, TransfersTable } from '../db/types.ts';
import { InsufficientFundsError } from './errors.ts';
import type { Tx } from './store.ts';

/**
 * The double-entry ledger. Money moves only by `transfer`, which appends a row to `transfers` and changes
 * two balances in the caller's transaction. Invariants (tested under concurrency): balances sum to zero,
 * no wallet or escrow goes negative, and a transfer id is used at most once.
 */

export const Accounts = {
  world: 'world',
  platform: 'platform',
  user: (userId: string) => `user:${userId}`,
  agent: (agentId: string) => `agent:${agentId}`,
  escrow: (taskId: string) => `escrow:${taskId}`,
} as const;

type AccountKind = 'user' | 'agent' | 'escrow' | 'platform' | 'world';

export async function ensureSystemAccounts(db: Kysely<Database>, now: number): Promise<void> {
  await db
    .insertInto('accounts')
    .values([
      { id: Accounts.world, kind: 'world', created_at: now },
      { id: Accounts.platform, kind: 'platform', created_at: now },
    ])
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

export async function openAccount(tx: Tx, id: string, kind: AccountKind): Promise<void> {
  await tx.db.insertInto('accounts').values({ id, kind, created_at: tx.now }).execute();
}

export interface TransferInput {
  /** Unique: derived from its cause so that it can never be applied twice. */
  id: string;
  from: string;
  to: string;
  amount: number;
  kind: TransfersTable['kind'];
  taskId?: string;
}

/**
 * Move `amount` from one account to another. Returns false, changing nothing, when a transfer with this id
 * already exists. Throws InsufficientFundsError when `from` (other than the outside world) cannot cover it;
 * the caller's transaction then rolls back.
 */
export async function transfer(tx: Tx, t: TransferInput): Promise<boolean> {
  if (t.amount <= 0) return true;
  const inserted = await tx.db
    .insertInto('transfers')
    .values({
      id: t.id,
      debit_account: t.from,
      credit_account: t.to,
      amount: t.amount,
      kind: t.kind,
      task_id: t.taskId ?? null,
      created_at: tx.now,
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0) return false;

  // The world is the outside: it may go below zero (that is where credits come from).
  const debit = tx.db.updateTable('accounts').set((eb) => ({ balance: eb('balance', '-', t.amount) })).where('id', '=', t.from);
  const debited = await (t.from === Accounts.world ? debit : debit.where('balance', '>=', t.amount)).executeTakeFirst();
  if (Number(debited.numUpdatedRows) === 0) {
    throw new InsufficientFundsError(t.amount, await balanceOf(tx.db, t.from));
  }
  await tx.db.updateTable('accounts').set((eb) => ({ balance: eb('balance', '+', t.amount) })).where('id', '=', t.to).execute();
  return true;
}

export async function balanceOf(db: Kysely<Database>, accountId: string): Promise<number> {
  const row = await db.selectFrom('accounts').select('balance').where('id', '=', accountId).executeTakeFirst();
  return row ? Number(row.balance) : 0;
}

export async function balancesOf(db: Kysely<Database>, accountIds: readonly string[]): Promise<Map<string, number>> {
  if (accountIds.length === 0) return new Map();
  const rows = await db.selectFrom('accounts').select(['id', 'balance']).where('id', 'in', accountIds).execute();
  return new Map(rows.map((r) => [r.id, Number(r.balance)]));
}
