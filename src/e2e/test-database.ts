/**
 * The databases whole-system tests run on, as Kysely's own tests loop over dialects: every e2e file runs
 * once per dialect in TEST_DIALECTS (default `sqlite,postgres`), each server on a fresh database of its
 * own. PostgreSQL is the local server (test-services.ts): without it the PostgreSQL half is skipped with a
 * message, and in CI (CI=true) it fails instead.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe } from 'vitest';
import { postgresBase, uniqueName } from './test-services.ts';

export type TestDialect = 'sqlite' | 'postgres';

const requested: TestDialect[] = (process.env.TEST_DIALECTS ?? 'sqlite,postgres')
  .split(',')
  .map((name) => name.trim())
  .filter((name) => name !== '')
  .map((name) => {
    if (name !== 'sqlite' && name !== 'postgres') throw new Error(`TEST_DIALECTS: unknown dialect "${name}" (sqlite, postgres)`);
    return name;
  });

/** Run a statement on the server's `postgres` database (creating and dropping test databases). */
async function onPostgresServer(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: `${postgresBase}/postgres`, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query(statement);
  } finally {
    await client.end().catch(() => {});
  }
}

async function postgresReachable(): Promise<boolean> {
  try {
    await onPostgresServer('SELECT 1');
    return true;
  } catch (error) {
    const why = `no PostgreSQL server at ${postgresBase} (${(error as Error).message})`;
    if (process.env.CI === 'true') throw new Error(`PostgreSQL is required in CI: ${why}`);
    console.warn(`skipping the PostgreSQL runs of the e2e tests: ${why}`);
    return false;
  }
}

/** Whether `dialect` runs in this process: asked for in TEST_DIALECTS and, for PostgreSQL, reachable. */
export const dialectAvailable: Record<TestDialect, boolean> = {
  sqlite: requested.includes('sqlite'),
  postgres: requested.includes('postgres') && (await postgresReachable()),
};

/** The dialects asked for, in order; the unavailable ones are still listed so they show up as skipped. */
export const testDialects: readonly TestDialect[] = requested;

/**
 * `describe` the same tests once per dialect (`<name> [sqlite]`, `<name> [postgres]`); `body` gets the
 * dialect to pass to `startServer`/`createTestDatabase`.
 */
export function describeEachDialect(name: string, body: (dialect: TestDialect) => void): void {
  for (const dialect of testDialects) describe.skipIf(!dialectAvailable[dialect])(`${name} [${dialect}]`, () => body(dialect));
}

export interface TestDatabase {
  dialect: TestDialect;
  /** What DATABASE_URL gets: a SQLite file path or a `postgres://` URL. */
  url: string;
  /** A temporary folder of the test's own (SQLite: the database file lives in it). */
  dir: string;
  /** Remove the database and the folder. */
  drop(): Promise<void>;
}

/** A fresh, empty database of `dialect` (the server migrates it when it opens it). */
export async function createTestDatabase(dialect: TestDialect): Promise<TestDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'aicp-test-'));
  if (dialect === 'sqlite') {
    return { dialect, url: join(dir, 'aicp.sqlite'), dir, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = uniqueName('aicp_test');
  await onPostgresServer(`CREATE DATABASE ${name}`);
  return {
    dialect,
    url: `${postgresBase}/${name}`,
    dir,
    drop: async () => {
      rmSync(dir, { recursive: true, force: true });
      await onPostgresServer(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** The dialect a DATABASE_URL names. */
export const dialectOf = (url: string): TestDialect => (/^postgres(ql)?:\/\//.test(url) ? 'postgres' : 'sqlite');
