/**
 * Reads the money straight out of a server's SQLite file, bypassing the API, so the engine's tests can
 * check what was really written: how many payouts a task got, whether its escrow is empty, and whether the
 * double-entry ledger still sums to zero. Works while a server (even in another process) has the file open.
 */
import BetterSqlite3 from 'better-sqlite3';

export interface TaskLedger {
  /** Rows in `transfers` with id `payout:<task>`: the id is unique, so 0 or 1 unless the schema broke. */
  payoutRows: number;
  /** Transfers of kind `payout` booked against the task, whatever their id. */
  payoutsForTask: number;
  refundsForTask: number;
  escrowBalance: number;
  /** The sum of every account's balance: always 0 in a double-entry ledger. */
  ledgerSum: number;
  /** Accounts other than `world` below zero (never allowed). */
  negativeAccounts: string[];
  task: { status: string; attempts: number; lease_token: string | null; lease_expires_at: number | null } | undefined;
}

export function auditTask(databaseFile: string, taskId: string): TaskLedger {
  const db = new BetterSqlite3(databaseFile, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const count = (sql: string, ...params: unknown[]) => Number((db.prepare(sql).get(...params) as { n: number | bigint }).n);
    const escrow = db.prepare('SELECT balance FROM accounts WHERE id = ?').get(`escrow:${taskId}`) as { balance: number | bigint } | undefined;
    const negatives = db.prepare("SELECT id FROM accounts WHERE balance < 0 AND id <> 'world'").all() as { id: string }[];
    return {
      payoutRows: count('SELECT count(*) AS n FROM transfers WHERE id = ?', `payout:${taskId}`),
      payoutsForTask: count("SELECT count(*) AS n FROM transfers WHERE task_id = ? AND kind = 'payout'", taskId),
      refundsForTask: count("SELECT count(*) AS n FROM transfers WHERE task_id = ? AND kind = 'refund'", taskId),
      escrowBalance: escrow ? Number(escrow.balance) : Number.NaN,
      ledgerSum: count('SELECT coalesce(sum(balance), 0) AS n FROM accounts'),
      negativeAccounts: negatives.map((r) => r.id),
      task: db.prepare('SELECT status, attempts, lease_token, lease_expires_at FROM tasks WHERE id = ?').get(taskId) as TaskLedger['task'],
    };
  } finally {
    db.close();
  }
}

export interface MarketLedger {
  ledgerSum: number;
  /** Everything still held in escrow, over all tasks. */
  escrowTotal: number;
  payouts: number;
  negativeAccounts: string[];
  tasksByStatus: Record<string, number>;
}

/** The whole market's books at once. */
export function auditMarket(databaseFile: string): MarketLedger {
  const db = new BetterSqlite3(databaseFile, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const count = (sql: string) => Number((db.prepare(sql).get() as { n: number | bigint }).n);
    const statuses = db.prepare('SELECT status, count(*) AS n FROM tasks GROUP BY status').all() as { status: string; n: number | bigint }[];
    return {
      ledgerSum: count('SELECT coalesce(sum(balance), 0) AS n FROM accounts'),
      escrowTotal: count("SELECT coalesce(sum(balance), 0) AS n FROM accounts WHERE kind = 'escrow'"),
      payouts: count("SELECT count(*) AS n FROM transfers WHERE kind = 'payout'"),
      negativeAccounts: (db.prepare("SELECT id FROM accounts WHERE balance < 0 AND id <> 'world'").all() as { id: string }[]).map((r) => r.id),
      tasksByStatus: Object.fromEntries(statuses.map((r) => [r.status, Number(r.n)])),
    };
  } finally {
    db.close();
  }
}

/** Force a task's lease to have run out, as if its holder had stalled past it (a frozen process, a GC pause). */
export function expireLease(databaseFile: string, taskId: string): number {
  const db = new BetterSqlite3(databaseFile, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return db.prepare("UPDATE tasks SET lease_expires_at = 1 WHERE id = ? AND status = 'PROCESSING'").run(taskId).changes;
  } finally {
    db.close();
  }
}
