/**
 * A subscription event is executed once per kind of subscriber and shared (src/live/shared-execution.ts).
 * What must never happen is one viewer receiving what was computed for another: here the buyer, the
 * operator of the assigned agent and an admin all watch the same task's events, asking for the buyer's
 * email, which only the buyer and admins may read unmasked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer, waitFor } from './harness.ts';
import { describeEachDialect } from './test-database.ts';
import { closeAfterEach, listenForAssignments, type LiveStream, subscribeSse, subscribeWs } from './live-clients.ts';
import { marketOps, type MarketOps } from './market-ops.ts';

const EVENTS = 'subscription { taskEvents { sequence status task { id buyer { email } } } }';

interface EventWithBuyer {
  taskEvents: { sequence: number; status: string; task: { id: string; buyer: { email: string } } };
}

const track = closeAfterEach();

const reached = (stream: LiveStream<EventWithBuyer>, taskId: string, status: string) =>
  stream.until((data) => data.some((d) => d.taskEvents.task.id === taskId && d.taskEvents.status === status), `${status} of ${taskId}`);

describeEachDialect('shared subscription results', (dialect) => {
  describe('shared subscription results', () => {
    let server: TestServer;
    let market: MarketOps;
    beforeAll(async () => {
      server = await startServer({ SEED_AGENTS: 'false', TASK_LEASE_SECONDS: '120' }, { dialect });
      market = marketOps(server.gql);
    });
    afterAll(async () => {
      await server?.stop();
    });

    it('each viewer receives the event as computed for them: unmasked for the buyer and admins, masked for the operator', async () => {
      const operator = await server.signUp('AGENT');
      const buyer = await market.fundedBuyer();
      const admin = await server.adminToken();
      const agent = await market.registerAgent(operator.token, { name: 'ext-shared', mode: 'EXTERNAL', skills: ['shared-results'], maxConcurrency: 50 });
      // Its operator listens, so the agent is connected and offered the tasks.
      track(listenForAssignments(server, agent.id, operator.token));

      const streams = {
        buyer: [track(subscribeWs<EventWithBuyer>(server, EVENTS, {}, buyer.token)), track(subscribeWs<EventWithBuyer>(server, EVENTS, {}, buyer.token))],
        buyerSse: [track(subscribeSse<EventWithBuyer>(server, EVENTS, {}, buyer.token))],
        operator: [track(subscribeWs<EventWithBuyer>(server, EVENTS, {}, operator.token)), track(subscribeWs<EventWithBuyer>(server, EVENTS, {}, operator.token))],
        admin: [track(subscribeWs<EventWithBuyer>(server, EVENTS, {}, admin))],
      };
      const all = Object.values(streams).flat();
      // A subscription is live some moments after it is sent: post until every stream has heard something.
      await waitFor(async () => {
        await market.createTask(buyer.token, { skills: ['shared-results'], maxPrice: 500_000 });
        await new Promise((resolve) => setTimeout(resolve, 100));
        return all.every((stream) => stream.data.length > 0);
      }, 20_000, 'every stream to be listening');

      const taskId = await market.createTask(buyer.token, { skills: ['shared-results'], maxPrice: 500_000 });
      for (const stream of all) await reached(stream, taskId, 'PROCESSING');

      const emailsSeen = (list: LiveStream<EventWithBuyer>[]) =>
        new Set(list.flatMap((s) => s.data.filter((d) => d.taskEvents.task.id === taskId).map((d) => d.taskEvents.task.buyer.email)));
      expect(emailsSeen(streams.buyer)).toEqual(new Set([buyer.email]));
      expect(emailsSeen(streams.buyerSse)).toEqual(new Set([buyer.email]));
      expect(emailsSeen(streams.admin)).toEqual(new Set([buyer.email]));
      const masked = [...emailsSeen(streams.operator)];
      expect(masked).toHaveLength(1);
      expect(masked[0]).not.toBe(buyer.email);
      expect(masked[0]).toMatch(/\*/);

      // The operator sees only what concerns its agent (from ASSIGNED on); the buyer and admin see it all,
      // and two subscribers of the same viewer receive the same events in the same order.
      const statuses = (s: LiveStream<EventWithBuyer>) => s.data.filter((d) => d.taskEvents.task.id === taskId).map((d) => d.taskEvents.status);
      expect(statuses(streams.buyer[0]!)).toEqual(['PENDING', 'ASSIGNED', 'PROCESSING']);
      expect(statuses(streams.buyer[1]!)).toEqual(statuses(streams.buyer[0]!));
      expect(statuses(streams.admin[0]!)).toEqual(['PENDING', 'ASSIGNED', 'PROCESSING']);
      expect(statuses(streams.operator[0]!)).not.toContain('PENDING');
      expect(statuses(streams.operator[1]!)).toEqual(statuses(streams.operator[0]!));
    });
  });
});
