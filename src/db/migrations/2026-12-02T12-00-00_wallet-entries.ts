import type { Kysely } from 'kysely';

/**
 * The ledger seen from each wallet. Every account counts its movements (`accounts.entries`), and every
 * transfer records, for each of its two sides, that side's movement number and the balance right after it
 * (`debit_entry`, `debit_balance_after`, `credit_entry`, `credit_balance_after`), written by `transfer()`
 * in the same statements that move the money. A wallet's history is then read straight from an index,
 * newest first, with its running balance, without summing anything.
 *
 * Existing transfers are numbered in the order they were written (time, then id) and their balances
 * replayed from zero, which ends at each account's balance since balances change only with a transfer.
 * Frozen in time: this file never imports application code.
 */

const PAGE = 1_000;

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the database as it was, not as typed today
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('accounts').addColumn('entries', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  for (const column of ['debit_entry', 'debit_balance_after', 'credit_entry', 'credit_balance_after']) {
    await db.schema.alterTable('transfers').addColumn(column, 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  }

  const accounts = new Map<string, { balance: number; entries: number }>();
  const side = (id: string, delta: number) => {
    const account = accounts.get(id) ?? { balance: 0, entries: 0 };
    account.balance += delta;
    account.entries += 1;
    accounts.set(id, account);
    return account;
  };
  let last: { at: number; id: string } | undefined;
  for (;;) {
    let query = db.selectFrom('transfers').select(['id', 'debit_account', 'credit_account', 'amount', 'created_at']);
    if (last) {
      const { at, id } = last;
      query = query.where((eb) => eb.or([eb('created_at', '>', at), eb.and([eb('created_at', '=', at), eb('id', '>', id)])]));
    }
    const rows: { id: string; debit_account: string; credit_account: string; amount: number | string; created_at: number | string }[] = await query
      .orderBy('created_at')
      .orderBy('id')
      .limit(PAGE)
      .execute();
    for (const row of rows) {
      const amount = Number(row.amount);
      const debit = side(row.debit_account, -amount);
      const credit = side(row.credit_account, amount);
      await db
        .updateTable('transfers')
        .set({ debit_entry: debit.entries, debit_balance_after: debit.balance, credit_entry: credit.entries, credit_balance_after: credit.balance })
        .where('id', '=', row.id)
        .execute();
      last = { at: Number(row.created_at), id: row.id };
    }
    if (rows.length < PAGE) break;
  }
  for (const [id, { entries }] of accounts) {
    await db.updateTable('accounts').set({ entries }).where('id', '=', id).execute();
  }

  // A wallet's movements are numbered 1..entries without gaps, so a page is a range of this index.
  await db.schema.createIndex('transfers_debit_entry').on('transfers').columns(['debit_account', 'debit_entry']).unique().execute();
  await db.schema.createIndex('transfers_credit_entry').on('transfers').columns(['credit_account', 'credit_entry']).unique().execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('transfers_credit_entry').execute();
  await db.schema.dropIndex('transfers_debit_entry').execute();
  for (const column of ['credit_balance_after', 'credit_entry', 'debit_balance_after', 'debit_entry']) {
    await db.schema.alterTable('transfers').dropColumn(column).execute();
  }
  await db.schema.alterTable('accounts').dropColumn('entries').execute();
}
