/**
 * The ledger under concurrent requests over HTTP: no overdraft, no double charge, no double credit. The
 * server runs without agents (SEED_AGENTS=false) so every task stays PENDING with its escrow held, and
 * the counts below cannot be blurred by tasks completing mid-test.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './harness.ts';
import { describeEachDialect } from './test-database.ts';
import { countRows, expectLedgerInvariants, localIdOf } from './ledger-db.ts';

const ME = `query { me { balance escrowed } }`;
const CREATE = `mutation ($input: CreateTaskInput!) {
  createTask(input: $input) {
    __typename
    ... on Task { id status maxPrice }
    ... on InsufficientFundsError { message required available }
    ... on Error { message }
  }
}`;
const CREDIT = `mutation ($input: CreditAccountInput!) {
  creditAccount(input: $input) {
    __typename
    ... on User { id balance }
    ... on ValidationError { message issues { path message } }
    ... on Error { message }
  }
}`;
const TASKS = `query { tasks(first: 100) { totalCount edges { node { id status } } } }`;

describeEachDialect('ledger concurrency', (dialect) => {
  let server: TestServer;
  let admin: string;

  beforeAll(async () => {
    server = await startServer({ SEED_AGENTS: 'false' }, { dialect });
    admin = await server.adminToken();
  });
  afterAll(async () => {
    await server?.stop();
  });
  afterEach(async () => {
    await expectLedgerInvariants(server.databaseUrl);
  });

  async function me(token: string): Promise<{ balance: number; escrowed: number }> {
    return (await server.gql(ME, {}, token)).data?.me;
  }

  describe('the ledger under concurrency', () => {
    it('50 concurrent createTask against funds for exactly 10 give 10 tasks and 40 InsufficientFundsError', async () => {
      const maxPrice = 50_000;
      const buyer = await server.signUp('BUYER');
      await server.credit(buyer.id, 10 * maxPrice);

      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          server.gql(CREATE, { input: { title: `Task ${i}`, prompt: `Concurrent task number ${i}`, complexity: 1, maxPrice } }, buyer.token),
        ),
      );
      for (const res of results) expect(res.errors).toBeUndefined();
      const payloads = results.map((r) => r.data?.createTask);
      const created = payloads.filter((p) => p.__typename === 'Task');
      const refused = payloads.filter((p) => p.__typename === 'InsufficientFundsError');
      expect(created).toHaveLength(10);
      expect(refused).toHaveLength(40);
      expect(new Set(created.map((t) => t.id)).size).toBe(10);
      for (const task of created) expect(task).toMatchObject({ status: 'PENDING', maxPrice });
      // Every refusal came once the balance was spent: it asked for maxPrice and found nothing left.
      for (const error of refused) expect(error).toMatchObject({ required: maxPrice, available: 0 });

      expect(await me(buyer.token)).toEqual({ balance: 0, escrowed: 10 * maxPrice });
      const buyerId = localIdOf(buyer.id);
      expect(await countRows(server.databaseUrl, 'tasks', 'buyer_id = ?', buyerId)).toBe(10);
      expect(await countRows(server.databaseUrl, 'transfers', "kind = 'escrow' AND debit_account = ?", `user:${buyerId}`)).toBe(10);
      const listed = (await server.gql(TASKS, {}, buyer.token)).data?.tasks;
      expect(listed.totalCount).toBe(10);
      expect(new Set((listed.edges as { node: { id: string } }[]).map((e) => e.node.id))).toEqual(new Set(created.map((t) => t.id)));
    });

    it('20 concurrent createTask with one idempotencyKey give one task and one charge', async () => {
      const maxPrice = 100_000;
      const buyer = await server.signUp('BUYER');
      await server.credit(buyer.id, 1_000_000);
      const input = { title: 'Once', prompt: 'Do this exactly once', complexity: 2, maxPrice, idempotencyKey: 'order-42' };

      const results = await Promise.all(Array.from({ length: 20 }, () => server.gql(CREATE, { input }, buyer.token)));
      const payloads = results.map((r) => r.data?.createTask);
      for (const p of payloads) expect(p).toMatchObject({ __typename: 'Task', status: 'PENDING', maxPrice });
      const ids = new Set(payloads.map((p) => p.id));
      expect(ids.size).toBe(1);

      expect(await me(buyer.token)).toEqual({ balance: 1_000_000 - maxPrice, escrowed: maxPrice });
      const buyerId = localIdOf(buyer.id);
      expect(await countRows(server.databaseUrl, 'tasks', 'buyer_id = ?', buyerId)).toBe(1);
      expect(await countRows(server.databaseUrl, 'transfers', "kind = 'escrow' AND debit_account = ?", `user:${buyerId}`)).toBe(1);

      // Later repeats, even with other content, still return the first task and charge nothing.
      const repeat = await server.gql(CREATE, { input: { ...input, maxPrice: 5, title: 'Changed' } }, buyer.token);
      expect(repeat.data?.createTask).toMatchObject({ __typename: 'Task', id: [...ids][0], maxPrice });
      expect(await me(buyer.token)).toEqual({ balance: 1_000_000 - maxPrice, escrowed: maxPrice });

      // The key belongs to one buyer: another buyer's same key is another task.
      const other = await server.signUp('BUYER');
      await server.credit(other.id, maxPrice);
      const theirs = await server.gql(CREATE, { input }, other.token);
      expect(theirs.data?.createTask).toMatchObject({ __typename: 'Task' });
      expect(theirs.data?.createTask.id).not.toBe([...ids][0]);
      expect(await me(other.token)).toEqual({ balance: 0, escrowed: maxPrice });
    });

    it('a repeated creditAccount reference credits once, even when the repeats race', async () => {
      const buyer = await server.signUp('BUYER');
      const input = { userId: buyer.id, amount: 12_345, reference: `deposit-${Date.now()}` };

      const results = await Promise.all(Array.from({ length: 10 }, () => server.gql(CREDIT, { input }, admin)));
      for (const res of results) expect(res.data?.creditAccount).toMatchObject({ __typename: 'User', id: buyer.id });
      expect(await me(buyer.token)).toEqual({ balance: 12_345, escrowed: 0 });
      expect(await countRows(server.databaseUrl, 'transfers', 'id = ?', `credit:${input.reference}`)).toBe(1);

      const again = await server.gql(CREDIT, { input }, admin);
      expect(again.data?.creditAccount).toMatchObject({ __typename: 'User', balance: 12_345 });
      expect(await me(buyer.token)).toEqual({ balance: 12_345, escrowed: 0 });
    });

    it('the same reference with another amount or another user is a ValidationError and credits nothing', async () => {
      const buyer = await server.signUp('BUYER');
      const other = await server.signUp('BUYER');
      const reference = `wire-${Date.now()}`;
      await server.credit(buyer.id, 1_000, reference);

      const otherAmount = await server.gql(CREDIT, { input: { userId: buyer.id, amount: 2_000, reference } }, admin);
      expect(otherAmount.data?.creditAccount).toMatchObject({ __typename: 'ValidationError', issues: [{ path: ['input', 'reference'] }] });
      const otherUser = await server.gql(CREDIT, { input: { userId: other.id, amount: 1_000, reference } }, admin);
      expect(otherUser.data?.creditAccount).toMatchObject({ __typename: 'ValidationError', issues: [{ path: ['input', 'reference'] }] });

      expect(await me(buyer.token)).toEqual({ balance: 1_000, escrowed: 0 });
      expect(await me(other.token)).toEqual({ balance: 0, escrowed: 0 });
      expect(await countRows(server.databaseUrl, 'transfers', 'id = ?', `credit:${reference}`)).toBe(1);
    });

    it('concurrent credits and task creations for one buyer never lose or invent a satoshi', async () => {
      const maxPrice = 10_000;
      const buyer = await server.signUp('BUYER');
      await server.credit(buyer.id, 5 * maxPrice);
      const stamp = Date.now();
      const credits = Array.from({ length: 10 }, (_, i) => server.gql(CREDIT, { input: { userId: buyer.id, amount: maxPrice, reference: `mix-${stamp}-${i}` } }, admin));
      const tasks = Array.from({ length: 30 }, (_, i) => server.gql(CREATE, { input: { title: `Mix ${i}`, prompt: 'Interleaved', complexity: 1, maxPrice } }, buyer.token));
      const [creditResults, taskResults] = await Promise.all([Promise.all(credits), Promise.all(tasks)]);

      for (const res of creditResults) expect(res.data?.creditAccount.__typename).toBe('User');
      const made = taskResults.filter((r) => r.data?.createTask.__typename === 'Task').length;
      const refused = taskResults.filter((r) => r.data?.createTask.__typename === 'InsufficientFundsError').length;
      expect(made + refused).toBe(30);
      // 15 tasks' worth of funds arrived in all; however the requests interleaved, what was not spent is left.
      expect(made).toBeLessThanOrEqual(15);
      expect(await me(buyer.token)).toEqual({ balance: (15 - made) * maxPrice, escrowed: made * maxPrice });
      expect(await countRows(server.databaseUrl, 'tasks', 'buyer_id = ?', localIdOf(buyer.id))).toBe(made);
    });
  });
});
