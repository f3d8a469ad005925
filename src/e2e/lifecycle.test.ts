/**
 * A task's whole life over HTTP, as a buyer and the marketplace see it: sign up, funds, quote, create
 * (escrow), assigned, processing, completed (payout and refund of the difference), with exact balances
 * after each step and the ledger's invariants checked on the database file itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer, waitFor } from './harness.ts';
import { describeEachDialect } from './test-database.ts';
import { accountBalance, expectLedgerInvariants, localIdOf } from './ledger-db.ts';
import type { AgentView } from './market-ops.ts';

const ME = `query { me { id balance escrowed } }`;
const AGENTS = `query { agents(first: 10) { edges { node { id name status reputation successRate tasksCompleted tasksFailed earnings balance maxConcurrency activeTasks } } } }`;
const SET_STATUS = `mutation ($input: UpdateAgentInput!) { updateAgent(input: $input) { __typename ... on Agent { status } ... on Error { message } } }`;
const QUOTE = `query ($input: QuoteInput!) { quote(input: $input) { complexity price agent { name } } }`;
const CREATE = `mutation ($input: CreateTaskInput!) {
  createTask(input: $input) {
    __typename
    ... on Task { id status complexity maxPrice price agent { name } }
    ... on Error { message }
  }
}`;
const TASK = `query ($id: ID!) {
  task(id: $id) { id status price maxPrice result error attempts completedAt agent { name } events { sequence status message } }
}`;
const CANCEL = `mutation ($id: ID!) {
  cancelTask(id: $id) { __typename ... on Task { status } ... on InvalidStateError { message status } ... on Error { message } }
}`;
const STATS = `query { marketStats { totalTasks totalPaid completionRate tasksByStatus { status count } } }`;

const CREDIT = 1_000_000;

describeEachDialect('lifecycle', (dialect) => {
  let server: TestServer;
  let admin: string;

  beforeAll(async () => {
    server = await startServer({}, { dialect });
    admin = await server.adminToken();
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function agentsByName(): Promise<Map<string, AgentView>> {
    const res = await server.gql(AGENTS, {}, admin);
    const edges = (res.data?.agents.edges ?? []) as { node: AgentView }[];
    return new Map(edges.map((e) => [e.node.name, e.node]));
  }

  async function agentNamed(name: string): Promise<AgentView> {
    const agent = (await agentsByName()).get(name);
    if (!agent) throw new Error(`no agent ${name}`);
    return agent;
  }

  async function setStatus(name: string, status: 'ONLINE' | 'PAUSED'): Promise<void> {
    const { id } = await agentNamed(name);
    const res = await server.gql(SET_STATUS, { input: { id, status } }, admin);
    expect(res.data?.updateAgent).toEqual({ __typename: 'Agent', status });
  }

  async function me(token: string): Promise<{ balance: number; escrowed: number }> {
    const res = await server.gql(ME, {}, token);
    return { balance: res.data?.me.balance, escrowed: res.data?.me.escrowed };
  }

  describe('the lifecycle of a task over HTTP', () => {
    it('moves the money exactly: escrow at creation, the price to the agent and the rest back at completion', async () => {
      const seeded = await agentsByName();
      expect([...seeded.keys()].sort()).toEqual(['agent-1', 'agent-2', 'agent-3']);

      // Only agent-1 (2.00x) may take work, so the quote and the price are the DESIGN.md example.
      await setStatus('agent-2', 'PAUSED');
      await setStatus('agent-3', 'PAUSED');

      const buyer = await server.signUp('BUYER');
      expect(await me(buyer.token)).toEqual({ balance: 0, escrowed: 0 });
      await server.credit(buyer.id, CREDIT);
      expect(await me(buyer.token)).toEqual({ balance: CREDIT, escrowed: 0 });

      const quote = await server.gql(QUOTE, { input: { prompt: 'Say hello to the marketplace', complexity: 1 } }, buyer.token);
      expect(quote.data?.quote).toEqual({ complexity: 1, price: 200_000, agent: { name: 'agent-1' } });

      // Pause agent-1 too, so the task waits in PENDING and the escrow can be seen before it moves on.
      await setStatus('agent-1', 'PAUSED');
      const before = await agentNamed('agent-1');
      const maxPrice = 300_000;
      const created = await server.gql(CREATE, { input: { title: 'Greeting', prompt: 'Say hello to the marketplace', complexity: 1, maxPrice } }, buyer.token);
      const task = created.data?.createTask;
      expect(task).toMatchObject({ __typename: 'Task', status: 'PENDING', complexity: 1, maxPrice, price: null, agent: null });
      const taskId = localIdOf(task.id);

      expect(await me(buyer.token)).toEqual({ balance: CREDIT - maxPrice, escrowed: maxPrice });
      expect(await accountBalance(server.databaseUrl, `escrow:${taskId}`)).toBe(maxPrice);
      await expectLedgerInvariants(server.databaseUrl);

      // agent-1 comes back: the coordinator assigns the task, runs it offline and completes it.
      await setStatus('agent-1', 'ONLINE');
      const done = await waitFor(
        async () => {
          const res = await server.gql(TASK, { id: task.id }, buyer.token);
          const current = res.data?.task;
          return current?.status === 'COMPLETED' || current?.status === 'FAILED' ? current : undefined;
        },
        30_000,
        'the task to finish',
      );
      const price = 200_000;
      expect(done).toMatchObject({ status: 'COMPLETED', price, maxPrice, error: null, attempts: 1, agent: { name: 'agent-1' } });
      expect(done.result).toContain('[offline executor');
      expect(done.completedAt).toEqual(expect.any(String));

      const events = done.events as { sequence: number; status: string; message: string | null }[];
      expect(events.map((e) => e.status)).toEqual(['PENDING', 'ASSIGNED', 'PROCESSING', 'COMPLETED']);
      for (let i = 1; i < events.length; i++) expect(events[i]!.sequence).toBeGreaterThan(events[i - 1]!.sequence);

      // The buyer paid the price, not maxPrice; the escrow is empty; the agent got exactly the price.
      expect(await me(buyer.token)).toEqual({ balance: CREDIT - price, escrowed: 0 });
      expect(await accountBalance(server.databaseUrl, `escrow:${taskId}`)).toBe(0);
      const after = await agentNamed('agent-1');
      expect(after.earnings).toBe(before.earnings + price);
      expect(after.balance).toBe(before.balance + price);
      expect(after.tasksCompleted).toBe(before.tasksCompleted + 1);
      expect(after.tasksFailed).toBe(before.tasksFailed);
      expect(after.reputation).toBeCloseTo(before.reputation + 0.05, 10);
      expect(after.successRate).toBeCloseTo((before.tasksCompleted + 1) / (before.tasksCompleted + 1 + before.tasksFailed), 10);
      expect(after.activeTasks).toBe(0);
      expect(await accountBalance(server.databaseUrl, `agent:${localIdOf(after.id)}`)).toBe(before.balance + price);

      const stats = (await server.gql(STATS)).data?.marketStats;
      expect(stats.totalPaid).toBe(price);
      expect(stats.totalTasks).toBe(1);
      expect(stats.completionRate).toBe(1);
      expect(stats.tasksByStatus).toContainEqual({ status: 'COMPLETED', count: 1 });
      expect(stats.tasksByStatus).toContainEqual({ status: 'PENDING', count: 0 });

      // A completed task cannot be cancelled, and trying moves no money.
      const cancel = await server.gql(CANCEL, { id: task.id }, buyer.token);
      expect(cancel.data?.cancelTask).toMatchObject({ __typename: 'InvalidStateError', status: 'COMPLETED' });
      expect(await me(buyer.token)).toEqual({ balance: CREDIT - price, escrowed: 0 });
      expect((await agentNamed('agent-1')).balance).toBe(after.balance);

      await expectLedgerInvariants(server.databaseUrl);
    });

    it('refunds the whole escrow when the buyer cancels a pending task, once', async () => {
      for (const name of ['agent-1', 'agent-2', 'agent-3']) await setStatus(name, 'PAUSED');
      const buyer = await server.signUp('BUYER');
      await server.credit(buyer.id, CREDIT);
      const paidBefore = (await server.gql(STATS)).data?.marketStats.totalPaid;

      const maxPrice = 250_000;
      const created = await server.gql(CREATE, { input: { title: 'Never mind', prompt: 'Something I will cancel', maxPrice } }, buyer.token);
      const task = created.data?.createTask;
      expect(task).toMatchObject({ __typename: 'Task', status: 'PENDING' });
      expect(await me(buyer.token)).toEqual({ balance: CREDIT - maxPrice, escrowed: maxPrice });

      const cancelled = await server.gql(CANCEL, { id: task.id }, buyer.token);
      expect(cancelled.data?.cancelTask).toEqual({ __typename: 'Task', status: 'CANCELLED' });
      expect(await me(buyer.token)).toEqual({ balance: CREDIT, escrowed: 0 });
      expect(await accountBalance(server.databaseUrl, `escrow:${localIdOf(task.id)}`)).toBe(0);

      const again = await server.gql(CANCEL, { id: task.id }, buyer.token);
      expect(again.data?.cancelTask).toMatchObject({ __typename: 'InvalidStateError', status: 'CANCELLED' });
      expect(await me(buyer.token)).toEqual({ balance: CREDIT, escrowed: 0 });

      // Bringing an agent back does not resurrect it. The queue is served oldest first, so once a newer
      // task has been completed the cancelled one has certainly been passed over.
      await setStatus('agent-1', 'ONLINE');
      const later = (await server.gql(CREATE, { input: { title: 'Later', prompt: 'After the cancel', complexity: 1, maxPrice: 300_000 } }, buyer.token)).data?.createTask;
      const laterDone = await waitFor(
        async () => {
          const current = (await server.gql(TASK, { id: later.id }, buyer.token)).data?.task;
          return current?.status === 'COMPLETED' ? current : undefined;
        },
        30_000,
        'the later task',
      );
      // agent-1 earned +0.05 reputation in the first test: 2.05x now, and the price follows.
      expect(laterDone.price).toBe(205_000);
      const view = (await server.gql(TASK, { id: task.id }, buyer.token)).data?.task;
      expect(view).toMatchObject({ status: 'CANCELLED', price: null, agent: null });
      expect((view.events as { status: string }[]).map((e) => e.status)).toEqual(['PENDING', 'CANCELLED']);
      expect((await server.gql(STATS)).data?.marketStats.totalPaid).toBe(paidBefore + 205_000);
      expect(await me(buyer.token)).toEqual({ balance: CREDIT - 205_000, escrowed: 0 });

      await expectLedgerInvariants(server.databaseUrl);
    });
  });
});
