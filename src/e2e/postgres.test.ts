/**
 * The same marketplace on PostgreSQL: every query the market layer writes must run there too. A fresh
 * database per run on the local server (see test-services.ts: skipped without one, failing in CI).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer, waitFor } from './harness.ts';
import { freshPostgresDatabase } from './test-services.ts';

const database = await freshPostgresDatabase();

describe.skipIf(!database)('PostgreSQL dialect', () => {
  let server: TestServer;
  const url = database?.url ?? '';

  beforeAll(async () => {
    server = await startServer({ DATABASE_URL: url });
  });

  afterAll(async () => {
    await server?.stop();
    await database?.drop();
  });

  it('runs tasks to completion, never overdraws under concurrency, and keeps the ledger balanced', async () => {
    const buyer = await server.signUp('BUYER');
    await server.credit(buyer.id, 1_000_000);
    const create = (i: number) =>
      server.gql(
        `mutation ($input: CreateTaskInput!) { createTask(input: $input) { __typename } }`,
        { input: { title: `pg ${i}`, prompt: 'Say hello', maxPrice: 100_000, complexity: 10, skills: ['nobody-has-this'] } },
        buyer.token,
      );
    // Ten fit the balance; the skill keeps them PENDING so the balance is what decides.
    const results = await Promise.all(Array.from({ length: 25 }, (_, i) => create(i)));
    const kinds = results.map((r) => r.data?.createTask?.__typename);
    expect(kinds.filter((k) => k === 'Task')).toHaveLength(10);
    expect(kinds.filter((k) => k === 'InsufficientFundsError')).toHaveLength(15);

    const done = await server.gql(
      `mutation { createTask(input: { title: "real", prompt: "Say hi", maxPrice: 0 }) { __typename ... on ValidationError { issues { path } } } }`,
      {},
      buyer.token,
    );
    expect(done.data?.createTask?.__typename).toBe('ValidationError');

    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      // Cancel all ten: every escrow goes back.
      const ids = (await server.gql(`{ tasks(first: 50) { edges { node { id } } } }`, {}, buyer.token)).data?.tasks.edges.map((e: { node: { id: string } }) => e.node.id);
      for (const id of ids) {
        const res = await server.gql(`mutation ($id: ID!) { cancelTask(id: $id) { __typename } }`, { id }, buyer.token);
        expect(res.data?.cancelTask?.__typename).toBe('Task');
      }
      await server.credit(buyer.id, 500_000);
      const task = await server.gql(
        `mutation { createTask(input: { title: "real", prompt: "Say hi", maxPrice: 500000 }) { ... on Task { id } } }`,
        {},
        buyer.token,
      );
      const id = task.data?.createTask?.id as string;
      const final = await waitFor(async () => {
        const r = await server.gql(`query ($id: ID!) { task(id: $id) { status price } me { balance escrowed } }`, { id }, buyer.token);
        return r.data?.task?.status === 'COMPLETED' ? r.data : undefined;
      });
      expect(final.me).toEqual({ balance: 1_500_000 - final.task.price, escrowed: 0 });

      const sums = await client.query<{ total: string; negative: string }>(
        `SELECT SUM(balance) AS total, COUNT(*) FILTER (WHERE balance < 0 AND id <> 'world') AS negative FROM accounts`,
      );
      expect(Number(sums.rows[0]?.total)).toBe(0);
      expect(Number(sums.rows[0]?.negative)).toBe(0);
    } finally {
      await client.end();
    }
  });

  it("keeps each wallet's history gapless and its balanceAfter equal to the balance, after the concurrent run above", async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      // Every account: movements numbered 1..entries on each side together, the newest carrying the balance.
      const { rows } = await client.query<{ id: string; balance: string; entries: string; moves: string; top: string | null; last_after: string | null }>(
        `WITH sides AS (
           SELECT debit_account AS account, debit_entry AS entry, debit_balance_after AS after FROM transfers
           UNION ALL SELECT credit_account, credit_entry, credit_balance_after FROM transfers)
         SELECT a.id, a.balance, a.entries, COUNT(s.entry) AS moves, MAX(s.entry) AS top,
                (SELECT after FROM sides l WHERE l.account = a.id ORDER BY entry DESC LIMIT 1) AS last_after
           FROM accounts a LEFT JOIN sides s ON s.account = a.id GROUP BY a.id, a.balance, a.entries`,
      );
      const wrong = rows.filter(
        (r) => Number(r.moves) !== Number(r.entries) || Number(r.top ?? 0) !== Number(r.entries) || (Number(r.entries) > 0 && Number(r.last_after) !== Number(r.balance)),
      );
      expect(wrong).toEqual([]);
      expect(rows.length).toBeGreaterThan(10);
    } finally {
      await client.end();
    }
  });
});
