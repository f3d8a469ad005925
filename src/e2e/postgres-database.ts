/**
 * A fresh, uniquely named database on the local PostgreSQL server (TEST_POSTGRES_URL, default
 * postgres://postgres@127.0.0.1:5432) for one test file. Without a server the caller skips with a
 * message; in CI (CI=true) that is a failure instead.
 */
import pg from 'pg';

export const postgresBase = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';

/** Run one statement on the server's `postgres` database (create, drop, terminate). */
export async function onPostgresServer(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: `${postgresBase}/postgres`, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query(statement);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Create `name`; its URL, or undefined (with a warning) when no server answers outside CI. */
export async function createPostgresDatabase(name: string): Promise<string | undefined> {
  try {
    await onPostgresServer(`CREATE DATABASE ${name}`);
    return `${postgresBase}/${name}`;
  } catch (error) {
    if (process.env.CI === 'true') throw new Error(`PostgreSQL is required in CI but not reachable at ${postgresBase}: ${(error as Error).message}`);
    console.warn(`skipping PostgreSQL tests: no server at ${postgresBase} (${(error as Error).message})`);
    return undefined;
  }
}

export async function dropPostgresDatabase(name: string): Promise<void> {
  await onPostgresServer(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}
