import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeLlm, startFakeLlm } from '../../scripts/fake-llm/server.ts';
import { marketOps, type MarketOps } from './market-ops.ts';
import { startServer, type TestServer, waitFor } from './harness.ts';
import { describeEachDialect } from './test-database.ts';
import { auditMarket } from './ledger-db.ts';

/**
 * AI_CONCURRENCY bounds the calls in flight towards the provider, whatever the agents could take on: a
 * burst of tasks queues inside the engine instead of stampeding the provider (DESIGN.md, Execution).
 * Measured where it matters, at the (fake) provider, which counts the requests it holds at once.
 */

const AI_CONCURRENCY = 4;
const TASKS = 100;
const MAX_PRICE = 300_000; // above every agent's price for a complexity-1 task (at most 2.00x x 100,000)

describeEachDialect('concurrency bound', (dialect) => {
  let fake: FakeLlm;
  let server: TestServer;
  let market: MarketOps;

  beforeAll(async () => {
    fake = await startFakeLlm({ latencyMs: { min: 100, max: 200 } });
    server = await startServer({
      OPENAI_BASE_URL: fake.baseUrl,
      OPENAI_API_KEY: 'sk-e2e-concurrency',
      AI_CONCURRENCY: String(AI_CONCURRENCY),
    }, { dialect });
    market = marketOps(server.gql);
  });

  afterAll(async () => {
    await server?.stop();
    await fake?.close();
  });

  describe('concurrency towards the provider', () => {
    it(`${TASKS} tasks against a slow provider: all complete, never more than AI_CONCURRENCY calls in flight`, async () => {
      // Agents that could take far more at once than AI_CONCURRENCY allows: the seeded three (no
      // operator, so the admin raises their limit) and one an operator registers.
      for (const agent of await market.agents()) await market.updateAgent({ id: agent.id, maxConcurrency: 20 });
      const operator = await market.signUp('AGENT');
      await market.registerAgent(operator.token, { name: `bound-${Date.now()}`, maxConcurrency: 20 });
      const capacity = (await market.agents()).reduce((sum, a) => sum + a.maxConcurrency, 0);
      expect(capacity).toBeGreaterThan(AI_CONCURRENCY * 10);

      const funds = TASKS * MAX_PRICE;
      const buyer = await market.fundedBuyer(funds);
      for (let batch = 0; batch < TASKS; batch += 10) {
        await Promise.all(Array.from({ length: 10 }, (_, i) => market.createTask(buyer.token, { prompt: `Bounded task ${batch + i}`, maxPrice: MAX_PRICE })));
      }

      // While they run, note how many the agents hold at once: more than AI_CONCURRENCY means the bound
      // below comes from the executor, not from the agents' own limits.
      let mostActive = 0;
      await waitFor(
        async () => {
          const [agents, done] = await Promise.all([
            market.agents(),
            server.gql<{ tasks: { totalCount: number } }>('{ tasks(first: 1, status: COMPLETED) { totalCount } }', {}, buyer.token),
          ]);
          mostActive = Math.max(mostActive, agents.reduce((sum, a) => sum + a.activeTasks, 0));
          return done.data?.tasks.totalCount === TASKS;
        },
        60_000,
        `all ${TASKS} tasks to complete`,
      );

      expect(fake.stats.maxInFlight).toBeLessThanOrEqual(AI_CONCURRENCY);
      expect(fake.stats.maxInFlight).toBeGreaterThan(1);
      expect(mostActive).toBeGreaterThan(AI_CONCURRENCY);
      // One call per task: queueing in the engine cost no retries.
      expect(fake.stats.total).toBe(TASKS);
      expect(fake.stats.rateLimited).toBe(0);

      const page = await server.gql<{ tasks: { edges: { node: { status: string; attempts: number; price: number } }[] } }>(
        `{ tasks(first: ${TASKS}) { edges { node { status attempts price } } } }`,
        {},
        buyer.token,
      );
      const tasks = page.data?.tasks.edges.map((e) => e.node) ?? [];
      expect(tasks).toHaveLength(TASKS);
      expect(tasks.every((t) => t.status === 'COMPLETED' && t.attempts === 1)).toBe(true);
      const spent = tasks.reduce((sum, t) => sum + t.price, 0);
      expect(await market.wallet(buyer.token)).toEqual({ balance: funds - spent, escrowed: 0 });
      expect(await auditMarket(server.databaseUrl)).toEqual({
        ledgerSum: 0,
        escrowTotal: 0,
        payouts: TASKS,
        negativeAccounts: [],
        tasksByStatus: { COMPLETED: TASKS },
      });
      expect((await market.agents()).every((a) => a.activeTasks === 0)).toBe(true);
    }, 120_000);
  });
});
