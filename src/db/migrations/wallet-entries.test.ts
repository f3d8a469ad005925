import { Kysely, Migrator } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { migrateToLatest } from '../create-db.ts';
import { FastSqliteDialect, openSqlite } from '../sqlite.ts';
import type { Database } from '../types.ts';
import * as initial from './2026-11-24T00-00-00_initial.ts';

let db: Kysely<Database> | undefined;
afterEach(async () => {
  await db?.destroy();
});

describe('migration 2026-12-02T12-00-00_wallet-entries', () => {
  it('numbers the transfers already written per account and replays each balance after them', async () => {
    db = new Kysely<Database>({ dialect: new FastSqliteDialect(openSqlite(':memory:')) });
    // The database as it was before: the first migration only, and a ledger written by the old code.
    await new Migrator({ db, provider: { getMigrations: async () => ({ '2026-11-24T00-00-00_initial': initial }) } }).migrateToLatest();
    const at = 1_700_000_000_000;
    await db.insertInto('accounts').values([
      { id: 'world', kind: 'world', balance: -1_500, created_at: at },
      { id: 'user:b', kind: 'user', balance: 1_200, created_at: at },
      { id: 'escrow:t', kind: 'escrow', balance: 0, created_at: at },
      { id: 'agent:a', kind: 'agent', balance: 300, created_at: at },
    ] as never).execute();
    const row = (id: string, from: string, to: string, amount: number, kind: string, when: number) =>
      ({ id, debit_account: from, credit_account: to, amount, kind, task_id: null, created_at: when }) as never;
    await db.insertInto('transfers').values([
      // Written out of order on purpose: the migration orders by time, then id.
      row('payout:t', 'escrow:t', 'agent:a', 300, 'payout', at + 2),
      row('credit:r1', 'world', 'user:b', 1_500, 'credit', at),
      row('escrow:t', 'user:b', 'escrow:t', 500, 'escrow', at + 1),
      row('refund:t', 'escrow:t', 'user:b', 200, 'refund', at + 2),
    ]).execute();

    await migrateToLatest(db);

    const sides = await db.selectFrom('transfers').select(['id', 'debit_entry', 'debit_balance_after', 'credit_entry', 'credit_balance_after']).orderBy('id').execute();
    expect(sides).toEqual([
      { id: 'credit:r1', debit_entry: 1, debit_balance_after: -1_500, credit_entry: 1, credit_balance_after: 1_500 },
      { id: 'escrow:t', debit_entry: 2, debit_balance_after: 1_000, credit_entry: 1, credit_balance_after: 500 },
      // Same time: payout before refund (by id).
      { id: 'payout:t', debit_entry: 2, debit_balance_after: 200, credit_entry: 1, credit_balance_after: 300 },
      { id: 'refund:t', debit_entry: 3, debit_balance_after: 0, credit_entry: 3, credit_balance_after: 1_200 },
    ]);
    const accounts = await db.selectFrom('accounts').select(['id', 'entries']).orderBy('id').execute();
    expect(accounts).toEqual([
      { id: 'agent:a', entries: 1 },
      { id: 'escrow:t', entries: 3 },
      { id: 'user:b', entries: 3 },
      { id: 'world', entries: 1 },
    ]);
  });
});
