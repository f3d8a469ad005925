/**
 * The real PostgreSQL and Redis the tests talk to (TEST_POSTGRES_URL, default
 * postgres://postgres@127.0.0.1:5432; TEST_REDIS_URL, default redis://127.0.0.1:6379). On a machine
 * without one, the tests that need it skip with a message; in CI (CI=true) they fail instead, since
 * `.ci/run` starts both.
 */
import { randomBytes } from 'node:crypto';
import { createConnection } from 'node:net';
import pg from 'pg';

export const postgresBase = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';
export const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const inCi = process.env.CI === 'true';

/** A name no other test run on this server uses: tests of several engineers share one PostgreSQL and Redis. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

export interface TestDatabase {
  url: string;
  /** Drop it, closing whatever connections are still open to it. */
  drop(): Promise<void>;
}

/**
 * A fresh, empty PostgreSQL database, or undefined (with a warning) when no server answers. Throws in CI.
 */
export async function freshPostgresDatabase(prefix = 'aicp_test'): Promise<TestDatabase | undefined> {
  const name = uniqueName(prefix);
  const admin = new pg.Client({ connectionString: `${postgresBase}/postgres`, connectionTimeoutMillis: 2000 });
  try {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
  } catch (error) {
    if (inCi) throw new Error(`PostgreSQL is required in CI but not reachable at ${postgresBase}: ${(error as Error).message}`);
    console.warn(`skipping PostgreSQL tests: no server at ${postgresBase} (${(error as Error).message})`);
    return undefined;
  } finally {
    await admin.end().catch(() => {});
  }
  return {
    url: `${postgresBase}/${name}`,
    async drop() {
      const client = new pg.Client({ connectionString: `${postgresBase}/postgres` });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** Whether Redis answers at `redisUrl` (a TCP connect); warns when not, throws in CI. */
export async function redisAvailable(): Promise<boolean> {
  const { hostname, port } = new URL(redisUrl);
  const ok = await new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: hostname, port: Number(port || 6379) });
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
  if (!ok && inCi) throw new Error(`Redis is required in CI but not reachable at ${redisUrl}`);
  if (!ok) console.warn(`skipping Redis tests: no server at ${redisUrl}`);
  return ok;
}
