/**
 * The review window over real HTTP and WebSocket: a delivered result held in escrow, accepted, sent back
 * for changes (twice, then refused), disputed and resolved at 0, 5,000 and 10,000 bps, and released by
 * silence across a server restart. Exact balances, fee, platform revenue and reputation after each step;
 * the ledger's invariants on the database file itself.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServer, type TestServer } from './harness.ts';
import { accountBalance, expectLedgerInvariants, localIdOf, transfersOf } from './ledger-db.ts';
import { closeAfterEach, subscribeWs } from './live-clients.ts';
import { type AgentView, marketOps } from './market-ops.ts';
import { type ReviewedTask, reviewOps } from './review-ops.ts';
import { describeEachDialect } from './test-database.ts';

const FEE_BPS = 1_000;
const MAX_PRICE = 1_000_000;
const HOUR = 3600;

describeEachDialect('review window', (dialect) => {
  let server: TestServer;
  let admin: string;
  const market = () => marketOps(server.gql);
  const review = () => reviewOps(server.gql);
  const closing = closeAfterEach();

  beforeAll(async () => {
    server = await startServer({ PLATFORM_FEE_BPS: String(FEE_BPS), MAX_CHANGE_REQUESTS: '2' }, { dialect });
    admin = await server.adminToken();
    // One agent does every task, so its reputation and balance can be followed exactly.
    for (const agent of await market().agents()) {
      if (agent.name !== 'agent-1') await market().updateAgent({ id: agent.id, status: 'PAUSED' }, admin);
    }
  });
  afterAll(async () => {
    await server?.stop();
  });

  const agentOne = async (): Promise<AgentView> => {
    const agent = (await market().agents()).find((a) => a.name === 'agent-1');
    if (!agent) throw new Error('agent-1 is not seeded');
    return agent;
  };
  const agentWallet = async (agent: AgentView) => (await accountBalance(server.databaseUrl, `agent:${localIdOf(agent.id, 'Agent')}`)) ?? 0;
  const feeOf = (price: number, shareBps = 10_000) => Math.floor((Math.floor((price * shareBps) / 10_000) * FEE_BPS) / 10_000);

  async function delivered(token: string, reviewWindowSeconds = HOUR): Promise<ReviewedTask> {
    const id = await market().createTask(token, { maxPrice: MAX_PRICE, reviewWindowSeconds, prompt: `Review me ${Math.random()}` });
    await market().waitForTask(token, id, (t) => t.status === 'DELIVERED', 20_000, 'the result to be delivered');
    return review().task(token, id);
  }

  it('holds a delivered result in escrow until the buyer accepts; then pays price - fee to the agent and the fee to the platform', async () => {
    const buyer = await market().fundedBuyer(MAX_PRICE);
    const before = await agentOne();
    const walletBefore = await agentWallet(before);
    const revenueBefore = await review().platformRevenue();
    const events = closing(subscribeWs<{ taskEvents: { kind: string; status: string; task: { id: string } } }>(server, `subscription { taskEvents(afterSequence: 0) { kind status task { id } } }`, {}, buyer.token));

    const task = await delivered(buyer.token);
    expect(task).toMatchObject({ status: 'DELIVERED', fee: null, reviewWindowSeconds: HOUR, changeRequests: [], dispute: null });
    expect(Date.parse(task.reviewDeadline ?? '') - Date.now()).toBeGreaterThan((HOUR - 60) * 1000);
    // Nothing moved yet: the escrow holds maxPrice, the agent is neither paid nor credited.
    expect(await market().wallet(buyer.token)).toEqual({ balance: 0, escrowed: MAX_PRICE });
    expect(await agentWallet(before)).toBe(walletBefore);
    expect(await agentOne()).toMatchObject({ tasksCompleted: before.tasksCompleted, reputation: before.reputation, activeTasks: 0 });

    expect(await review().accept(buyer.token, task.id)).toEqual({ __typename: 'Task', status: 'COMPLETED' });
    const price = task.price ?? 0;
    const fee = feeOf(price);
    const after = await review().task(buyer.token, task.id);
    expect(after).toMatchObject({ status: 'COMPLETED', fee, reviewDeadline: null });
    expect(after.events.map((e) => e.kind)).toEqual(['CREATED', 'ASSIGNED', 'STARTED', 'DELIVERED', 'ACCEPTED']);
    expect(await market().wallet(buyer.token)).toEqual({ balance: MAX_PRICE - price, escrowed: 0 });
    expect(await agentWallet(before)).toBe(walletBefore + price - fee);
    expect(await review().platformRevenue()).toBe(revenueBefore + fee);
    const agent = await agentOne();
    expect(agent.tasksCompleted).toBe(before.tasksCompleted + 1);
    expect(agent.reputation).toBeCloseTo(before.reputation + 0.05, 10);
    // Written in one transaction (one timestamp): compared without regard to order.
    const byKind = (await transfersOf(server.databaseUrl, task.id)).map((t) => [t.kind, t.amount]).sort();
    expect(byKind).toEqual([
      ['escrow', MAX_PRICE],
      ['fee', fee],
      ['payout', price - fee],
      ['refund', MAX_PRICE - price],
    ]);

    // Once only: a second accept is refused and moves nothing.
    expect(await review().accept(buyer.token, task.id)).toMatchObject({ __typename: 'InvalidStateError', status: 'COMPLETED' });
    expect(await agentWallet(before)).toBe(walletBefore + price - fee);
    // The same story reaches the buyer over WebSocket (replayed from the start, then live), with its kinds.
    const mine = await events.until((all) => all.filter((e) => e.taskEvents.task.id === task.id).length === 5, 'five events of the task');
    expect(mine.filter((e) => e.taskEvents.task.id === task.id).map((e) => e.taskEvents.kind)).toEqual(['CREATED', 'ASSIGNED', 'STARTED', 'DELIVERED', 'ACCEPTED']);
    await expectLedgerInvariants(server.databaseUrl);
  });

  it('sends the result back to the same agent at the same price twice, with the feedback; a third request is refused', async () => {
    const buyer = await market().fundedBuyer(MAX_PRICE);
    const first = await delivered(buyer.token);
    for (const [n, feedback] of [[1, 'Shorter, please.'], [2, 'Now in French.']] as const) {
      const answer = await review().requestChanges(buyer.token, first.id, feedback);
      expect(answer).toEqual({ __typename: 'Task', status: 'PROCESSING' });
      await market().waitForTask(buyer.token, first.id, (t) => t.status === 'DELIVERED', 20_000, `rework ${n} to be delivered`);
      const again = await review().task(buyer.token, first.id);
      expect(again).toMatchObject({ status: 'DELIVERED', price: first.price, agent: first.agent });
      expect(again.changeRequests.map((c) => c.feedback)).toEqual(n === 1 ? [feedback] : ['Shorter, please.', feedback]);
      // The offline executor says what it was sent: the earlier answer and the feedback reached the agent.
      expect(again.result).toContain(feedback);
    }
    const third = await review().requestChanges(buyer.token, first.id, 'And once more.');
    expect(third).toMatchObject({ __typename: 'InvalidStateError', status: 'DELIVERED' });
    expect(third.message).toMatch(/at most 2 change requests/i);
    const task = await review().task(buyer.token, first.id);
    expect(task.changeRequests).toHaveLength(2);
    expect(task.events.map((e) => e.kind)).toEqual([
      'CREATED', 'ASSIGNED', 'STARTED', 'DELIVERED', 'CHANGES_REQUESTED', 'DELIVERED', 'CHANGES_REQUESTED', 'DELIVERED',
    ]);
    // Empty feedback is a ValidationError; a stranger does not see the task at all.
    expect(await review().requestChanges(buyer.token, first.id, '  ')).toMatchObject({ __typename: 'ValidationError' });
    const stranger = await market().fundedBuyer(1);
    expect(await review().requestChanges(stranger.token, first.id, 'mine now')).toMatchObject({ __typename: 'NotFoundError' });
    expect(await review().accept(buyer.token, first.id)).toEqual({ __typename: 'Task', status: 'COMPLETED' });
    expect(await market().wallet(buyer.token)).toEqual({ balance: MAX_PRICE - (first.price ?? 0), escrowed: 0 });
    await expectLedgerInvariants(server.databaseUrl);
  });

  for (const shareBps of [0, 5_000, 10_000]) {
    it(`a dispute freezes the escrow; resolved at ${shareBps} bps it pays exactly that share less its fee and refunds the rest`, async () => {
      const buyer = await market().fundedBuyer(MAX_PRICE);
      const task = await delivered(buyer.token);
      expect(await review().openDispute(buyer.token, task.id, 'This is not what I asked for.')).toEqual({ __typename: 'Task', status: 'DISPUTED' });
      const frozen = await review().task(buyer.token, task.id);
      expect(frozen).toMatchObject({ status: 'DISPUTED', reviewDeadline: null, dispute: { reason: 'This is not what I asked for.', agentShareBps: null } });
      expect(await market().wallet(buyer.token)).toEqual({ balance: 0, escrowed: MAX_PRICE });
      // Frozen: the buyer can neither accept nor ask for changes, and only an admin resolves it.
      expect(await review().accept(buyer.token, task.id)).toMatchObject({ __typename: 'InvalidStateError', status: 'DISPUTED' });
      expect(await review().resolveDispute(buyer.token, task.id, 10_000, 'I decide')).toEqual({ __typename: 'GraphQLError', message: 'FORBIDDEN' });
      expect(await review().resolveDispute(admin, task.id, 10_001, 'too much')).toMatchObject({ __typename: 'ValidationError' });

      const before = await agentOne();
      const walletBefore = await agentWallet(before);
      const revenueBefore = await review().platformRevenue();
      const resolved = await review().resolveDispute(admin, task.id, shareBps, `Split at ${shareBps}`);
      expect(resolved).toEqual({ __typename: 'Task', status: shareBps > 0 ? 'COMPLETED' : 'FAILED' });

      const price = task.price ?? 0;
      const share = Math.floor((price * shareBps) / 10_000);
      const fee = feeOf(price, shareBps);
      expect(await market().wallet(buyer.token)).toEqual({ balance: MAX_PRICE - share, escrowed: 0 });
      expect(await agentWallet(before)).toBe(walletBefore + share - fee);
      expect(await review().platformRevenue()).toBe(revenueBefore + fee);
      const after = await review().task(buyer.token, task.id);
      expect(after).toMatchObject({ fee, dispute: { agentShareBps: shareBps, resolutionNote: `Split at ${shareBps}` } });
      expect(after.events.at(-1)?.kind).toBe('DISPUTE_RESOLVED');
      const agent = await agentOne();
      if (shareBps >= 5_000) {
        expect(agent).toMatchObject({ tasksCompleted: before.tasksCompleted + 1, tasksFailed: before.tasksFailed, earnings: before.earnings + share - fee });
        expect(agent.reputation).toBeCloseTo(Math.min(3, before.reputation + 0.05), 10);
      } else {
        expect(agent).toMatchObject({ tasksCompleted: before.tasksCompleted, tasksFailed: before.tasksFailed + 1, earnings: before.earnings });
        expect(agent.reputation).toBeCloseTo(Math.max(0.5, before.reputation - 0.1), 10);
      }
      expect(await review().resolveDispute(admin, task.id, shareBps, 'again')).toMatchObject({ __typename: 'InvalidStateError' });
      await expectLedgerInvariants(server.databaseUrl);
    });
  }

  it('pays the agent when the window ends in silence, even with the server restarted during it', async () => {
    const buyer = await market().fundedBuyer(MAX_PRICE);
    const before = await agentOne();
    const walletBefore = await agentWallet(before);
    const task = await delivered(buyer.token, 2);
    const deadline = Date.parse(task.reviewDeadline ?? '');
    // Down across the deadline: only the durable deadline, swept by the next start, can pay now.
    await server.restart({ TASK_LEASE_SECONDS: '1' });
    const finished = await market().waitForTask(buyer.token, task.id, (t) => t.status === 'COMPLETED', 20_000, 'the auto-release');
    expect(Date.now()).toBeGreaterThanOrEqual(deadline);
    const price = finished.price ?? 0;
    const after = await review().task(buyer.token, task.id);
    expect(after.events.map((e) => e.kind).slice(-2)).toEqual(['DELIVERED', 'AUTO_RELEASED']);
    expect(after.fee).toBe(feeOf(price));
    expect(await market().wallet(buyer.token)).toEqual({ balance: MAX_PRICE - price, escrowed: 0 });
    expect(await agentWallet(before)).toBe(walletBefore + price - feeOf(price));
    expect((await agentOne()).tasksCompleted).toBe(before.tasksCompleted + 1);
    await expectLedgerInvariants(server.databaseUrl);
  });
});
