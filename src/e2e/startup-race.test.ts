/**
 * Several instances started at the same moment on one fresh database, as an operator's orchestrator does:
 * every one comes up (migrations run once, under a lock; seeding is idempotent), and the database ends
 * with the schema migrated once, exactly the three seeded agents (each with its wallet) and one admin.
 * On a fresh PostgreSQL database and on a fresh SQLite file, each instance a real child process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { ADMIN } from './harness.ts';
import { baseChildEnv, type ChildServer, freePort, killAll, spawnServer } from './child-server.ts';
import { CENSUS, expectedCensus as expected, postgresCensus } from './startup-census.ts';
import { freshPostgresDatabase } from './test-services.ts';

const INSTANCES = 3;
/** Three servers compiling TypeScript at once on a shared 2-core machine can take a minute or more. */
const START_TIMEOUT_MS = 150_000;

/** Start `INSTANCES` servers at once on `databaseUrl`; every one must come up and answer as itself. */
async function startTogether(databaseUrl: string, children: ChildServer[]): Promise<void> {
  const ports = await Promise.all(Array.from({ length: INSTANCES }, () => freePort()));
  const started = await Promise.allSettled(ports.map((port) => spawnServer(baseChildEnv(databaseUrl, port), START_TIMEOUT_MS)));
  for (const outcome of started) if (outcome.status === 'fulfilled') children.push(outcome.value);
  const failures = started.filter((o): o is PromiseRejectedResult => o.status === 'rejected').map((o) => String(o.reason));
  expect(failures).toEqual([]);
  // Each answers, and the admin made by whichever instance won can sign in on every one.
  for (const child of children) {
    const res = await child.gql(`mutation ($input: LogInInput!) { logIn(input: $input) { __typename } }`, { input: ADMIN });
    expect(res.data?.logIn?.__typename).toBe('AuthPayload');
    const agents = await child.gql('{ agents(first: 10) { totalCount } }');
    expect(agents.data?.agents?.totalCount).toBe(3);
  }
}

describe('instances starting together on one fresh SQLite file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aicp-startup-'));
  const children: ChildServer[] = [];
  afterAll(async () => {
    await killAll(children);
    rmSync(dir, { recursive: true, force: true });
  });

  it(`all ${INSTANCES} come up; one migration, three agents, one admin`, { timeout: START_TIMEOUT_MS + 30_000 }, async () => {
    const file = join(dir, 'shared.sqlite');
    await startTogether(file, children);
    const db = new BetterSqlite3(file, { readonly: true });
    try {
      const census = Object.fromEntries(Object.entries(CENSUS).map(([key, query]) => [key, (db.prepare(query).get() as { n: number }).n]));
      expect(census).toEqual(expected);
    } finally {
      db.close();
    }
  });
});

const database = await freshPostgresDatabase('aicp_startup');

describe.skipIf(!database)('instances starting together on one fresh PostgreSQL database', () => {
  const children: ChildServer[] = [];
  afterAll(async () => {
    await killAll(children);
    await database?.drop();
  });

  it(`all ${INSTANCES} come up; one migration, three agents, one admin`, { timeout: START_TIMEOUT_MS + 30_000 }, async () => {
    const url = database?.url ?? '';
    await startTogether(url, children);
    expect(await postgresCensus(url)).toEqual(expected);
  });
});
