/**
 * The ledger seen from each wallet (User.transfers, Agent.transfers, node(id) of a Transfer) and the live
 * wallet (accountUpdated over WebSocket), on the real server. Money moves through every kind the market
 * has today: credits, escrows, payouts and refunds (completion, failure, cancel). Each history must replay
 * to the balance the API and the database report, and nobody else may see it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './harness.ts';
import { describeEachDialect } from './test-database.ts';
import { accountBalance, expectLedgerInvariants, localIdOf } from './ledger-db.ts';
import { closeAfterEach, type LiveStream, listenForAssignments, subscribeWs } from './live-clients.ts';
import { type MarketOps, marketOps } from './market-ops.ts';

type Movement = { id: string; kind: string; amount: number; balanceAfter: number; task: { id: string } | null };
type History = { totalCount: number; pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string | null }; edges: { cursor: string; node: Movement }[] };

const HISTORY = 'totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { id kind amount balanceAfter task { id } } }';
const MY_HISTORY = `query ($first: Int, $after: String) { me { balance escrowed transfers(first: $first, after: $after) { ${HISTORY} } } }`;
const AGENT_HISTORY = `query ($id: ID!) { agent(id: $id) { balance transfers(first: 100) { ${HISTORY} } } }`;
const ACCOUNT_UPDATED = `subscription { accountUpdated { id balance escrowed } }`;

describeEachDialect('wallet', (dialect) => {
  let server: TestServer;
  let ops: MarketOps;
  let buyer: { token: string; id: string };
  let stranger: { token: string; id: string };
  let operator: { token: string; id: string };
  let otherOperator: { token: string; id: string };
  let agentId: string;
  let assignments: LiveStream<unknown> | undefined;
  const track = closeAfterEach();

  beforeAll(async () => {
    server = await startServer({ SEED_AGENTS: 'false' }, { dialect });
    ops = marketOps(server.gql);
    [buyer, stranger, operator, otherOperator] = await Promise.all([ops.signUp('BUYER'), ops.signUp('BUYER'), ops.signUp('AGENT'), ops.signUp('AGENT')]);
    // EXTERNAL: tasks wait in PROCESSING until the operator answers, so each movement is the test's doing.
    agentId = (await ops.registerAgent(operator.token, { name: `wallet-agent-${Date.now()}`, mode: 'EXTERNAL', skills: ['ledger'], askPerUnit: 1_000 })).id;
    // Its program listens for work (here, this test): only a connected EXTERNAL agent is offered tasks.
    assignments = listenForAssignments(server, agentId, operator.token);
  });
  afterAll(async () => {
    await assignments?.close();
    await server?.stop();
  });

  /** Post a task the agent takes at 1,000 sat, and wait until it is PROCESSING with it. */
  async function taskInProgress(maxPrice: number): Promise<string> {
    const id = await ops.createTask(buyer.token, { title: 'Ledger work', skills: ['ledger'], maxPrice });
    await ops.waitForTask(buyer.token, id, (t) => t.status === 'PROCESSING', 15_000, 'assignment');
    return id;
  }

  /** Each movement's balanceAfter is the one before it (older, next in the list) plus its amount; the newest is the balance. */
  function expectReplays(history: History, balance: number): void {
    const nodes = history.edges.map((e) => e.node);
    expect(nodes[0]?.balanceAfter, 'the newest balanceAfter is the balance').toBe(balance);
    for (let i = 0; i < nodes.length; i++) {
      const older = nodes[i + 1]?.balanceAfter ?? 0;
      expect(nodes[i]?.balanceAfter, `movement ${i} (${nodes[i]?.kind})`).toBe(older + (nodes[i]?.amount ?? 0));
    }
  }

  describe('wallet history', () => {
    it("a buyer's credits, escrows, refunds and an agent's payout, newest first, each with the balance after it", async () => {
      await ops.credit(buyer.id, 50_000);
      await ops.credit(buyer.id, 7_000);
      const completed = await taskInProgress(10_000);
      expect((await ops.submitResult(operator.token, completed, { result: 'done' })).status).toBe('COMPLETED');
      const failed = await taskInProgress(4_000);
      expect((await ops.submitResult(operator.token, failed, { error: 'could not' })).status).toBe('FAILED');
      // No agent has this skill: it stays PENDING, and is cancelled.
      const cancelled = await ops.createTask(buyer.token, { title: 'Nobody fits', skills: ['nobody'], maxPrice: 3_000 });
      const cancel = await server.gql(`mutation ($id: ID!) { cancelTask(id: $id) { __typename } }`, { id: cancelled }, buyer.token);
      expect(cancel.data?.cancelTask.__typename).toBe('Task');
      const open = await taskInProgress(2_000);

      const me = (await server.gql(MY_HISTORY, { first: 100 }, buyer.token)).data?.me as { balance: number; escrowed: number; transfers: History };
      const seen = me.transfers.edges.map((e) => [e.node.kind, e.node.amount, e.node.task?.id ?? null]);
      expect(seen).toEqual([
        ['ESCROW', -2_000, open],
        ['REFUND', 3_000, cancelled],
        ['ESCROW', -3_000, cancelled],
        ['REFUND', 4_000, failed],
        ['ESCROW', -4_000, failed],
        ['REFUND', 9_000, completed],
        ['ESCROW', -10_000, completed],
        ['CREDIT', 7_000, null],
        ['CREDIT', 50_000, null],
      ]);
      expect(me.balance).toBe(50_000 + 7_000 - 1_000 - 2_000);
      expect(me.escrowed).toBe(2_000);
      expect(me.balance).toBe(await accountBalance(server.databaseUrl, `user:${localIdOf(buyer.id, 'User')}`));
      expect(me.transfers.totalCount).toBe(9);
      expect(me.transfers.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: false });
      expectReplays(me.transfers, me.balance);

      const agent = (await server.gql(AGENT_HISTORY, { id: agentId }, operator.token)).data?.agent as { balance: number; transfers: History };
      expect(agent.transfers.edges.map((e) => [e.node.kind, e.node.amount, e.node.balanceAfter, e.node.task?.id])).toEqual([['PAYOUT', 1_000, 1_000, completed]]);
      expect(agent.balance).toBe(1_000);
      await expectLedgerInvariants(server.databaseUrl);
    });

    it('pages newest first with first/after, without gaps or repeats', async () => {
      const all = ((await server.gql(MY_HISTORY, { first: 100 }, buyer.token)).data?.me.transfers as History).edges.map((e) => e.node.id);
      const paged: string[] = [];
      let after: string | null = null;
      for (let page = 0; page < 10; page++) {
        const history: History = (await server.gql(MY_HISTORY, { first: 4, after }, buyer.token)).data?.me.transfers;
        paged.push(...history.edges.map((e) => e.node.id));
        expect(history.pageInfo.hasPreviousPage).toBe(after !== null);
        if (!history.pageInfo.hasNextPage) break;
        after = history.pageInfo.endCursor;
      }
      expect(paged).toEqual(all);
      expect(new Set(all).size).toBe(all.length);
    });

    it('bad paging arguments are a clear error', async () => {
      for (const variables of [{ first: -1 }, { first: 1_000 }, { after: 'not-a-cursor' }]) {
        const res = await server.gql(MY_HISTORY, variables, buyer.token);
        expect(res.errors?.[0]?.extensions?.code, JSON.stringify(res)).toBe('BAD_USER_INPUT');
      }
    });

    it('others see an empty list; the owner, the operator and admins see it all', async () => {
      const anyTask = ((await server.gql(MY_HISTORY, { first: 1 }, buyer.token)).data?.me.transfers as History).edges[0]?.node.task?.id;
      // Through the task, the operator reaches the buyer, but not the buyer's wallet.
      const viaTask = await server.gql(`query ($id: ID!) { task(id: $id) { buyer { transfers { totalCount edges { cursor } } } } }`, { id: anyTask }, operator.token);
      expect(viaTask.data?.task.buyer.transfers).toEqual({ totalCount: 0, edges: [] });

      for (const token of [stranger.token, otherOperator.token, buyer.token, undefined]) {
        const res = await server.gql(AGENT_HISTORY, { id: agentId }, token);
        expect(res.data?.agent.transfers).toMatchObject({ totalCount: 0, edges: [] });
      }
      const admin = await server.adminToken();
      expect((await server.gql(AGENT_HISTORY, { id: agentId }, admin)).data?.agent.transfers.totalCount).toBe(1);
      const asAdmin = await server.gql(`query ($id: ID!) { node(id: $id) { ... on User { transfers { totalCount } } } }`, { id: buyer.id }, admin);
      expect(asAdmin.data?.node.transfers.totalCount).toBeGreaterThan(0);

      // node(id) of one movement: its owner sees it, nobody else.
      const movement = ((await server.gql(MY_HISTORY, { first: 1 }, buyer.token)).data?.me.transfers as History).edges[0]?.node;
      const NODE = `query ($id: ID!) { node(id: $id) { __typename ... on Transfer { id kind amount balanceAfter } } }`;
      expect((await server.gql(NODE, { id: movement?.id }, buyer.token)).data?.node).toEqual({ __typename: 'Transfer', id: movement?.id, kind: movement?.kind, amount: movement?.amount, balanceAfter: movement?.balanceAfter });
      for (const token of [stranger.token, operator.token, undefined]) {
        expect((await server.gql(NODE, { id: movement?.id }, token)).data?.node).toBeNull();
      }
    });
  });

  describe('accountUpdated', () => {
    it("sends the user now, then each change of balance or escrow: a credit, a task's escrow, its payout; a stranger hears nothing", async () => {
      const listener = await ops.signUp('BUYER');
      const mine = track(subscribeWs<{ accountUpdated: { id: string; balance: number; escrowed: number } }>(server, ACCOUNT_UPDATED, {}, listener.token));
      const theirs = track(subscribeWs<{ accountUpdated: { id: string; balance: number } }>(server, ACCOUNT_UPDATED, {}, stranger.token));
      await mine.until((d) => d.length >= 1, 'the first state');
      await theirs.until((d) => d.length >= 1, "the stranger's first state");
      expect(mine.data[0]?.accountUpdated).toEqual({ id: listener.id, balance: 0, escrowed: 0 });
      const strangerBefore = theirs.data.length;

      const states = () => mine.data.map((d) => [d.accountUpdated.balance, d.accountUpdated.escrowed]);
      const seen = (balance: number, escrowed: number) => states().some(([b, e]) => b === balance && e === escrowed);

      await ops.credit(listener.id, 20_000);
      await mine.until(() => seen(20_000, 0), 'the credit');

      const taskId = await ops.createTask(listener.token, { title: 'Live wallet', skills: ['ledger'], maxPrice: 5_000 });
      await mine.until(() => seen(15_000, 5_000), 'the escrow');
      // The price follows the agent's reputation, which the tests above moved.
      const { price } = await ops.waitForTask(listener.token, taskId, (t) => t.status === 'PROCESSING', 15_000, 'assignment');
      expect((await ops.submitResult(operator.token, taskId, { result: 'live' })).status).toBe('COMPLETED');
      await mine.until(() => seen(20_000 - (price ?? Number.NaN), 0), 'the payout and refund');

      // Every update is the listener's own account, and the stranger's stream stayed where it was.
      expect(mine.data.every((d) => d.accountUpdated.id === listener.id)).toBe(true);
      expect(theirs.data.length).toBe(strangerBefore);
    });

    it("an operator hears when their agent is paid", async () => {
      const before = track(subscribeWs<{ accountUpdated: { id: string } }>(server, ACCOUNT_UPDATED, {}, operator.token));
      await before.until((d) => d.length >= 1, 'the first state');
      const taskId = await taskInProgress(5_000);
      await ops.submitResult(operator.token, taskId, { result: 'paid' });
      await before.until((d) => d.length >= 2, "the agent's payout");
      expect(before.data.every((d) => d.accountUpdated.id === operator.id)).toBe(true);
    });

    it('anonymous: UNAUTHENTICATED', async () => {
      const stream = track(subscribeWs(server, ACCOUNT_UPDATED));
      await stream.ending();
      expect(stream.errorCodes).toEqual(['UNAUTHENTICATED']);
    });
  });
});
