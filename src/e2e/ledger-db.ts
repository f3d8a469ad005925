/**
 * The server's SQLite file read directly, beside the running server (WAL lets it, even from another
 * process), so whole-system tests can check what was really written without trusting the API they are
 * testing: the ledger's invariants, one task's transfers and escrow, the whole market's books, and that a
 * refused call wrote nothing. One helper writes: `expireLease`, to stage a stalled lease holder.
 */
import Database from 'better-sqlite3';
import { expect } from 'vitest';

/**
 * Open the file for one look and close it again. Read-only unless `writable`; the audits open it
 * writable, as they always have, because they also run on the file of a killed child server.
 */
function withDatabase<T>(file: string, use: (db: Database.Database) => T, { writable = false } = {}): T {
  const db = new Database(file, { readonly: !writable, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return use(db);
  } finally {
    db.close();
  }
}

/** Decode a Relay global ID (base64 of `<Type>:<id>`) to its local (database) id, checking the type when given. */
export function localIdOf(globalId: string, type?: 'Task' | 'User' | 'Agent'): string {
  const decoded = Buffer.from(globalId, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0 || (type && decoded.slice(0, colon) !== type)) throw new Error(`not a${type ? ` ${type}` : ''} global id: ${globalId} (${decoded})`);
  return decoded.slice(colon + 1);
}

const count = (db: Database.Database, sql: string, ...params: unknown[]) => Number((db.prepare(sql).get(...params) as { n: number | bigint }).n);
const ledgerSum = (db: Database.Database) => count(db, 'SELECT COALESCE(SUM(balance), 0) AS n FROM accounts');
/** Accounts other than `world` below zero (never allowed). */
const negativeAccounts = (db: Database.Database) =>
  (db.prepare("SELECT id FROM accounts WHERE balance < 0 AND id <> 'world'").all() as { id: string }[]).map((r) => r.id);

export function accountBalance(file: string, accountId: string): number | undefined {
  return withDatabase(file, (db) => {
    const row = db.prepare('SELECT balance FROM accounts WHERE id = ?').get(accountId) as { balance: number } | undefined;
    return row?.balance;
  });
}

/** Rows of a table matching a simple SQL condition (test-only; the condition is written by the test). */
export function countRows(file: string, table: 'tasks' | 'transfers' | 'users' | 'agents' | 'task_events', where = '1 = 1', ...params: unknown[]): number {
  return withDatabase(file, (db) => count(db, `SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`, ...params));
}

/**
 * Everything a refused call could have changed, as one comparable value: users, accounts, transfers,
 * agents, tasks and events. Two equal snapshots mean nothing was written in between.
 */
export function snapshot(file: string): string {
  return withDatabase(file, (db) =>
    JSON.stringify({
      users: db.prepare('SELECT id, email, role FROM users ORDER BY id').all(),
      accounts: db.prepare('SELECT id, balance FROM accounts ORDER BY id').all(),
      transfers: db.prepare('SELECT id, amount FROM transfers ORDER BY id').all(),
      agents: db.prepare('SELECT * FROM agents ORDER BY id').all(),
      tasks: db.prepare('SELECT * FROM tasks ORDER BY id').all(),
      events: db.prepare('SELECT COUNT(*) AS n FROM task_events').get(),
    }),
  );
}

/**
 * The ledger's invariants (DESIGN.md, Money): balances sum to zero; no account but the outside world is
 * negative; every balance is exactly what its transfers say; an open task's escrow holds its maxPrice
 * and a final task's escrow is empty; transfer ids are unique.
 */
export function expectLedgerInvariants(file: string): void {
  withDatabase(file, (db) => {
    expect(ledgerSum(db), 'balances sum to zero').toBe(0);

    // With the balances, not just the ids: a failure here should say by how much.
    const negative = db.prepare("SELECT id, balance FROM accounts WHERE balance < 0 AND id <> 'world'").all();
    expect(negative, 'no account but the world is negative').toEqual([]);

    const drift = db
      .prepare(
        `SELECT a.id, a.balance,
                COALESCE((SELECT SUM(amount) FROM transfers WHERE credit_account = a.id), 0)
              - COALESCE((SELECT SUM(amount) FROM transfers WHERE debit_account = a.id), 0) AS expected
           FROM accounts a`,
      )
      .all() as { id: string; balance: number; expected: number }[];
    expect(
      drift.filter((a) => a.balance !== a.expected),
      'every balance equals its transfers',
    ).toEqual([]);

    const finalEscrows = db
      .prepare(
        `SELECT t.id, t.status, a.balance FROM tasks t JOIN accounts a ON a.id = 'escrow:' || t.id
          WHERE t.status IN ('COMPLETED', 'FAILED', 'CANCELLED') AND a.balance <> 0`,
      )
      .all();
    expect(finalEscrows, 'escrows of final tasks are empty').toEqual([]);

    const openEscrows = db
      .prepare(
        `SELECT t.id, t.max_price, a.balance FROM tasks t LEFT JOIN accounts a ON a.id = 'escrow:' || t.id
          WHERE t.status IN ('PENDING', 'ASSIGNED', 'PROCESSING') AND (a.balance IS NULL OR a.balance <> t.max_price)`,
      )
      .all();
    expect(openEscrows, 'open tasks hold exactly maxPrice in escrow').toEqual([]);

    const ids = db.prepare('SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS distinctIds FROM transfers').get() as { n: number; distinctIds: number };
    expect(ids.distinctIds, 'transfer ids are unique').toBe(ids.n);

    expect(walletHistoryProblems(db), 'each wallet history is numbered 1..entries and its balanceAfter replays its transfers').toEqual([]);
  });
}

/**
 * Every account's movements, in their recorded order (entry 1, 2, ...), replayed from zero: each recorded
 * balance-after must equal the running sum, the numbers must have no gap, and the last must be the
 * account's balance and its count of entries. Returns what disagrees (empty when all is well).
 */
function walletHistoryProblems(db: Database.Database): string[] {
  const sides = db
    .prepare(
      `SELECT debit_account AS account, debit_entry AS entry, -amount AS delta, debit_balance_after AS after FROM transfers
       UNION ALL
       SELECT credit_account, credit_entry, amount, credit_balance_after FROM transfers
       ORDER BY account, entry`,
    )
    .all() as { account: string; entry: number; delta: number; after: number }[];
  const accounts = new Map((db.prepare('SELECT id, balance, entries FROM accounts').all() as { id: string; balance: number; entries: number }[]).map((a) => [a.id, a]));
  const problems: string[] = [];
  const replayed = new Map<string, { balance: number; entries: number }>();
  for (const side of sides) {
    const state = replayed.get(side.account) ?? { balance: 0, entries: 0 };
    state.balance += Number(side.delta);
    state.entries += 1;
    replayed.set(side.account, state);
    if (Number(side.entry) !== state.entries) problems.push(`${side.account}: entry ${side.entry} where ${state.entries} was due`);
    if (Number(side.after) !== state.balance) problems.push(`${side.account} entry ${side.entry}: balanceAfter ${side.after}, replayed ${state.balance}`);
  }
  for (const [id, account] of accounts) {
    const state = replayed.get(id) ?? { balance: 0, entries: 0 };
    if (Number(account.entries) !== state.entries || Number(account.balance) !== state.balance) {
      problems.push(`${id}: balance ${account.balance} with ${account.entries} entries, replayed ${state.balance} with ${state.entries}`);
    }
  }
  return problems;
}

/** The ledger rows booked against a task (by its global id), oldest first. */
export function transfersOf(file: string, taskId: string): { kind: string; amount: number; credit_account: string }[] {
  return withDatabase(file, (db) => {
    const rows = db.prepare('SELECT kind, amount, credit_account FROM transfers WHERE task_id = ? ORDER BY created_at').all(localIdOf(taskId, 'Task'));
    return (rows as { kind: string; amount: number | bigint; credit_account: string }[]).map((row) => ({ ...row, amount: Number(row.amount) }));
  });
}

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

/** What was really booked for one task (by its global id): how many payouts, whether its escrow is empty. */
export function auditTask(file: string, taskId: string): TaskLedger {
  const id = localIdOf(taskId, 'Task');
  return withDatabase(
    file,
    (db) => {
      const escrow = db.prepare('SELECT balance FROM accounts WHERE id = ?').get(`escrow:${id}`) as { balance: number | bigint } | undefined;
      return {
        payoutRows: count(db, 'SELECT count(*) AS n FROM transfers WHERE id = ?', `payout:${id}`),
        payoutsForTask: count(db, "SELECT count(*) AS n FROM transfers WHERE task_id = ? AND kind = 'payout'", id),
        refundsForTask: count(db, "SELECT count(*) AS n FROM transfers WHERE task_id = ? AND kind = 'refund'", id),
        escrowBalance: escrow ? Number(escrow.balance) : Number.NaN,
        ledgerSum: ledgerSum(db),
        negativeAccounts: negativeAccounts(db),
        task: db.prepare('SELECT status, attempts, lease_token, lease_expires_at FROM tasks WHERE id = ?').get(id) as TaskLedger['task'],
      };
    },
    { writable: true },
  );
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
export function auditMarket(file: string): MarketLedger {
  return withDatabase(
    file,
    (db) => {
      const statuses = db.prepare('SELECT status, count(*) AS n FROM tasks GROUP BY status').all() as { status: string; n: number | bigint }[];
      return {
        ledgerSum: ledgerSum(db),
        escrowTotal: count(db, "SELECT coalesce(sum(balance), 0) AS n FROM accounts WHERE kind = 'escrow'"),
        payouts: count(db, "SELECT count(*) AS n FROM transfers WHERE kind = 'payout'"),
        negativeAccounts: negativeAccounts(db),
        tasksByStatus: Object.fromEntries(statuses.map((r) => [r.status, Number(r.n)])),
      };
    },
    { writable: true },
  );
}

/** Force a task's lease (by its global id) to have run out, as if its holder had stalled past it (a frozen process, a GC pause). */
export function expireLease(file: string, taskId: string): number {
  return withDatabase(file, (db) => db.prepare("UPDATE tasks SET lease_expires_at = 1 WHERE id = ? AND status = 'PROCESSING'").run(localIdOf(taskId, 'Task')).changes, {
    writable: true,
  });
}
