/**
 * EXTERNAL agents through the whole system: tasks pushed over `agentAssignments` to their operator only,
 * answered with `submitTaskResult` (paid exactly once, or failed and refunded), and silence past the lease
 * handing the task to another agent and counting against the silent one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runExampleAgent } from '../../scripts/example-agent/agent.ts';
import { CANNED_LABEL } from '../../scripts/example-agent/answer.ts';
import { type AgentLogger, silentLogger } from '../../scripts/example-agent/log.ts';
import { startServer, type TestServer, waitFor } from './harness.ts';
import { describeEachDialect } from './test-database.ts';
import type { LiveStream } from './live-clients.ts';
import { closeAfterEach, subscribeSse, subscribeWs } from './live-clients.ts';
import { localIdOf, transfersOf } from './ledger-db.ts';
import { marketOps, type MarketOps } from './market-ops.ts';

const ASSIGNMENTS = 'subscription ($agentId: ID!) { agentAssignments(agentId: $agentId) { id status prompt price agent { id } } }';

interface Assignment {
  agentAssignments: { id: string; status: string; prompt: string; price: number | null; agent: { id: string } | null };
}

const track = closeAfterEach();

const delivered = (stream: LiveStream<Assignment>, taskId: string) =>
  stream.until((data) => data.some((d) => d.agentAssignments.id === taskId), `task ${taskId} to be delivered`);

describeEachDialect('external agents', (dialect) => {
  describe('EXTERNAL agents: delivery and submitTaskResult', () => {
    let server: TestServer;
    let market: MarketOps;
    beforeAll(async () => {
      // Only the agents each test registers exist; the lease is long enough never to run out here.
      server = await startServer({ SEED_AGENTS: 'false', TASK_LEASE_SECONDS: '120' }, { dialect });
      market = marketOps(server.gql);
    });
    afterAll(async () => {
      await server?.stop();
    });

    it("pushes an assignment to the agent's operator only; others are refused when they subscribe", async () => {
      const operator = await server.signUp('AGENT');
      const otherOperator = await server.signUp('AGENT');
      const buyer = await market.fundedBuyer();
      const agentId = (await market.registerAgent(operator.token, { name: 'ext-delivery', mode: 'EXTERNAL', skills: ['delivery'] })).id;

      const refused = {
        anonymous: track(subscribeWs<Assignment>(server, ASSIGNMENTS, { agentId })),
        otherOperator: track(subscribeWs<Assignment>(server, ASSIGNMENTS, { agentId }, otherOperator.token)),
        buyer: track(subscribeWs<Assignment>(server, ASSIGNMENTS, { agentId }, buyer.token)),
        anonymousSse: track(subscribeSse<Assignment>(server, ASSIGNMENTS, { agentId })),
        otherOperatorSse: track(subscribeSse<Assignment>(server, ASSIGNMENTS, { agentId }, otherOperator.token)),
      };
      for (const stream of Object.values(refused)) await stream.ending();
      expect(refused.anonymous.errorCodes).toEqual(['UNAUTHENTICATED']);
      expect(refused.anonymousSse.errorCodes).toEqual(['UNAUTHENTICATED']);
      expect(refused.otherOperator.errorCodes).toEqual(['FORBIDDEN']);
      expect(refused.otherOperatorSse.errorCodes).toEqual(['FORBIDDEN']);
      expect(refused.buyer.errorCodes).toEqual(['FORBIDDEN']);

      const ws = track(subscribeWs<Assignment>(server, ASSIGNMENTS, { agentId }, operator.token));
      const sse = track(subscribeSse<Assignment>(server, ASSIGNMENTS, { agentId }, operator.token));
      const taskId = await market.createTask(buyer.token, { skills: ['delivery'], maxPrice: 500_000, prompt: 'Name three primes.' });

      for (const stream of [ws, sse]) {
        const [assignment] = await delivered(stream, taskId);
        // Sent as it starts: PROCESSING under a lease, at the agent's price (100000 x complexity 1 x 1.00).
        expect(assignment?.agentAssignments).toEqual({ id: taskId, status: 'PROCESSING', prompt: 'Name three primes.', price: 100_000, agent: { id: agentId } });
      }
      for (const stream of Object.values(refused)) expect(stream.data).toEqual([]);
      expect(await market.readTask(otherOperator.token, taskId)).toBeNull();
    });

    it('a result completes the task and pays exactly once; any later submit is an InvalidStateError', async () => {
      const operator = await server.signUp('AGENT');
      const otherOperator = await server.signUp('AGENT');
      const buyer = await market.fundedBuyer(1_000_000);
      const agentId = (await market.registerAgent(operator.token, { name: 'ext-payout', mode: 'EXTERNAL', skills: ['payout'] })).id;
      const stream = track(subscribeWs<Assignment>(server, ASSIGNMENTS, { agentId }, operator.token));
      const taskId = await market.createTask(buyer.token, { skills: ['payout'], maxPrice: 300_000 });
      await delivered(stream, taskId);
      expect(await market.wallet(buyer.token)).toEqual({ balance: 700_000, escrowed: 300_000 });

      // Nobody but the agent's operator may answer for it.
      expect((await market.submitResult(otherOperator.token, taskId, { result: 'hijacked' })).__typename).toBe('NotFoundError');
      const asBuyer = await server.gql('mutation ($input: SubmitTaskResultInput!) { submitTaskResult(input: $input) { __typename } }', { input: { taskId, result: 'mine' } }, buyer.token);
      expect(asBuyer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      // Exactly one of two racing answers wins.
      const racing = await Promise.all([
        market.submitResult(operator.token, taskId, { result: 'forty-two' }),
        market.submitResult(operator.token, taskId, { result: 'forty-three' }),
      ]);
      expect(racing.map((r) => r.__typename).sort()).toEqual(['InvalidStateError', 'Task']);
      const winner = racing.find((r) => r.__typename === 'Task');
      expect(winner).toMatchObject({ status: 'COMPLETED', error: null });
      expect(racing.find((r) => r.__typename === 'InvalidStateError')).toMatchObject({ status: 'COMPLETED' });

      const late = await market.submitResult(operator.token, taskId, { result: 'once more' });
      expect(late).toMatchObject({ __typename: 'InvalidStateError', status: 'COMPLETED' });
      expect(await market.submitResult(operator.token, taskId, { error: 'changed my mind' })).toMatchObject({ __typename: 'InvalidStateError', status: 'COMPLETED' });

      const task = await market.readTask(buyer.token, taskId);
      expect(task).toMatchObject({ status: 'COMPLETED', result: winner?.result, price: 100_000, agent: { id: agentId } });
      expect(task?.events.map((e) => e.status)).toEqual(['PENDING', 'ASSIGNED', 'PROCESSING', 'COMPLETED']);
      // Paid once: the price to the agent, the rest back to the buyer, the escrow empty.
      expect(await market.wallet(buyer.token)).toEqual({ balance: 900_000, escrowed: 0 });
      expect(await market.readAgent(agentId)).toMatchObject({ balance: 100_000, earnings: 100_000, tasksCompleted: 1, tasksFailed: 0, activeTasks: 0, reputation: 1.05 });
      const transfers = await transfersOf(server.databaseUrl, taskId);
      expect(transfers.filter((t) => t.kind === 'payout')).toEqual([{ kind: 'payout', amount: 100_000, credit_account: `agent:${localIdOf(agentId, 'Agent')}` }]);
      expect(transfers.map((t) => t.kind).sort()).toEqual(['escrow', 'payout', 'refund']);
    });

    it('an error fails the task, refunds the buyer in full and counts against the agent', async () => {
      const operator = await server.signUp('AGENT');
      const buyer = await market.fundedBuyer(1_000_000);
      const agentId = (await market.registerAgent(operator.token, { name: 'ext-failing', mode: 'EXTERNAL', skills: ['failing'] })).id;
      const stream = track(subscribeSse<Assignment>(server, ASSIGNMENTS, { agentId }, operator.token));
      const taskId = await market.createTask(buyer.token, { skills: ['failing'], maxPrice: 400_000 });
      await delivered(stream, taskId);

      // Exactly one of result and error.
      expect((await market.submitResult(operator.token, taskId, { result: 'a', error: 'b' })).__typename).toBe('ValidationError');
      expect((await market.submitResult(operator.token, taskId, {})).__typename).toBe('ValidationError');
      const failed = await market.submitResult(operator.token, taskId, { error: 'I cannot do this one' });
      expect(failed).toMatchObject({ __typename: 'Task', status: 'FAILED', error: 'I cannot do this one', result: null });
      expect(await market.submitResult(operator.token, taskId, { result: 'late answer' })).toMatchObject({ __typename: 'InvalidStateError', status: 'FAILED' });

      expect(await market.wallet(buyer.token)).toEqual({ balance: 1_000_000, escrowed: 0 });
      expect(await market.readAgent(agentId)).toMatchObject({ balance: 0, earnings: 0, tasksCompleted: 0, tasksFailed: 1, successRate: 0, activeTasks: 0, reputation: 0.9 });
      expect((await transfersOf(server.databaseUrl, taskId)).map((t) => t.kind).sort()).toEqual(['escrow', 'refund']);
    });
  });

  describe('EXTERNAL agents: silence past the lease', () => {
    let server: TestServer;
    let market: MarketOps;
    beforeAll(async () => {
      server = await startServer({ SEED_AGENTS: 'false', TASK_LEASE_SECONDS: '1' }, { dialect });
      market = marketOps(server.gql);
    });
    afterAll(async () => {
      await server?.stop();
    });

    it("a silent agent's task goes back to PENDING, then to another agent, and the silence counts against it", async () => {
      const silentOperator = await server.signUp('AGENT');
      const activeOperator = await server.signUp('AGENT');
      const buyer = await market.fundedBuyer(1_000_000);
      const silentId = (await market.registerAgent(silentOperator.token, { name: 'ext-silent', mode: 'EXTERNAL', skills: ['silence'] })).id;
      // Registered but PAUSED, so the task can only go to the silent agent first.
      const activeId = (await market.registerAgent(activeOperator.token, { name: 'ext-active', mode: 'EXTERNAL', skills: ['silence'] })).id;
      await market.updateAgent({ id: activeId, status: 'PAUSED' }, activeOperator.token);
      const silent = track(subscribeWs<Assignment>(server, ASSIGNMENTS, { agentId: silentId }, silentOperator.token));
      const active = track(subscribeWs<Assignment>(server, ASSIGNMENTS, { agentId: activeId }, activeOperator.token));

      const taskId = await market.createTask(buyer.token, { skills: ['silence'], maxPrice: 500_000 });
      await delivered(silent, taskId);
      await market.updateAgent({ id: activeId, status: 'ONLINE' }, activeOperator.token);

      const [assignment] = await delivered(active, taskId);
      expect(assignment?.agentAssignments.agent?.id).toBe(activeId);
      expect(await market.submitResult(activeOperator.token, taskId, { result: 'done by the second agent' })).toMatchObject({ __typename: 'Task', status: 'COMPLETED' });
      // The silent agent's answer, however late, changes nothing.
      expect(['InvalidStateError', 'NotFoundError']).toContain((await market.submitResult(silentOperator.token, taskId, { result: 'too late' })).__typename);

      const task = await market.readTask(buyer.token, taskId);
      expect(task).toMatchObject({ status: 'COMPLETED', result: 'done by the second agent', agent: { id: activeId } });
      const statuses = task?.events.map((e) => e.status) ?? [];
      // However often the lease ran out with the silent agent before the other was back ONLINE, each time
      // the task went back to PENDING; the last attempt is the second agent's.
      const expiries = task?.events.filter((e) => e.status === 'PENDING' && /lease expired with ext-silent/i.test(e.message ?? '')) ?? [];
      expect(expiries.length).toBeGreaterThanOrEqual(1);
      expect(statuses).toEqual([...Array.from({ length: expiries.length + 1 }, () => ['PENDING', 'ASSIGNED', 'PROCESSING']).flat(), 'COMPLETED']);

      const silentAgent = await market.readAgent(silentId);
      expect(silentAgent).toMatchObject({ tasksFailed: expiries.length, tasksCompleted: 0, activeTasks: 0, balance: 0 });
      expect(silentAgent.reputation).toBeCloseTo(1 - 0.1 * expiries.length, 9);
      expect(await market.readAgent(activeId)).toMatchObject({ tasksCompleted: 1, tasksFailed: 0, balance: 100_000, activeTasks: 0 });
      expect(await market.wallet(buyer.token)).toEqual({ balance: 900_000, escrowed: 0 });
      expect((await transfersOf(server.databaseUrl, taskId)).filter((t) => t.kind === 'payout')).toHaveLength(1);
    });

    it('when nobody else fits, the task comes back to the same agent over its open subscription', async () => {
      const operator = await server.signUp('AGENT');
      const buyer = await market.fundedBuyer(1_000_000);
      const agentId = (await market.registerAgent(operator.token, { name: 'ext-alone', mode: 'EXTERNAL', skills: ['alone'] })).id;
      const stream = track(subscribeWs<Assignment>(server, ASSIGNMENTS, { agentId }, operator.token));
      const taskId = await market.createTask(buyer.token, { skills: ['alone'], maxPrice: 500_000 });
      await delivered(stream, taskId);

      // Stay silent: the lease runs out, the task is requeued and, with no one else, given back to us.
      const again = await stream.until((data) => data.filter((d) => d.agentAssignments.id === taskId).length >= 2, 'the task to be delivered again');
      expect(again.every((d) => d.agentAssignments.status === 'PROCESSING')).toBe(true);
      // Answer this attempt (or, on a slow machine, whichever one is current when the answer lands).
      const completed = await waitFor(async () => {
        const outcome = await market.submitResult(operator.token, taskId, { result: 'second time lucky' });
        if (outcome.__typename === 'Task') return outcome;
        const before = stream.data.length;
        await stream.until((data) => data.length > before, 'the next delivery');
        return undefined;
      }, 30_000, 'a submit on a live lease');
      expect(completed).toMatchObject({ status: 'COMPLETED', result: 'second time lucky' });
      const agent = await market.readAgent(agentId);
      expect(agent.tasksFailed).toBeGreaterThanOrEqual(1);
      expect(agent).toMatchObject({ tasksCompleted: 1, activeTasks: 0 });
    });
  });

  describe('the example agent (scripts/example-agent) in-process', () => {
    let server: TestServer;
    let market: MarketOps;
    beforeAll(async () => {
      server = await startServer({ SEED_AGENTS: 'false', TASK_LEASE_SECONDS: '120' }, { dialect });
      market = marketOps(server.gql);
    });
    afterAll(async () => {
      await server?.stop();
    });

    it('creates its operator and agent, completes a task with a labelled canned answer, and reuses both on the next run', async () => {
      const credentials = { email: `example-op-${Date.now()}@aicp.test`, password: 'example-password-1' };
      const buyer = await market.fundedBuyer(1_000_000);
      const completedBy = async (run: number) => {
        const controller = new AbortController();
        const lines: string[] = [];
        const log: AgentLogger = { ...silentLogger, info: (line) => void lines.push(line) };
        const running = runExampleAgent({ url: server.url, ...credentials, name: 'example-canned', skills: ['example'], retryBaseMs: 50, log }, controller.signal);
        try {
          const taskId = await market.createTask(buyer.token, { skills: ['example'], maxPrice: 500_000, prompt: `What is 6 x 7? (run ${run})` });
          const task = await market.waitForTask(buyer.token, taskId, (t) => t.status === 'COMPLETED' || t.status === 'FAILED', 20_000, `the example agent to finish task ${run}`);
          return { task, lines };
        } finally {
          controller.abort();
          await running;
        }
      };

      const first = await completedBy(1);
      expect(first.task).toMatchObject({ status: 'COMPLETED', agent: { name: 'example-canned' } });
      expect(first.task.result).toContain(CANNED_LABEL);
      expect(first.task.result).toContain('What is 6 x 7? (run 1)');
      expect(first.lines.some((line) => line.includes(`created the operator account ${credentials.email}`))).toBe(true);
      expect(first.lines.some((line) => line.includes('registered the EXTERNAL agent example-canned'))).toBe(true);

      const second = await completedBy(2);
      expect(second.task).toMatchObject({ status: 'COMPLETED', agent: { id: first.task.agent?.id } });
      expect(second.lines.some((line) => line.includes(`signed in as ${credentials.email}`))).toBe(true);
      expect(second.lines.some((line) => line.includes('using the EXTERNAL agent example-canned'))).toBe(true);

      // 100000 for the first; 105000 for the second, the agent's reputation having risen to 1.05.
      expect([first.task.price, second.task.price]).toEqual([100_000, 105_000]);
      expect(await market.readAgent(first.task.agent?.id ?? '')).toMatchObject({ tasksCompleted: 2, balance: 205_000, activeTasks: 0 });
      expect(await market.wallet(buyer.token)).toEqual({ balance: 795_000, escrowed: 0 });
    });
  });
});
