/**
 * Two instances of the marketplace behind one database, joined by Redis pub/sub (REDIS_URL): a task
 * posted through one is seen live by a subscriber of the other, and the other's stats follow. Every
 * channel carries this run's own REDIS_PREFIX (other test runs share the Redis), and `health` reports the
 * bus and which instance answered. Needs the local Redis (see test-services.ts: skipped with a message
 * without it, failing in CI).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './child-server.ts';
import { startServer, type TestServer, waitFor } from './harness.ts';
import { subscribeWs } from './live-clients.ts';
import { describeEachDialect } from './test-database.ts';
import { marketOps } from './market-ops.ts';
import { redisAvailable, redisUrl, uniqueName } from './test-services.ts';

const available = await redisAvailable();
const prefix = `${uniqueName('aicp-test')}:`;
const HEALTH = '{ health { status instance pubsub { status detail latencyMs } } }';

describeEachDialect('several instances over Redis', (dialect) => {
  describe.skipIf(!available)('two instances, one database', () => {
    let first: TestServer;
    let second: TestServer;

    beforeAll(async () => {
      first = await startServer({ REDIS_URL: redisUrl, REDIS_PREFIX: prefix }, { dialect });
      second = await startServer({ REDIS_URL: redisUrl, REDIS_PREFIX: prefix }, { database: first.database });
    });

    afterAll(async () => {
      await second?.stop();
      await first?.stop();
    });

    it('streams a task posted on one instance to a subscriber of the other, and both see the same stats', async () => {
      // Listen on the wire itself: every event crosses Redis on this run's prefixed channel.
      const wire = new Redis(redisUrl);
      const heard: string[] = [];
      wire.on('pmessage', (_pattern, channel: string) => heard.push(channel));
      await wire.psubscribe(`${prefix}*`);
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
        expect(heard.filter((channel) => channel === `${prefix}task:event`).length).toBeGreaterThanOrEqual(4);
        expect(heard.every((channel) => channel.startsWith(prefix))).toBe(true);
      } finally {
        await stream.close();
        wire.disconnect();
      }
    });

    it('reports the Redis bus as OK in health, and each instance by its own stable id', async () => {
      const [a1, b, a2] = [await first.gql(HEALTH), await second.gql(HEALTH), await first.gql(HEALTH)].map((r) => r.data?.health);
      for (const health of [a1, b]) {
        expect(health.pubsub.status).toBe('OK');
        expect(health.pubsub.detail).toContain(prefix);
        expect(health.pubsub.latencyMs).toBeGreaterThanOrEqual(0);
        expect(health.instance).toMatch(/^[A-Za-z0-9:._-]+$/);
      }
      expect(a1.instance).not.toBe(b.instance);
      expect(a2.instance).toBe(a1.instance);
      expect(a1.instance).toBe(first.app.services.instanceId);
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

    it("offers work to an EXTERNAL agent whose operator listens on the other instance, and shows it connected on both", async () => {
      const market = marketOps(first.gql);
      const operator = await market.signUp('AGENT');
      const buyer = await market.fundedBuyer();
      const agentId = (await market.registerAgent(operator.token, { name: `ext-${uniqueName('two')}`, mode: 'EXTERNAL', skills: ['elsewhere'] })).id;
      const connected = async (server: TestServer) => (await server.gql('query ($id: ID!) { agent(id: $id) { connected } }', { id: agentId })).data?.agent?.connected;
      expect([await connected(first), await connected(second)]).toEqual([false, false]);

      const listener = subscribeWs<{ agentAssignments: { id: string; status: string } }>(
        second,
        'subscription ($agentId: ID!) { agentAssignments(agentId: $agentId) { id status } }',
        { agentId },
        operator.token,
      );
      try {
        await waitFor(async () => (await connected(first)) === true, 10_000, 'the first instance to see the listener on the second');
        expect(await connected(second)).toBe(true);
        // Posted on the first instance, whose coordinator claims it for an agent listening on the second.
        const taskId = await market.createTask(buyer.token, { skills: ['elsewhere'], maxPrice: 1_000_000 });
        const [assignment] = await listener.until((data) => data.length >= 1, 'the assignment on the other instance');
        expect(assignment?.agentAssignments).toEqual({ id: taskId, status: 'PROCESSING' });
      } finally {
        await listener.close();
      }
      await waitFor(async () => (await connected(first)) === false, 10_000, 'the agent to show disconnected once its listener left');
    });
  });
});

describe('health.pubsub without Redis', () => {
  it('is OK "in-process" when no REDIS_URL is set, and names the configured instance', async () => {
    const server = await startServer({ INSTANCE_ID: 'web-1' });
    try {
      const health = (await server.gql(HEALTH)).data?.health;
      expect(health.pubsub).toEqual({ status: 'OK', detail: 'in-process', latencyMs: null });
      expect(health.instance).toBe('web-1');
    } finally {
      await server.stop();
    }
  });

  it('is DEGRADED, and so is the whole, while the configured Redis cannot be reached', async () => {
    const nowhere = `redis://127.0.0.1:${await freePort()}`;
    const server = await startServer({ REDIS_URL: nowhere, REDIS_PREFIX: prefix });
    try {
      const health = (await server.gql(HEALTH)).data?.health;
      expect(health.pubsub.status).toBe('DEGRADED');
      expect(health.pubsub.detail).toMatch(/connecting/);
      expect(health.status).toBe('DEGRADED');
    } finally {
      await server.stop();
    }
  });
});
