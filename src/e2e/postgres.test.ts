/**
 * Money under concurrency and a task run to completion, on every dialect (this file was the first to run
 * on PostgreSQL, before the whole suite did: see test-database.ts): every query the market layer writes
 * must run on both, and the books must balance on both (expectLedgerInvariants: sums, escrows, and every
 * wallet's history gapless with its balanceAfter replaying its transfers).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServer, type TestServer, waitFor } from './harness.ts';
import { expectLedgerInvariants } from './ledger-db.ts';
import { describeEachDialect } from './test-database.ts';

describeEachDialect('concurrent escrow and a completed task', (dialect) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer({}, { dialect });
  });

  afterAll(async () => {
    await server?.stop();
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

    await expectLedgerInvariants(server.databaseUrl);
  });
});
