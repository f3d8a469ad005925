/**
 * SQLite, and the one place where SQLite-specific SQL lives.
 *
 * Kysely's own SQLite driver prepares every statement on every call, begins deferred transactions and
 * wakes every waiter of its connection lock at once. This driver keeps the same single connection but:
 * - caches prepared statements by SQL text (hot paths compile once, then only bind and step), and reads
 *   rows as arrays turned into objects by a function compiled per statement (see `rowFactory`);
 * - begins transactions with `BEGIN IMMEDIATE`, so a transaction takes the write lock up front and two
 *   processes on one file never deadlock upgrading a read lock (no SQLITE_BUSY mid-transaction);
 * - hands the connection to waiters in FIFO order, one at a time.
 */
import BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type QueryResult,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type Kysely,
} from 'kysely';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { BoundedMap } from '../bounded-map.ts';

/** Open a SQLite file (created with its folder when missing) with the settings a server wants. */
export function openSqlite(url: string): BetterSqlite3.Database {
  const file = url === ':memory:' ? url : resolve(url.replace(/^file:(\/\/)?/, ''));
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new BetterSqlite3(file);
  // WAL lets readers in other processes run beside the writer; NORMAL sync is durable across process
  // crashes (only an OS crash can lose the last transactions), which is the right trade for a ledger
  // whose every write is also an idempotent, replay-safe transition.
  // First, so that even switching a fresh file to WAL waits for another process opening it at the same time.
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  return db;
}

/**
 * SQLite runs DDL inside transactions; Kysely's adapter says it does not only because its Migrator then
 * needs no lock of its own. Saying yes makes the Migrator read what is done and migrate the rest inside
 * one transaction, which our driver begins IMMEDIATE: the file's write lock, so two processes starting
 * on one fresh file migrate it once, one after the other.
 */
class MigratingSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

export class FastSqliteDialect implements Dialect {
  constructor(private readonly database: BetterSqlite3.Database) {}
  createAdapter() {
    return new MigratingSqliteAdapter();
  }
  createDriver(): Driver {
    return new FastSqliteDriver(this.database);
  }
  createQueryCompiler() {
    return new SqliteQueryCompiler();
  }
  // biome-ignore lint/suspicious/noExplicitAny: Kysely's introspector signature takes Kysely<any>
  createIntrospector(db: Kysely<any>) {
    return new SqliteIntrospector(db);
  }
}

class FastSqliteDriver implements Driver {
  readonly #connection: CachedStatementConnection;
  readonly #lock = new FifoLock();

  constructor(private readonly database: BetterSqlite3.Database) {
    this.#connection = new CachedStatementConnection(database);
  }
  async init() {}
  async acquireConnection(): Promise<DatabaseConnection> {
    await this.#lock.acquire();
    return this.#connection;
  }
  async releaseConnection() {
    this.#lock.release();
  }
  async beginTransaction(connection: DatabaseConnection) {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
  async commitTransaction(connection: DatabaseConnection) {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }
  async rollbackTransaction(connection: DatabaseConnection) {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }
  async destroy() {
    if (this.database.open) this.database.close();
  }
}

const STATEMENT_CACHE_SIZE = 500;

interface Prepared {
  stmt: BetterSqlite3.Statement;
  /** For statements that return rows: builds a row object from the row's values (see `rowFactory`). */
  toRow: ((values: unknown[]) => unknown) | null;
}

/**
 * better-sqlite3 builds every row object key by key, which on a page of tasks costs more than SQLite's
 * own work. Reading rows as arrays and building the objects with a function compiled once per statement
 * gives V8 one object shape per query: a 21-row page of tasks went from 130 to 80 µs.
 * The column names come from our own SQL and are embedded as JSON string literals; a `__proto__` column
 * (which an object literal would treat as the prototype) keeps the plain path.
 */
function rowFactory(columns: readonly string[]): ((values: unknown[]) => unknown) | null {
  if (columns.includes('__proto__')) return null;
  const fields = columns.map((name, i) => `${JSON.stringify(name)}: v[${i}]`).join(', ');
  return new Function('v', `return { ${fields} };`) as (values: unknown[]) => unknown;
}

class CachedStatementConnection implements DatabaseConnection {
  readonly #statements = new BoundedMap<string, Prepared>(STATEMENT_CACHE_SIZE);
  constructor(private readonly db: BetterSqlite3.Database) {}

  #prepare(sql: string): Prepared {
    let prepared = this.#statements.get(sql);
    if (!prepared) {
      const stmt = this.db.prepare(sql);
      const toRow = stmt.reader ? rowFactory(stmt.columns().map((c) => c.name)) : null;
      if (toRow) stmt.raw(true);
      prepared = { stmt, toRow };
      this.#statements.set(sql, prepared);
    }
    return prepared;
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const { stmt, toRow } = this.#prepare(compiled.sql);
    const parameters = compiled.parameters as unknown[];
    if (toRow) return { rows: (stmt.all(...parameters) as unknown[][]).map(toRow) as R[] };
    if (stmt.reader) return { rows: stmt.all(...parameters) as R[] };
    const { changes, lastInsertRowid } = stmt.run(...parameters);
    return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
  }

  // biome-ignore lint/correctness/useYield: streaming is not used by this application
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming queries are not supported by this driver');
  }
}

/** A lock that wakes exactly one waiter per release, in arrival order. */
class FifoLock {
  #held = false;
  readonly #waiters: Array<() => void> = [];

  acquire(): Promise<void> {
    if (!this.#held) {
      this.#held = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  release(): void {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#held = false;
  }
}
