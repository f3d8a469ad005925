/**
 * The review window with an EXTERNAL agent: its operator answers over `submitTaskResult`, the buyer asks
 * for changes, and the same task comes back to the same listener as a new attempt (a new lease) carrying
 * the feedback and the earlier answer; the reworked answer is delivered again and paid once, at the price
 * agreed the first time. Also: an answer from the first attempt, sent again after the rework began, is
 * refused and moves nothing.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServer, type TestServer } from './harness.ts';
import { expectLedgerInvariants, transfersOf } from './ledger-db.ts';
import { closeAfterEach, subscribeWs } from './live-clients.ts';
import { marketOps, type MarketOps } from './market-ops.ts';
import { reviewOps } from './review-ops.ts';
import { describeEachDialect } from './test-database.ts';

const ASSIGNMENTS = `subscription ($agentId: ID!) {
  agentAssignments(agentId: $agentId) { id status price result changeRequests { feedback } }
}`;

interface Assignment {
  agentAssignments: { id: string; status: string; price: number | null; result: string | null; changeRequests: { feedback: string }[] };
}

const track = closeAfterEach();

describeEachDialect('external agent under review', (dialect) => {
  let server: TestServer;
  let market: MarketOps;
  beforeAll(async () => {
    server = await startServer({ SEED_AGENTS: 'false', TASK_LEASE_SECONDS: '120', REVIEW_WINDOW_SECONDS: '3600' }, { dialect });
    market = marketOps(server.gql);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('a change request sends the task back to the same listener with the feedback; the rework is delivered and paid once', async () => {
    const operator = await server.signUp('AGENT');
    const buyer = await market.fundedBuyer(1_000_000);
    const review = reviewOps(server.gql);
    const agentId = (await market.registerAgent(operator.token, { name: 'ext-rework', mode: 'EXTERNAL', skills: ['rework'] })).id;
    const stream = track(subscribeWs<Assignment>(server, ASSIGNMENTS, { agentId }, operator.token));
    const taskId = await market.createTask(buyer.token, { skills: ['rework'], maxPrice: 300_000 });

    const [first] = await stream.until((data) => data.length >= 1, 'the first assignment');
    expect(first?.agentAssignments).toEqual({ id: taskId, status: 'PROCESSING', price: 100_000, result: null, changeRequests: [] });
    expect(await market.submitResult(operator.token, taskId, { result: 'draft one' })).toMatchObject({ __typename: 'Task', status: 'DELIVERED' });
    // Held for review: nothing paid yet, the whole maxPrice still in escrow.
    expect(await market.wallet(buyer.token)).toEqual({ balance: 700_000, escrowed: 300_000 });

    expect(await review.requestChanges(buyer.token, taskId, 'Cite your sources.')).toEqual({ __typename: 'Task', status: 'PROCESSING' });
    const again = await stream.until((data) => data.length >= 2, 'the rework to be sent to the same listener');
    expect(again[1]?.agentAssignments).toEqual({
      id: taskId,
      status: 'PROCESSING',
      price: 100_000,
      result: 'draft one',
      changeRequests: [{ feedback: 'Cite your sources.' }],
    });

    expect(await market.submitResult(operator.token, taskId, { result: 'draft two, with sources' })).toMatchObject({ __typename: 'Task', status: 'DELIVERED' });
    // The first attempt's answer, sent again now, finds no attempt under review to answer.
    expect(await market.submitResult(operator.token, taskId, { result: 'draft one, again' })).toMatchObject({ __typename: 'InvalidStateError', status: 'DELIVERED' });
    expect(await review.accept(buyer.token, taskId)).toEqual({ __typename: 'Task', status: 'COMPLETED' });

    const task = await review.task(buyer.token, taskId);
    expect(task).toMatchObject({ status: 'COMPLETED', result: 'draft two, with sources', price: 100_000, fee: 0 });
    expect(task.events.map((e) => e.kind)).toEqual(['CREATED', 'ASSIGNED', 'STARTED', 'DELIVERED', 'CHANGES_REQUESTED', 'DELIVERED', 'ACCEPTED']);
    expect(await market.wallet(buyer.token)).toEqual({ balance: 900_000, escrowed: 0 });
    expect(await market.readAgent(agentId)).toMatchObject({ balance: 100_000, earnings: 100_000, tasksCompleted: 1, tasksFailed: 0, activeTasks: 0 });
    expect((await transfersOf(server.databaseUrl, taskId)).map((t) => t.kind).sort()).toEqual(['escrow', 'payout', 'refund']);
    await expectLedgerInvariants(server.databaseUrl);
  });
});
