import { Kysely, type Migration, type MigrationProvider, Migrator, PostgresDialect } from 'kysely';
import { retryTransient } from './transient.ts';
import type { Database } from './types.ts';
import { FastSqliteDialect, openSqlite } from './sqlite.ts';
import * as initial from './migrations/2026-11-24T00-00-00_initial.ts';
import * as walletEntries from './migrations/2026-12-02T12-00-00_wallet-entries.ts';
import * as presenceAndMinuteStats from './migrations/2026-12-02T13-00-00_presence-and-minute-stats.ts';
import * as taskLifecycle from './migrations/2026-12-02T18-00-00_task-lifecycle.ts';

export type Dialect = 'sqlite' | 'postgres';

export interface Db {
  kysely: Kysely<Database>;
  dialect: Dialect;
  /** Where it lives, for logs and `health` (never includes a password). */
  describe: string;
  close(): Promise<void>;
}

/**
 * Open the database named by DATABASE_URL: `postgres://...` for PostgreSQL, anything else is a SQLite file
 * (or `:memory:`). Migrations run before it is handed out, under a lock, so several instances starting
 * together on one fresh database migrate it once: on PostgreSQL Kysely's Migrator holds an advisory lock
 * (`pg_advisory_lock`) while it reads what is done and does the rest in one transaction; on SQLite it
 * runs in one `BEGIN IMMEDIATE` transaction (see `FastSqliteDialect`), the file's write lock.
 */
export async function createDb(url: string): Promise<Db> {
  const db = url.startsWith('postgres://') || url.startsWith('postgresql://') ? await openPostgres(url) : openSqliteDb(url);
  try {
    // Another process holding SQLite's write lock past busy_timeout is waited out rather than fatal.
    await retryTransient(() => migrateToLatest(db.kysely));
  } catch (error) {
    await db.close();
    throw error;
  }
  return db;
}

function openSqliteDb(url: string): Db {
  const kysely = new Kysely<Database>({ dialect: new FastSqliteDialect(openSqlite(url)) });
  return { kysely, dialect: 'sqlite', describe: `sqlite ${url}`, close: () => kysely.destroy() };
}

async function openPostgres(url: string): Promise<Db> {
  const pg = await import('pg');
  // BIGINT (money, times, sequences) arrives as a string by default; every value we store is below 2^53.
  pg.default.types.setTypeParser(20, (value: string) => Number(value));
  const pool = new pg.default.Pool({ connectionString: url, max: 10 });
  // An idle connection the server closed (restart, failover, a terminated backend) must not crash the
  // process: the pool drops it and the next query connects again, or fails and /ready says so.
  pool.on('error', () => undefined);
  const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const parsed = new URL(url);
  return { kysely, dialect: 'postgres', describe: `postgres ${parsed.host}${parsed.pathname}`, close: () => kysely.destroy() };
}

/** Migrations are listed here rather than read from disk, so they work the same under tsx and in a bundle. */
const migrations: Record<string, Migration> = {
  '2026-11-24T00-00-00_initial': initial,
  '2026-12-02T12-00-00_wallet-entries': walletEntries,
  '2026-12-02T13-00-00_presence-and-minute-stats': presenceAndMinuteStats,
  '2026-12-02T18-00-00_task-lifecycle': taskLifecycle,
};

/** Every migration's name, oldest first: what a migrated database's `kysely_migration` lists. */
export const migrationNames: readonly string[] = Object.keys(migrations).sort();

const provider: MigrationProvider = { getMigrations: async () => migrations };

export async function migrateToLatest(kysely: Kysely<Database>): Promise<void> {
  const { error, results } = await new Migrator({ db: kysely, provider }).migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    const cause = error instanceof Error ? error : new Error(String(error ?? 'unknown'));
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${cause.message}`, { cause });
  }
}
