import type { Kysely, Selectable } from 'kysely';
import type { Database, TransfersTable } from '../db/types.ts';
import { ValidationError } from './errors.ts';

/**
 * A wallet's history: the ledger's transfers seen from one account, newest first. `transfer()` numbers
 * each account's movements 1..entries without gaps and stores the balance after each, so a page is a
 * range of entry numbers read from an index, and the running balance is read, never recomputed.
 */

/** One movement of one account: a transfer seen from that side. */
export interface WalletEntry {
  transferId: string;
  /** The account this is the history of (`Accounts` id). */
  account: string;
  side: 'debit' | 'credit';
  /** This movement's number in the account, from 1. */
  entry: number;
  kind: TransfersTable['kind'];
  /** Signed from the account's side: positive when it received, negative when it paid. */
  amount: number;
  balanceAfter: number;
  taskId: string | null;
  at: Date;
}

export interface WalletPage {
  entries: WalletEntry[];
  /** How many movements the account has in all. */
  total: number;
  hasOlder: boolean;
  hasNewer: boolean;
}

export const DEFAULT_PAGE = 20;
export const MAX_PAGE = 100;

/**
 * Up to `first` movements of `account`, newest first, older than the entry number `after` (a cursor from
 * an earlier page) when given.
 */
export async function walletPage(db: Kysely<Database>, account: string, first: number | null | undefined, after: string | null | undefined): Promise<WalletPage> {
  const size = first ?? DEFAULT_PAGE;
  if (!Number.isInteger(size) || size < 0 || size > MAX_PAGE) throw ValidationError.of(['first'], `must be 0 to ${MAX_PAGE}`);
  const before = after == null ? null : Number(after);
  if (before !== null && !(Number.isInteger(before) && before >= 1)) throw ValidationError.of(['after'], 'is not a cursor of this list');

  const row = await db.selectFrom('accounts').select('entries').where('id', '=', account).executeTakeFirst();
  const total = Number(row?.entries ?? 0);
  const newest = Math.min(total, before === null ? total : before - 1);
  const oldest = Math.max(1, newest - size + 1);
  if (size === 0 || newest < 1) return { entries: [], total, hasOlder: size === 0 && newest >= 1, hasNewer: newest < total };

  const rows = await db
    .selectFrom('transfers')
    .selectAll()
    .where((eb) =>
      eb.or([
        eb.and([eb('debit_account', '=', account), eb('debit_entry', '>=', oldest), eb('debit_entry', '<=', newest)]),
        eb.and([eb('credit_account', '=', account), eb('credit_entry', '>=', oldest), eb('credit_entry', '<=', newest)]),
      ]),
    )
    .execute();
  const entries = rows.map((r) => toWalletEntry(r, r.debit_account === account ? 'debit' : 'credit'));
  entries.sort((a, b) => b.entry - a.entry);
  return { entries, total, hasOlder: oldest > 1, hasNewer: newest < total };
}

/** One movement by its transfer id and side (a `Transfer` node id), or null. */
export async function walletEntry(db: Kysely<Database>, transferId: string, side: WalletEntry['side']): Promise<WalletEntry | null> {
  const r = await db.selectFrom('transfers').selectAll().where('id', '=', transferId).executeTakeFirst();
  if (!r) return null;
  return toWalletEntry(r, side);
}

/** A transfer row seen from one of its sides. */
function toWalletEntry(r: Selectable<TransfersTable>, side: WalletEntry['side']): WalletEntry {
  const debit = side === 'debit';
  return {
    transferId: r.id,
    account: debit ? r.debit_account : r.credit_account,
    side,
    entry: Number(debit ? r.debit_entry : r.credit_entry),
    kind: r.kind,
    amount: debit ? -Number(r.amount) : Number(r.amount),
    balanceAfter: Number(debit ? r.debit_balance_after : r.credit_balance_after),
    taskId: r.task_id,
    at: new Date(Number(r.created_at)),
  };
}
