import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FakeLlm, type RecordedRequest, startFakeLlm } from '../../scripts/fake-llm/server.ts';
import { baseChildEnv, type ChildServer, exitOf, freePort, killAll, spawnServer } from './child-server.ts';
import { startServer, type TestServer, waitFor } from './harness.ts';
import { auditTask, expireLease } from './ledger-db.ts';
import { createTestDatabase, describeEachDialect, type TestDatabase } from './test-database.ts';
import { isFinal, marketOps } from './market-ops.ts';

/**
 * SIGTERM (src/main.ts -> app.stop()): stop taking work, let in-flight calls finish within the grace
 * (10 s, app.ts) or abort them and end their leases, then exit 0. Either way the task ends exactly once,
 * paid at most once, and a task handed back is picked up by the next start.
 */

/** The grace `app.stop()` gives in-flight calls when main.ts stops on SIGTERM. */
const GRACE_MS = 10_000;
/** How long a stop may take before the test calls it stuck: the grace plus ample room to close. */
const STOP_BOUND_MS = GRACE_MS + 10_000;
/** A cold `tsx` start of the server takes several seconds on a busy 2-core machine. */
const CHILD_TEST_MS = 180_000;

describeEachDialect('graceful stop', (dialect) => {
  let fake: FakeLlm;
  let database: TestDatabase | undefined;
  const children: ChildServer[] = [];
  const servers: TestServer[] = [];

  beforeAll(async () => {
    fake = await startFakeLlm();
  });

  afterAll(async () => {
    await fake?.close();
  });

  afterEach(async () => {
    // Never leave a server behind, even when a test failed half-way.
    await killAll(children);
    fake.reset();
    // Newest first: the first server owns the database the later ones reuse, and drops it when it stops.
    for (const server of servers.splice(0).reverse()) await server.stop();
    await database?.drop();
    database = undefined;
  });

  function childEnv(databaseFile: string, port: number, extra: Record<string, string> = {}): Record<string, string> {
    return {
      ...baseChildEnv(databaseFile, port),
      TASK_LEASE_SECONDS: '30',
      OPENAI_BASE_URL: fake.baseUrl,
      OPENAI_API_KEY: 'sk-e2e-stop',
      AI_RETRY_BASE_MS: '10',
      AI_TIMEOUT_MS: '120000',
      ...extra,
    };
  }

  async function start(env: Record<string, string>): Promise<ChildServer> {
    const child = await spawnServer(env);
    children.push(child);
    return child;
  }

  function callsFor(prompt: string): RecordedRequest[] {
    return fake.requests.filter((r) => r.messages.findLast((m) => m.role === 'user')?.content === prompt);
  }

  describe('graceful stop on SIGTERM', () => {
    it('a call that ends within the grace: the task completes before the process exits 0, paid once', async () => {
      database = await createTestDatabase(dialect);
      const databaseFile = database.url;
      // Well inside the grace, long enough to be in flight when SIGTERM arrives.
      fake.configure({ latencyMs: 1500 });
      const child = await start(childEnv(databaseFile, await freePort()));
      const market = marketOps(child.gql);
      const funds = 1_000_000;
      const buyer = await market.fundedBuyer(funds);
      const prompt = `Finish me before you go ${Date.now()}`;
      const id = await market.createTask(buyer.token, { prompt, maxPrice: funds });
      await waitFor(() => callsFor(prompt).length === 1, 20_000, 'the provider to receive the call');

      child.signal('SIGTERM');
      expect(await exitOf(child, STOP_BOUND_MS)).toEqual({ code: 0, signal: null });

      const ledger = await auditTask(databaseFile, id);
      expect(ledger.task).toMatchObject({ status: 'COMPLETED', attempts: 1, lease_token: null });
      expect(ledger).toMatchObject({ payoutRows: 1, payoutsForTask: 1, refundsForTask: 1, escrowBalance: 0, ledgerSum: 0, negativeAccounts: [] });
      expect(callsFor(prompt)).toHaveLength(1);
    }, CHILD_TEST_MS);

    it('calls longer than the grace: aborted, leases ended, exit 0; after a restart each task completes, paid once', async () => {
      database = await createTestDatabase(dialect);
      const databaseFile = database.url;
      const port = await freePort();
      fake.configure({ latencyMs: 60_000 });
      // One call at a time: the second task is PROCESSING but waits inside the engine, not at the provider.
      const env = childEnv(databaseFile, port, { AI_CONCURRENCY: '1' });
      const first = await start(env);
      let market = marketOps(first.gql);
      const funds = 1_000_000;
      const buyer = await market.fundedBuyer(2 * funds);
      const prompts = [`In flight at the provider ${Date.now()}`, `Waiting for a slot ${Date.now()}`];
      const ids = [await market.createTask(buyer.token, { prompt: prompts[0] ?? '', maxPrice: funds }), await market.createTask(buyer.token, { prompt: prompts[1] ?? '', maxPrice: funds })];
      for (const id of ids) await market.waitForTask(buyer.token, id, (t) => t.status === 'PROCESSING', 20_000, 'both tasks to be PROCESSING');
      await waitFor(() => callsFor(prompts[0] ?? '').length === 1, 20_000, 'the provider to receive the first call');

      first.signal('SIGTERM');
      expect(await exitOf(first, STOP_BOUND_MS)).toEqual({ code: 0, signal: null });

      // Nothing new went out while stopping, and both tasks were handed back: still PROCESSING (only a
      // coordinator moves them), but with their leases ended, so the next sweep requeues them at once.
      expect(fake.requests).toHaveLength(1);
      for (const id of ids) {
        const ledger = await auditTask(databaseFile, id);
        expect(ledger.task).toMatchObject({ status: 'PROCESSING', lease_expires_at: 0 });
        expect(ledger).toMatchObject({ payoutRows: 0, escrowBalance: funds });
      }

      fake.configure({ latencyMs: 0 });
      const second = await start(env);
      market = marketOps(second.gql);
      for (const [index, id] of ids.entries()) {
        const task = await market.waitForTask(buyer.token, id, isFinal, 30_000, 'the task to end after the restart');
        expect(task.status).toBe('COMPLETED');
        expect(task.events.filter((e) => e.status === 'COMPLETED')).toHaveLength(1);
        expect(callsFor(prompts[index] ?? '')).toHaveLength(index === 0 ? 2 : 1);
        const ledger = await auditTask(databaseFile, id);
        expect(ledger).toMatchObject({ payoutRows: 1, payoutsForTask: 1, refundsForTask: 1, escrowBalance: 0, ledgerSum: 0, negativeAccounts: [] });
      }
      expect((await market.agents()).map((a) => a.activeTasks)).toEqual([0, 0, 0]);

      second.signal('SIGTERM');
      expect(await exitOf(second, STOP_BOUND_MS)).toEqual({ code: 0, signal: null });
    }, CHILD_TEST_MS);
  });

  describe('stop() in process', () => {
    it('a task that lost its lease and was re-run by the same process is still aborted and handed back on stop', async () => {
      const env = {
        TASK_LEASE_SECONDS: '1',
        OPENAI_BASE_URL: fake.baseUrl,
        OPENAI_API_KEY: 'sk-e2e-stop',
        AI_TIMEOUT_MS: '120000',
      };
      const server = await startServer(env, { dialect });
      servers.push(server);
      const market = marketOps(server.gql);
      // Both runs of the task hang at the provider.
      fake.enqueue({ kind: 'hang' }, { kind: 'hang' });
      const buyer = await market.fundedBuyer(1_000_000);
      const prompt = `Run me twice ${Date.now()}`;
      const id = await market.createTask(buyer.token, { prompt, maxPrice: 1_000_000 });
      await waitFor(() => callsFor(prompt).length === 1, 20_000, 'the provider to receive the first call');

      // The lease runs out under the running call (as if renewals had stalled): the sweep requeues the
      // task, this same process runs it again, and the first run notices its lost lease and gives up.
      expect(await expireLease(server.databaseUrl, id)).toBe(1);
      await waitFor(() => callsFor(prompt).length === 2 && fake.stats.inFlight === 1, 20_000, 'the second run to replace the first');
      await market.waitForTask(buyer.token, id, (t) => t.status === 'PROCESSING' && t.attempts === 2 && t.events.length === 6, 20_000, 'the re-run to be PROCESSING');

      // graceMs 0: abort the call in flight now and end its lease. A stop that waited for the hanging call
      // instead would not return until AI_TIMEOUT_MS.
      const stopped = await Promise.race([
        server.app.stop({ graceMs: 0 }).then(() => 'stopped' as const),
        new Promise<'stuck'>((resolve) => setTimeout(() => resolve('stuck'), 15_000).unref()),
      ]);
      expect(stopped).toBe('stopped');
      const ledger = await auditTask(server.databaseUrl, id);
      expect(ledger.task).toMatchObject({ status: 'PROCESSING', lease_expires_at: 0 });
      expect(ledger).toMatchObject({ payoutRows: 0, escrowBalance: 1_000_000 });

      // The next start picks it up at once and finishes it, once.
      const again = await startServer(env, { database: server.database });
      servers.push(again);
      const task = await marketOps(again.gql).waitForTask(buyer.token, id, isFinal, 20_000, 'the task to end after the restart');
      expect(task.status).toBe('COMPLETED');
      expect(callsFor(prompt)).toHaveLength(3);
      expect(await auditTask(again.databaseUrl, id)).toMatchObject({ payoutRows: 1, escrowBalance: 0, ledgerSum: 0 });
    }, 60_000);
  });
});
