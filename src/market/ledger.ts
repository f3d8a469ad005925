import type { Insertable, Kysely } from 'kysely';
import { PreparedStatement } from '../db/prepared.ts';
import type { Database, TransfersTable } from '../db/types.ts';
import { InsufficientFundsError } from './errors.ts';
import type { Tx } from './store.ts';
import { type TransferOutcome, transferOnPostgres } from './transfer-postgres.ts';

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

/** An account id taken apart: its kind and whose it is (a user, an agent or a task id; null for the system's). */
export function parseAccount(account: string): { kind: AccountKind; of: string | null } {
  const colon = account.indexOf(':');
  if (colon < 0) return { kind: account === Accounts.world ? 'world' : 'platform', of: null };
  return { kind: account.slice(0, colon) as AccountKind, of: account.slice(colon + 1) };
}

/**
 * The users who see these accounts move: a wallet's user, an agent's operator (through `operatorOf`,
 * which caches), an escrow's buyer. One query for all the escrows.
 */
export async function accountOwners(
  db: Kysely<Database>,
  accounts: readonly string[],
  operatorOf: (agentId: string) => Promise<string | null>,
): Promise<string[]> {
  const owners = new Set<string>();
  const tasks: string[] = [];
  for (const account of accounts) {
    const { kind, of } = parseAccount(account);
    if (!of) continue;
    if (kind === 'user') owners.add(of);
    else if (kind === 'agent') {
      const operator = await operatorOf(of);
      if (operator) owners.add(operator);
    } else if (kind === 'escrow') tasks.push(of);
  }
  if (tasks.length > 0) {
    for (const row of await db.selectFrom('tasks').select('buyer_id').where('id', 'in', tasks).execute()) owners.add(row.buyer_id);
  }
  return [...owners];
}

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
      debit_entry: value('debit_entry'),
      debit_balance_after: value('debit_balance_after'),
      credit_entry: value('credit_entry'),
      credit_balance_after: value('credit_balance_after'),
    })
    .onConflict((oc) => oc.column('id').doNothing()),
);
type Movement = { account: string; amount: number };
/** An account right after a movement: its balance and the movement's number in it. */
type AccountAfter = { balance: number; entries: number };
const debitCovered = new PreparedStatement<Movement, AccountAfter>((db, value) =>
  db
    .updateTable('accounts')
    .set((eb) => ({ balance: eb('balance', '-', value('amount')), entries: eb('entries', '+', 1) }))
    .where('id', '=', value('account'))
    .where('balance', '>=', value('amount'))
    .returning(['balance', 'entries']),
);
const debitAnyway = new PreparedStatement<Movement, AccountAfter>((db, value) =>
  db
    .updateTable('accounts')
    .set((eb) => ({ balance: eb('balance', '-', value('amount')), entries: eb('entries', '+', 1) }))
    .where('id', '=', value('account'))
    .returning(['balance', 'entries']),
);
const credit = new PreparedStatement<Movement, AccountAfter>((db, value) =>
  db
    .updateTable('accounts')
    .set((eb) => ({ balance: eb('balance', '+', value('amount')), entries: eb('entries', '+', 1) }))
    .where('id', '=', value('account'))
    .returning(['balance', 'entries']),
);
/** Take back a movement this transaction just made (its row lock is still held, so the numbering stays gapless). */
const unmove = new PreparedStatement<Movement>((db, value) =>
  db
    .updateTable('accounts')
    .set((eb) => ({ balance: eb('balance', '+', value('amount')), entries: eb('entries', '-', 1) }))
    .where('id', '=', value('account')),
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
 *
 * The two balances move first, each returning its new balance and movement number, and the transfer row
 * is written last with both: every row carries each wallet's balance right after it (the wallet history's
 * `balanceAfter`), consistent with the accounts by construction. On SQLite these are three statements; on
 * PostgreSQL one (transfer-postgres.ts). A repeated id, rare by design, is detected by the insert and
 * costs two more statements to undo.
 */
export async function transfer(tx: Tx, t: TransferInput): Promise<boolean> {
  if (t.amount <= 0) return true;
  const outcome =
    tx.dialect === 'postgres'
      ? await transferOnPostgres(tx, { ...t, taskId: t.taskId ?? null, covered: t.from !== Accounts.world })
      : await transferStepByStep(tx, t);
  if (outcome === 'not debited') {
    if (await transferExists(tx, t.id)) return false;
    throw new InsufficientFundsError(t.amount, await balanceOf(tx.db, t.from));
  }
  if (outcome === 'repeated') {
    await unmove.run(tx, { account: t.from, amount: t.amount });
    await unmove.run(tx, { account: t.to, amount: -t.amount });
    return false;
  }
  tx.accounts.add(t.from);
  tx.accounts.add(t.to);
  return true;
}

/** The debit, the credit and the transfer row, one statement each (SQLite: one writer, no round trips). */
async function transferStepByStep(tx: Tx, t: TransferInput): Promise<TransferOutcome> {
  // The world is the outside: it may go below zero (that is where credits come from).
  const debited = (await (t.from === Accounts.world ? debitAnyway : debitCovered).run(tx, { account: t.from, amount: t.amount })).rows[0];
  if (!debited) return 'not debited';
  const credited = (await credit.run(tx, { account: t.to, amount: t.amount })).rows[0];
  if (!credited) throw new Error(`transfer ${t.id}: no account ${t.to}`);
  const inserted = await insertTransfer.run(tx, {
    id: t.id,
    debit_account: t.from,
    credit_account: t.to,
    amount: t.amount,
    kind: t.kind,
    task_id: t.taskId ?? null,
    created_at: tx.now,
    debit_entry: Number(debited.entries),
    debit_balance_after: Number(debited.balance),
    credit_entry: Number(credited.entries),
    credit_balance_after: Number(credited.balance),
  });
  return Number(inserted.numAffectedRows ?? 0n) === 0 ? 'repeated' : 'moved';
}

const transferById = new PreparedStatement<{ id: string }, { id: string }>((db, value) => db.selectFrom('transfers').select('id').where('id', '=', value('id')));

async function transferExists(tx: Tx, id: string): Promise<boolean> {
  return (await transferById.run(tx, { id })).rows.length > 0;
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
