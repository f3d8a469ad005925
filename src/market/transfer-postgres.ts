/**
 * A transfer on PostgreSQL in one statement: debit (covered, unless it is the world), credit, and the
 * transfer row with both balances after it: the steps `transferStepByStep` (ledger.ts) runs one by one.
 *
 * Why one statement: the credited account may be one many transactions share (a popular agent's wallet,
 * a busy buyer's), and its row lock is held from the credit to the commit. Every statement sent after it
 * is a round trip through this process's event loop that everyone queued on that row waits for too.
 * The debit comes first (the credit reads it), so the accounts are locked in the order the caller gives.
 */
import { sql } from 'kysely';
import type { TransfersTable } from '../db/types.ts';
import type { Tx } from './store.ts';

export interface OneStatementTransfer {
  id: string;
  from: string;
  to: string;
  amount: number;
  kind: TransfersTable['kind'];
  taskId: string | null;
  /** The world may go below zero (credits come from it); every other account must cover the debit. */
  covered: boolean;
}

/** What happened: not debited (short of funds, or a missing account), or debited and credited, and whether the row was new. */
export type TransferOutcome = 'not debited' | 'moved' | 'repeated';

export async function transferOnPostgres(tx: Tx, t: OneStatementTransfer): Promise<TransferOutcome> {
  const amount = sql`CAST(${t.amount} AS BIGINT)`;
  const { rows } = await sql<{ debited: string | number; inserted: string | number }>`
    WITH debited AS (
      UPDATE accounts SET balance = balance - ${amount}, entries = entries + 1
      WHERE id = ${t.from} AND (${!t.covered} OR balance >= ${amount})
      RETURNING balance, entries
    ), credited AS (
      UPDATE accounts SET balance = balance + ${amount}, entries = entries + 1
      WHERE id = ${t.to} AND EXISTS (SELECT 1 FROM debited)
      RETURNING balance, entries
    ), inserted AS (
      INSERT INTO transfers (id, debit_account, credit_account, amount, kind, task_id, created_at,
                             debit_entry, debit_balance_after, credit_entry, credit_balance_after)
      SELECT ${t.id}, ${t.from}, ${t.to}, ${amount}, ${t.kind}, CAST(${t.taskId} AS TEXT), CAST(${tx.now} AS BIGINT),
             d.entries, d.balance, c.entries, c.balance
      FROM debited d CROSS JOIN credited c
      ON CONFLICT (id) DO NOTHING
      RETURNING id
    )
    SELECT (SELECT count(*) FROM debited) + (SELECT count(*) FROM credited) AS debited, (SELECT count(*) FROM inserted) AS inserted`.execute(tx.db);
  const row = rows[0];
  const moved = Number(row?.debited ?? 0);
  if (moved === 0) return 'not debited';
  if (moved !== 2) throw new Error(`transfer ${t.id}: no account ${t.to}`);
  return Number(row?.inserted ?? 0) === 1 ? 'moved' : 'repeated';
}
