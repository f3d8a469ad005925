/**
 * Looks at the server's SQLite file directly (read-only, beside the running server: WAL lets it), so
 * whole-system tests can check the ledger's invariants and that a refused call wrote nothing, without
 * trusting the API they are testing.
 */
import Database from 'better-sqlite3';
import { expect } from 'vitest';

function withDb<T>(file: string, read: (db: Database.Database) => T): T {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

/** Decode a Relay global ID ("Task:<uuid>" in base64) to its local id. */
export function localIdOf(globalId: string): string {
  const decoded = Buffer.from(globalId, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new Error(`not a global id: ${globalId}`);
  return decoded.slice(colon + 1);
}

export function accountBalance(file: string, accountId: string): number | undefined {
  return withDb(file, (db) => {
    const row = db.prepare('SELECT balance FROM accounts WHERE id = ?').get(accountId) as { balance: number } | undefined;
    return row?.balance;
  });
}

/** Rows of a table matching a simple SQL condition (test-only; the condition is written by the test). */
export function countRows(file: string, table: 'tasks' | 'transfers' | 'users' | 'agents' | 'task_events', where = '1 = 1', ...params: unknown[]): number {
  return withDb(file, (db) => (db.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`).get(...params) as { n: number }).n);
}

/**
 * Everything a refused call could have changed, as one comparable value: users, accounts, transfers,
 * agents, tasks and events. Two equal snapshots mean nothing was written in between.
 */
export function snapshot(file: string): string {
  return withDb(file, (db) =>
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
  withDb(file, (db) => {
    const { total } = db.prepare('SELECT COALESCE(SUM(balance), 0) AS total FROM accounts').get() as { total: number };
    expect(total, 'balances sum to zero').toBe(0);

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
  });
}
