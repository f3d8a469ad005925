/**
 * Two instances of the marketplace behind one database, joined by Redis pub/sub (REDIS_URL): a task
 * posted through one is seen live by a subscriber of the other, and the other's stats follow. Needs the
 * local Redis (see test-services.ts: skipped with a message without it, failing in CI).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer, waitFor } from './harness.ts';
import { subscribeWs } from './live-clients.ts';
import { describeEachDialect } from './test-database.ts';
import { marketOps } from './market-ops.ts';
import { redisAvailable, redisUrl } from './test-services.ts';

const available = await redisAvailable();

describeEachDialect('several instances over Redis', (dialect) => {
  describe.skipIf(!available)('two instances, one database', () => {
    let first: TestServer;
    let second: TestServer;

    beforeAll(async () => {
      first = await startServer({ REDIS_URL: redisUrl }, { dialect });
      second = await startServer({ REDIS_URL: redisUrl }, { database: first.database });
    });

    afterAll(async () => {
      await second?.stop();
      await first?.stop();
    });

    it('streams a task posted on one instance to a subscriber of the other, and both see the same stats', async () => {
      const market = marketOps(first.gql);
      const buyer = await market.fundedBuyer();
      const listenersBefore = second.app.services.hub.subscriberCount;
      const stream = subscribeWs<{ taskEvents: { sequence: number; status: string; task: { id: string } } }>(
        second,
        'subscription { taskEvents { sequence status task { id } } }',
        {},
        buyer.token,
      );
      try {
        // Prove the subscription is live on the second instance before posting on the first.
        await waitFor(() => second.app.services.hub.subscriberCount > listenersBefore, 10_000, 'the subscription to be live');
        const taskId = await market.createTask(buyer.token, { maxPrice: 1_000_000 });
        const events = await stream.until((data) => data.some((d) => d.taskEvents.status === 'COMPLETED'), 'COMPLETED on the other instance');
        const mine = events.map((d) => d.taskEvents).filter((e) => e.task.id === taskId);
        expect(mine.map((e) => e.status)).toEqual(['PENDING', 'ASSIGNED', 'PROCESSING', 'COMPLETED']);
        const sequences = mine.map((e) => e.sequence);
        expect([...sequences].sort((a, b) => a - b)).toEqual(sequences);

        const stats = '{ marketStats { totalTasks totalPaid } }';
        const onSecond = await waitFor(async () => {
          const r = await second.gql(stats);
          return r.data?.marketStats?.totalTasks === 1 && r.data.marketStats.totalPaid > 0 ? r.data.marketStats : undefined;
        });
        expect((await first.gql(stats)).data?.marketStats).toEqual(onSecond);
      } finally {
        await stream.close();
      }
    });

    it("tells a user connected to one instance that money moved on the other (accountUpdated)", async () => {
      const market = marketOps(second.gql);
      const buyer = await market.signUp('BUYER');
      const stream = subscribeWs<{ accountUpdated: { balance: number } }>(first, 'subscription { accountUpdated { balance } }', {}, buyer.token);
      try {
        await stream.until((data) => data.length >= 1, 'the first state');
        await market.credit(buyer.id, 12_345);
        const data = await stream.until((d) => d.some((x) => x.accountUpdated.balance === 12_345), 'the credit made on the other instance');
        expect(data[0]?.accountUpdated.balance).toBe(0);
      } finally {
        await stream.close();
      }
    });
  });
});
