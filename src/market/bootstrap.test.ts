/**
 * Start-up of several instances on one fresh PostgreSQL database, each with its own connection pool as
 * separate processes would have, all at the same moment (in one process, so they really overlap):
 * migrations wait on Kysely's advisory lock and run once; seeding leaves three agents and one admin.
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { createDb, type Db } from '../db/create-db.ts';
import { ADMIN } from '../e2e/harness.ts';
import { expectedCensus, postgresCensus } from '../e2e/startup-census.ts';
import { freshPostgresDatabase, type TestDatabase } from '../e2e/test-services.ts';
import { bootstrapMarket } from './bootstrap.ts';
import type { Store } from './store.ts';

/** The key Kysely's PostgresAdapter takes with pg_advisory_lock around migrations (kysely 0.28). */
const KYSELY_MIGRATION_LOCK = '3853314791062309107';

const probe = await freshPostgresDatabase('aicp_bootstrap_probe');
await probe?.drop();

describe.skipIf(!probe)('start-up on one fresh PostgreSQL database', () => {
  const opened: Db[] = [];
  const databases: TestDatabase[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((db) => db.close()));
    await Promise.all(databases.splice(0).map((d) => d.drop()));
  });

  async function freshDatabase(): Promise<string> {
    const database = await freshPostgresDatabase('aicp_bootstrap');
    if (!database) throw new Error('PostgreSQL went away');
    databases.push(database);
    return database.url;
  }

  it('migrates under the advisory lock: a migration waits while another holds it', async () => {
    const url = await freshDatabase();
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      await holder.query(`SELECT pg_advisory_lock(${KYSELY_MIGRATION_LOCK})`);
      const migrating = createDb(url).then((db) => opened.push(db));
      // The migrator is now queued behind our lock (seen in pg_locks), and has created no table yet.
      const waiting = async () =>
        Number((await holder.query(`SELECT COUNT(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`)).rows[0].n);
      for (let i = 0; (await waiting()) === 0; i++) {
        if (i > 600) throw new Error('the migrator never waited on the advisory lock');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const tables = async () => Number((await holder.query(`SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_name = 'tasks'`)).rows[0].n);
      expect(await tables()).toBe(0);
      await holder.query(`SELECT pg_advisory_unlock(${KYSELY_MIGRATION_LOCK})`);
      await migrating;
      expect(await tables()).toBe(1);
    } finally {
      await holder.end();
    }
  });

  it('three instances starting at once: each migrates and bootstraps without error; one of everything', async () => {
    const url = await freshDatabase();
    const config = loadConfig({ ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, DATABASE_URL: url });
    const startOne = async () => {
      const db = await createDb(url);
      opened.push(db);
      const store: Store = { db: db.kysely, dialect: db.dialect, now: () => Date.now(), onCommit: () => {} };
      await bootstrapMarket(store, config);
    };
    const outcomes = await Promise.allSettled([startOne(), startOne(), startOne()]);
    expect(outcomes.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason))).toEqual([]);
    expect(await postgresCensus(url)).toEqual(expectedCensus);
  });
});
