/**
 * The server's database read directly, beside the running server (SQLite's WAL lets another connection
 * in, even from another process; PostgreSQL is a server), so whole-system tests can check what was really
 * written without trusting the API they are testing: the ledger's invariants, one task's transfers and
 * escrow, the whole market's books, and that a refused call wrote nothing. One helper writes:
 * `expireLease`, to stage a stalled lease holder. Every helper takes the server's DATABASE_URL (a SQLite
 * file or a `postgres://` URL; `TestServer.databaseUrl`) and works on both dialects.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import { expect } from 'vitest';
import { dialectOf } from './test-database.ts';

type Row = Record<string, unknown>;

/** One connection for one look: the same SQL on both dialects, `?` placeholders. */
interface AuditConnection {
  all<T = Row>(sql: string, ...params: unknown[]): Promise<T[]>;
  /** Rows changed. */
  run(sql: string, ...params: unknown[]): Promise<number>;
}

/** `?` placeholders as PostgreSQL's `$1, $2…` (the SQL here and in tests has no `?` inside strings). */
const numbered = (sql: string) => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
};

/**
 * Open the database for one look and close it again. SQLite is opened writable, as it always has been:
 * the audits also run on the file of a killed child server, whose WAL they may need to recover.
 */
async function withDatabase<T>(url: string, use: (db: AuditConnection) => Promise<T>): Promise<T> {
  if (dialectOf(url) === 'postgres') {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return await use({
        all: async <R,>(sql: string, ...params: unknown[]) => (await client.query(numbered(sql), params)).rows as R[],
        run: async (sql, ...params) => (await client.query(numbered(sql), params)).rowCount ?? 0,
      });
    } finally {
      await client.end();
    }
  }
  const db = new Database(url, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return await use({
      all: async <R,>(sql: string, ...params: unknown[]) => db.prepare(sql).all(...params) as R[],
      run: async (sql, ...params) => db.prepare(sql).run(...params).changes,
    });
  } finally {
    db.close();
  }
}

/** BIGINT and COUNT arrive as strings from PostgreSQL (in a process that did not set a type parser). */
const num = (value: unknown): number => Number(value);
const numOrNull = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));

/** Decode a Relay global ID (base64 of `<Type>:<id>`) to its local (database) id, checking the type when given. */
export function localIdOf(globalId: string, type?: 'Task' | 'User' | 'Agent'): string {
  const decoded = Buffer.from(globalId, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0 || (type && decoded.slice(0, colon) !== type)) throw new Error(`not a${type ? ` ${type}` : ''} global id: ${globalId} (${decoded})`);
  return decoded.slice(colon + 1);
}

const count = async (db: AuditConnection, sql: string, ...params: unknown[]) => num((await db.all<{ n: unknown }>(sql, ...params))[0]?.n);
const ledgerSum = (db: AuditConnection) => count(db, 'SELECT COALESCE(SUM(balance), 0) AS n FROM accounts');
/** Accounts other than `world` below zero (never allowed). */
const negativeAccounts = async (db: AuditConnection) =>
  (await db.all<{ id: string }>("SELECT id FROM accounts WHERE balance < 0 AND id <> 'world' ORDER BY id")).map((r) => r.id);

export async function accountBalance(url: string, accountId: string): Promise<number | undefined> {
  return withDatabase(url, async (db) => {
    const [row] = await db.all<{ balance: unknown }>('SELECT balance FROM accounts WHERE id = ?', accountId);
    return row ? num(row.balance) : undefined;
  });
}

/** Rows of a table matching a simple SQL condition (test-only; the condition is written by the test, `?` placeholders). */
export async function countRows(url: string, table: 'tasks' | 'transfers' | 'users' | 'agents' | 'task_events', where = '1 = 1', ...params: unknown[]): Promise<number> {
  return withDatabase(url, (db) => count(db, `SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`, ...params));
}

/** Every column of every row, numbers as numbers: the same value whichever dialect (or type parser) read it. */
const normalized = (rows: Row[]) =>
  rows.map((row) => Object.fromEntries(Object.entries(row).map(([key, value]) => [key, typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value])));

/**
 * Everything a refused call could have changed, as one comparable value: users, accounts, transfers,
 * agents, tasks and events. Two equal snapshots mean nothing was written in between.
 */
export async function snapshot(url: string): Promise<string> {
  return withDatabase(url, async (db) =>
    JSON.stringify({
      users: normalized(await db.all('SELECT id, email, role FROM users ORDER BY id')),
      accounts: normalized(await db.all('SELECT id, balance FROM accounts ORDER BY id')),
      transfers: normalized(await db.all('SELECT id, amount FROM transfers ORDER BY id')),
      agents: normalized(await db.all('SELECT * FROM agents ORDER BY id')),
      tasks: normalized(await db.all('SELECT * FROM tasks ORDER BY id')),
      events: await count(db, 'SELECT COUNT(*) AS n FROM task_events'),
    }),
  );
}

/**
 * The ledger's invariants (DESIGN.md, Money): balances sum to zero; no account but the outside world is
 * negative; every balance is exactly what its transfers say; an open task's escrow holds its maxPrice
 * and a final task's escrow is empty; transfer ids are unique.
 */
export async function expectLedgerInvariants(url: string): Promise<void> {
  await withDatabase(url, async (db) => {
    expect(await ledgerSum(db), 'balances sum to zero').toBe(0);

    // With the balances, not just the ids: a failure here should say by how much.
    const negative = normalized(await db.all("SELECT id, balance FROM accounts WHERE balance < 0 AND id <> 'world'"));
    expect(negative, 'no account but the world is negative').toEqual([]);

    const drift = await db.all<{ id: string; balance: unknown; expected: unknown }>(
      `SELECT a.id, a.balance,
              COALESCE((SELECT SUM(amount) FROM transfers WHERE credit_account = a.id), 0)
            - COALESCE((SELECT SUM(amount) FROM transfers WHERE debit_account = a.id), 0) AS expected
         FROM accounts a`,
    );
    expect(
      drift.filter((a) => num(a.balance) !== num(a.expected)),
      'every balance equals its transfers',
    ).toEqual([]);

    const finalEscrows = await db.all(
      `SELECT t.id, t.status, a.balance FROM tasks t JOIN accounts a ON a.id = 'escrow:' || t.id
        WHERE t.status IN ('COMPLETED', 'FAILED', 'CANCELLED') AND a.balance <> 0`,
    );
    expect(normalized(finalEscrows), 'escrows of final tasks are empty').toEqual([]);

    const openEscrows = await db.all(
      `SELECT t.id, t.max_price, a.balance FROM tasks t LEFT JOIN accounts a ON a.id = 'escrow:' || t.id
        WHERE t.status IN ('PENDING', 'ASSIGNED', 'PROCESSING', 'DELIVERED', 'DISPUTED') AND (a.balance IS NULL OR a.balance <> t.max_price)`,
    );
    expect(normalized(openEscrows), 'open tasks hold exactly maxPrice in escrow').toEqual([]);

    const settled = await db.all<{ id: string; max_price: unknown; settled: unknown }>(
      `SELECT t.id, t.max_price,
              COALESCE((SELECT SUM(amount) FROM transfers WHERE task_id = t.id AND kind IN ('payout', 'fee', 'refund')), 0) AS settled
         FROM tasks t WHERE t.status IN ('COMPLETED', 'FAILED', 'CANCELLED')`,
    );
    expect(
      settled.filter((t) => num(t.settled) !== num(t.max_price)),
      'payout + fee + refund = maxPrice for every settled task',
    ).toEqual([]);

    const [ids] = await db.all<{ n: unknown; distinct_ids: unknown }>('SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS distinct_ids FROM transfers');
    expect(num(ids?.distinct_ids), 'transfer ids are unique').toBe(num(ids?.n));

    expect(await walletHistoryProblems(db), 'each wallet history is numbered 1..entries and its balanceAfter replays its transfers').toEqual([]);
  });
}

/**
 * Every account's movements, in their recorded order (entry 1, 2, ...), replayed from zero: each recorded
 * balance-after must equal the running sum, the numbers must have no gap, and the last must be the
 * account's balance and its count of entries. Returns what disagrees (empty when all is well).
 */
async function walletHistoryProblems(db: AuditConnection): Promise<string[]> {
  const sides = await db.all<{ account: string; entry: unknown; delta: unknown; after: unknown }>(
    `SELECT debit_account AS account, debit_entry AS entry, -amount AS delta, debit_balance_after AS after FROM transfers
     UNION ALL
     SELECT credit_account, credit_entry, amount, credit_balance_after FROM transfers
     ORDER BY account, entry`,
  );
  const accounts = await db.all<{ id: string; balance: unknown; entries: unknown }>('SELECT id, balance, entries FROM accounts');
  const problems: string[] = [];
  const replayed = new Map<string, { balance: number; entries: number }>();
  for (const side of sides) {
    const state = replayed.get(side.account) ?? { balance: 0, entries: 0 };
    state.balance += num(side.delta);
    state.entries += 1;
    replayed.set(side.account, state);
    if (num(side.entry) !== state.entries) problems.push(`${side.account}: entry ${side.entry} where ${state.entries} was due`);
    if (num(side.after) !== state.balance) problems.push(`${side.account} entry ${side.entry}: balanceAfter ${side.after}, replayed ${state.balance}`);
  }
  for (const account of accounts) {
    const state = replayed.get(account.id) ?? { balance: 0, entries: 0 };
    if (num(account.entries) !== state.entries || num(account.balance) !== state.balance) {
      problems.push(`${account.id}: balance ${account.balance} with ${account.entries} entries, replayed ${state.balance} with ${state.entries}`);
    }
  }
  return problems;
}

/** The ledger rows booked against a task (by its global id), oldest first. */
export async function transfersOf(url: string, taskId: string): Promise<{ kind: string; amount: number; credit_account: string }[]> {
  return withDatabase(url, async (db) => {
    const rows = await db.all<{ kind: string; amount: unknown; credit_account: string }>(
      'SELECT kind, amount, credit_account FROM transfers WHERE task_id = ? ORDER BY created_at, id',
      localIdOf(taskId, 'Task'),
    );
    return rows.map((row) => ({ ...row, amount: num(row.amount) }));
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
export async function auditTask(url: string, taskId: string): Promise<TaskLedger> {
  const id = localIdOf(taskId, 'Task');
  return withDatabase(url, async (db) => {
    const [escrow] = await db.all<{ balance: unknown }>('SELECT balance FROM accounts WHERE id = ?', `escrow:${id}`);
    const [task] = await db.all<{ status: string; attempts: unknown; lease_token: string | null; lease_expires_at: unknown }>(
      'SELECT status, attempts, lease_token, lease_expires_at FROM tasks WHERE id = ?',
      id,
    );
    return {
      payoutRows: await count(db, 'SELECT count(*) AS n FROM transfers WHERE id = ?', `payout:${id}`),
      payoutsForTask: await count(db, "SELECT count(*) AS n FROM transfers WHERE task_id = ? AND kind = 'payout'", id),
      refundsForTask: await count(db, "SELECT count(*) AS n FROM transfers WHERE task_id = ? AND kind = 'refund'", id),
      escrowBalance: escrow ? num(escrow.balance) : Number.NaN,
      ledgerSum: await ledgerSum(db),
      negativeAccounts: await negativeAccounts(db),
      task: task && { ...task, attempts: num(task.attempts), lease_expires_at: numOrNull(task.lease_expires_at) },
    };
  });
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
export async function auditMarket(url: string): Promise<MarketLedger> {
  return withDatabase(url, async (db) => {
    const statuses = await db.all<{ status: string; n: unknown }>('SELECT status, count(*) AS n FROM tasks GROUP BY status');
    return {
      ledgerSum: await ledgerSum(db),
      escrowTotal: await count(db, "SELECT coalesce(sum(balance), 0) AS n FROM accounts WHERE kind = 'escrow'"),
      payouts: await count(db, "SELECT count(*) AS n FROM transfers WHERE kind = 'payout'"),
      negativeAccounts: await negativeAccounts(db),
      tasksByStatus: Object.fromEntries(statuses.map((r) => [r.status, num(r.n)])),
    };
  });
}

/** Force a task's lease (by its global id) to have run out, as if its holder had stalled past it (a frozen process, a GC pause). */
export async function expireLease(url: string, taskId: string): Promise<number> {
  return withDatabase(url, (db) => db.run("UPDATE tasks SET lease_expires_at = 1 WHERE id = ? AND status = 'PROCESSING'", localIdOf(taskId, 'Task')));
}

/** Rows of any query, numbers normalized: for audits a test writes itself (multi-instance checks). */
export async function queryRows<T = Row>(url: string, sql: string, ...params: unknown[]): Promise<T[]> {
  return withDatabase(url, async (db) => normalized(await db.all(sql, ...params)) as T[]);
}

/**
 * Whether some connection holds a write transaction open on the server's database right now. A process
 * frozen inside one would stop every other writer (SQLite's single write lock, PostgreSQL's row locks)
 * until it wakes: a different failure from the stall a test means to stage.
 */
export async function writerInsideTransaction(url: string): Promise<boolean> {
  if (dialectOf(url) === 'postgres') {
    const [row] = await queryRows<{ n: unknown }>(
      url,
      "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction', 'idle in transaction (aborted)')",
    );
    return num(row?.n) > 0;
  }
  const db = new Database(url, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 0');
    db.exec('BEGIN IMMEDIATE');
    db.exec('ROLLBACK');
    return false;
  } catch (error) {
    if ((error as { code?: string }).code === 'SQLITE_BUSY') return true;
    throw error;
  } finally {
    db.close();
  }
}
