/**
 * Group commit on a real SQLite file: transactions that queue up share one commit, yet each keeps its
 * own outcome. A failing one leaves nothing behind and takes no other down; callers hear of success only
 * once it is committed, and events go out in commit order.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../db/create-db.ts';
import { type Committed, GroupCommit, type Store, transact } from './store.ts';

let dir: string;
let db: Db;
let committed: Committed[];
let store: Store;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'aicp-store-'));
  db = await createDb(join(dir, 'store.sqlite'));
  committed = [];
  store = { db: db.kysely, dialect: db.dialect, now: () => Date.now(), onCommit: (changes) => committed.push(changes), groupCommit: new GroupCommit(4) };
});

afterEach(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A transaction that writes a counter named `name` and announces it, then fails when asked to. */
function write(name: string, fail = false) {
  return transact(store, async (tx) => {
    await tx.db.insertInto('counters').values({ name, value: 1 }).execute();
    tx.capacityFreed = true;
    tx.events.push({ sequence: 0, taskId: name, buyerId: 'b', agentId: null, status: 'PENDING', kind: 'CREATED', message: name, at: new Date(tx.now) });
    if (fail) throw new Error(`${name} refused`);
    return name;
  });
}

const names = async () => (await db.kysely.selectFrom('counters').select('name').orderBy('name').execute()).map((r) => r.name);

describe('GroupCommit', () => {
  it('commits queued transactions together, rolling back only the ones that fail', async () => {
    const outcomes = await Promise.allSettled(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'].map((n) => write(n, n === 'c' || n === 'a' || n === 'g')));
    expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as Error).message))).toEqual([
      'a refused',
      'b',
      'c refused',
      'd',
      'e',
      'f',
      'g refused',
      'h',
      'i',
      'j',
    ]);
    expect(await names()).toEqual(['b', 'd', 'e', 'f', 'h', 'i', 'j']);
    // Only what was committed is announced, in order.
    expect(committed.map((c) => c.events[0]?.message)).toEqual(['b', 'd', 'e', 'f', 'h', 'i', 'j']);
  });

  it('a failed commit fails everyone in its group and keeps nothing', async () => {
    // A deferred foreign-key violation passes its statement but fails the commit, of the whole group.
    await sql`create table parent (id text primary key)`.execute(db.kysely);
    await sql`create table child (id text primary key, parent text references parent(id) deferrable initially deferred)`.execute(db.kysely);
    const orphan = transact(store, async (tx) => {
      await sql`insert into child values ('x', 'missing')`.execute(tx.db);
      tx.capacityFreed = true;
      return 'orphan';
    });
    const outcomes = await Promise.allSettled([write('k'), orphan, write('l')]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(await names()).toEqual([]);
    expect(committed).toEqual([]);
  });
});
