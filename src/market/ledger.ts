import type { Insertable, Kysely } from 'kysely';
import { PreparedStatement } from '../db/prepared.ts';
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
  await insertAccount.run(tx, { id, kind, created_at: tx.now });
}

// The statements every transfer runs, built once (see PreparedStatement).
const insertAccount = new PreparedStatement<{ id: string; kind: AccountKind; created_at: number }>((db, value) =>
  db.insertInto('accounts').values({ id: value('id'), kind: value('kind'), created_at: value('created_at') }),
);
const insertTransfer = new PreparedStatement<Insertable<TransfersTable>>((db, value) =>
  db
    .insertInto('transfers')
    .values({
      id: value('id'),
      debit_account: value('debit_account'),
      credit_account: value('credit_account'),
      amount: value('amount'),
      kind: value('kind'),
      task_id: value('task_id'),
      created_at: value('created_at'),
    })
    .onConflict((oc) => oc.column('id').doNothing()),
);
type Movement = { account: string; amount: number };
const debitCovered = new PreparedStatement<Movement>((db, value) =>
  db
    .updateTable('accounts')
    .set((eb) => ({ balance: eb('balance', '-', value('amount')) }))
    .where('id', '=', value('account'))
    .where('balance', '>=', value('amount')),
);
const debitAnyway = new PreparedStatement<Movement>((db, value) =>
  db.updateTable('accounts').set((eb) => ({ balance: eb('balance', '-', value('amount')) })).where('id', '=', value('account')),
);
const credit = new PreparedStatement<Movement>((db, value) =>
  db.updateTable('accounts').set((eb) => ({ balance: eb('balance', '+', value('amount')) })).where('id', '=', value('account')),
);

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
  const inserted = await insertTransfer.run(tx, {
    id: t.id,
    debit_account: t.from,
    credit_account: t.to,
    amount: t.amount,
    kind: t.kind,
    task_id: t.taskId ?? null,
    created_at: tx.now,
  });
  if (Number(inserted.numAffectedRows ?? 0n) === 0) return false;

  // The world is the outside: it may go below zero (that is where credits come from).
  const debited = await (t.from === Accounts.world ? debitAnyway : debitCovered).run(tx, { account: t.from, amount: t.amount });
  if (Number(debited.numAffectedRows ?? 0n) === 0) {
    throw new InsufficientFundsError(t.amount, await balanceOf(tx.db, t.from));
  }
  await credit.run(tx, { account: t.to, amount: t.amount });
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
