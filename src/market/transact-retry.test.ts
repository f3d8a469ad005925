/**
 * `transact` runs a transaction the database gave up on again: a real deadlock on PostgreSQL (two
 * transactions locking two rows in opposite order) ends with both committed, each announced once, and
 * SQLite's SQLITE_BUSY (another process holding the write lock past busy_timeout) is waited out.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../db/create-db.ts';
import { isTransientConflict, type RetryPolicy, TransactionConflictError } from '../db/transient.ts';
import { freshPostgresDatabase } from '../e2e/test-services.ts';
import { type Committed, GroupCommit, type Store, type Tx, transact } from './store.ts';

/** Resolves once `count` parties have arrived: both sides hold their first lock before taking the second. */
function barrier(count: number): () => Promise<void> {
  let arrived = 0;
  let release!: () => void;
  const all = new Promise<void>((resolve) => (release = resolve));
  return () => {
    if (++arrived === count) release();
    return all;
  };
}

function announce(tx: Tx, name: string, attempt: number): void {
  tx.events.push({ sequence: 0, taskId: name, buyerId: 'b', agentId: null, status: 'PENDING', kind: 'CREATED', message: `${name} attempt ${attempt}`, at: new Date(tx.now) });
}

/** A store on `db` that records what it announces and every retry. */
function recordingStore(db: Db, retry: Omit<RetryPolicy, 'onRetry'>, groupCommit?: GroupCommit) {
  const committed: Committed[] = [];
  const retried: unknown[] = [];
  const store: Store = {
    db: db.kysely,
    dialect: db.dialect,
    now: () => Date.now(),
    onCommit: (changes) => committed.push(changes),
    ...(groupCommit && { groupCommit }),
    retry: { ...retry, onRetry: (error) => retried.push(error) },
  };
  return { store, committed, retried };
}

const bump = (tx: Tx, name: string) => tx.db.updateTable('counters').set({ value: sql`value + 1` }).where('name', '=', name).execute();

const database = await freshPostgresDatabase('aicp_retry');

describe.skipIf(!database)('transact on PostgreSQL', () => {
  let db: Db;
  beforeAll(async () => {
    db = await createDb(database?.url ?? '');
    await db.kysely.insertInto('counters').values([{ name: 'row-a', value: 0 }, { name: 'row-b', value: 0 }]).execute();
  });
  afterAll(async () => {
    await db?.close();
    await database?.drop();
  });

  /** Two transactions through `transact`, one locking a then b, the other b then a, meeting in the middle on their first try. */
  function deadlockingPair(store: Store) {
    const bothHoldOne = barrier(2);
    const attempts = { ab: 0, ba: 0 };
    const run = (name: 'ab' | 'ba', first: string, second: string) =>
      transact(store, async (tx) => {
        const attempt = ++attempts[name];
        announce(tx, name, attempt);
        await bump(tx, first);
        if (attempt === 1) await bothHoldOne();
        await bump(tx, second);
        return attempt;
      });
    return { attempts, outcomes: Promise.allSettled([run('ab', 'row-a', 'row-b'), run('ba', 'row-b', 'row-a')]) };
  }

  const counters = async () =>
    Object.fromEntries((await db.kysely.selectFrom('counters').select(['name', 'value']).where('name', 'in', ['row-a', 'row-b']).execute()).map((r) => [r.name, Number(r.value)]));

  it('retries the deadlock victim: both commit, each is announced once, with the attempt that committed', async () => {
    const { store, committed, retried } = recordingStore(db, { attempts: 5, firstDelayMs: 10, maxDelayMs: 100 });
    const before = await counters();
    const { attempts, outcomes } = deadlockingPair(store);
    const results = await outcomes;

    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    // PostgreSQL really detected a deadlock, and exactly one side ran again.
    expect(retried).toHaveLength(1);
    expect((retried[0] as { code?: string }).code).toBe('40P01');
    expect([attempts.ab, attempts.ba].sort()).toEqual([1, 2]);
    // Both committed: each row moved twice. Only the committing attempts were announced.
    expect(await counters()).toEqual({ 'row-a': (before['row-a'] ?? 0) + 2, 'row-b': (before['row-b'] ?? 0) + 2 });
    const announced = committed.flatMap((c) => c.events.map((e) => e.message)).sort();
    expect(announced).toEqual([`ab attempt ${attempts.ab}`, `ba attempt ${attempts.ba}`].sort());
  });

  it('gives up after its attempts with a TransactionConflictError, keeping nothing of the loser', async () => {
    const { store, committed } = recordingStore(db, { attempts: 1, firstDelayMs: 1, maxDelayMs: 1 });
    const before = await counters();
    const results = await deadlockingPair(store).outcomes;

    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected).toHaveLength(1);
    expect(rejected[0]?.reason).toBeInstanceOf(TransactionConflictError);
    expect(isTransientConflict(rejected[0]?.reason)).toBe(true);
    expect(await counters()).toEqual({ 'row-a': (before['row-a'] ?? 0) + 1, 'row-b': (before['row-b'] ?? 0) + 1 });
    expect(committed).toHaveLength(1);
  });
});

describe('transact on SQLite', () => {
  let dir: string;
  let db: Db;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'aicp-retry-'));
    db = await createDb(join(dir, 'retry.sqlite'));
  });
  afterAll(async () => {
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('waits out another process holding the write lock past busy_timeout (SQLITE_BUSY), then commits once', async () => {
    await sql`pragma busy_timeout = 20`.execute(db.kysely);
    const { store, committed, retried } = recordingStore(db, { attempts: 10, firstDelayMs: 20, maxDelayMs: 200 }, new GroupCommit());
    // A second connection to the file stands for another process: it holds the write lock for a while.
    const other = new BetterSqlite3(join(dir, 'retry.sqlite'));
    other.exec('BEGIN IMMEDIATE');
    const released = new Promise<void>((resolve) =>
      setTimeout(() => {
        other.exec('COMMIT');
        other.close();
        resolve();
      }, 150),
    );
    let runs = 0;
    const value = await transact(store, async (tx) => {
      runs++;
      announce(tx, 'busy', runs);
      await tx.db.insertInto('counters').values({ name: 'after-busy', value: 1 }).execute();
      return 'done';
    });
    await released;

    expect(value).toBe('done');
    expect(retried.length).toBeGreaterThan(0);
    expect(retried.every((e) => (e as { code?: string }).code === 'SQLITE_BUSY')).toBe(true);
    // The lock was taken at BEGIN: the body ran only once it was ours, and was announced once.
    expect(runs).toBe(1);
    expect(committed.flatMap((c) => c.events.map((e) => e.message))).toEqual(['busy attempt 1']);
    const row = await db.kysely.selectFrom('counters').select('value').where('name', '=', 'after-busy').executeTakeFirst();
    expect(Number(row?.value)).toBe(1);
  });
});
