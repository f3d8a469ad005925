import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { completionBody } from '../../scripts/fake-llm/behaviour.ts';
import { type FakeLlm, type RecordedRequest, startFakeLlm } from '../../scripts/fake-llm/server.ts';
import { baseChildEnv, type ChildServer, exitOf, freePort, killAll, spawnServer } from './child-server.ts';
import { waitFor } from './harness.ts';
import { auditTask, writerInsideTransaction } from './ledger-db.ts';
import { createTestDatabase, describeEachDialect, type TestDatabase } from './test-database.ts';
import { isFinal, marketOps, type TaskView } from './market-ops.ts';

/**
 * However the process running a task dies or stalls, the task ends exactly once and is paid exactly once
 * (DESIGN.md, Lifecycle). The server runs as a real child process (`src/main.ts`) so it can be killed
 * with SIGKILL or frozen with SIGSTOP; the money is checked in its database, on each dialect.
 */

const LEASE_SECONDS = 2;
/** Each test starts the server twice; a cold `tsx` start takes several seconds on a busy 2-core machine. */
const CHILD_TEST_MS = 180_000;

describeEachDialect('crash recovery', (dialect) => {
  let fake: FakeLlm;
  let database: TestDatabase | undefined;
  const children: ChildServer[] = [];

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
    await database?.drop();
    database = undefined;
  });

  async function start(databaseFile: string, port: number): Promise<ChildServer> {
    const child = await spawnServer({
      ...baseChildEnv(databaseFile, port),
      TASK_LEASE_SECONDS: String(LEASE_SECONDS),
      OPENAI_BASE_URL: fake.baseUrl,
      OPENAI_API_KEY: 'sk-e2e-crash',
      AI_RETRY_BASE_MS: '10',
      // The slow call is cut short by the crash, never by a timeout.
      AI_TIMEOUT_MS: '120000',
    });
    children.push(child);
    return child;
  }

  function callsFor(prompt: string): RecordedRequest[] {
    return fake.requests.filter((r) => r.messages.findLast((m) => m.role === 'user')?.content === prompt);
  }

  /** Lifecycle statuses in order, e.g. PENDING ASSIGNED PROCESSING PENDING ASSIGNED PROCESSING COMPLETED. */
  function statuses(task: TaskView): string[] {
    return task.events.map((e) => e.status);
  }

  describe('crash recovery', () => {
    it('SIGKILL mid-call: after a restart on the same database the task completes, paid exactly once, escrow empty', async () => {
      database = await createTestDatabase(dialect);
      const databaseFile = database.url;
      const port = await freePort();
      // Long enough that the call is certainly still in flight when the process is killed.
      fake.configure({ latencyMs: 60_000 });

      const first = await start(databaseFile, port);
      let market = marketOps(first.gql);
      const funds = 1_000_000;
      const buyer = await market.fundedBuyer(funds);
      const prompt = `Crash in the middle of this ${Date.now()}`;
      const id = await market.createTask(buyer.token, { prompt, maxPrice: funds });
      const taken = await market.waitForTask(buyer.token, id, (t) => t.status === 'PROCESSING', 20_000, 'the task to be PROCESSING');
      await waitFor(() => callsFor(prompt).length === 1, 20_000, 'the provider to receive the call');

      first.signal('SIGKILL');
      expect(await exitOf(first, 10_000)).toEqual({ code: null, signal: 'SIGKILL' });
      const leftBehind = await auditTask(databaseFile, id);
      expect(leftBehind.task?.status).toBe('PROCESSING');
      expect(leftBehind).toMatchObject({ payoutRows: 0, escrowBalance: funds, ledgerSum: 0 });

      fake.configure({ latencyMs: 0 });
      const second = await start(databaseFile, port);
      market = marketOps(second.gql);
      const task = await market.waitForTask(buyer.token, id, isFinal, 30_000, 'the task to end after the restart');

      expect(task.status).toBe('COMPLETED');
      expect(task.result).toBe(`Answer to: ${prompt}`);
      // The expired lease sent it back to the queue once, then it ran to the end once.
      expect(statuses(task)).toEqual(['PENDING', 'ASSIGNED', 'PROCESSING', 'PENDING', 'ASSIGNED', 'PROCESSING', 'COMPLETED']);
      expect(task.events[3]?.message).toMatch(/lease expired/i);
      // The agent whose lease ran out is not picked again while others fit (transitions.ts, requeueExpired).
      expect(task.agent?.id).not.toBe(taken.agent?.id);
      // The killed call counted as an attempt, like the one that answered.
      expect(callsFor(prompt)).toHaveLength(2);
      expect(task.attempts).toBe(2);

      const price = task.price ?? 0;
      expect(await market.wallet(buyer.token)).toEqual({ balance: funds - price, escrowed: 0 });
      const ledger = await auditTask(databaseFile, id);
      expect(ledger).toMatchObject({ payoutRows: 1, payoutsForTask: 1, refundsForTask: 1, escrowBalance: 0, ledgerSum: 0, negativeAccounts: [] });
      // No capacity is leaked by the dead run.
      expect((await market.agents()).map((a) => a.activeTasks)).toEqual([0, 0, 0]);

      second.signal('SIGTERM');
      expect(await exitOf(second, 20_000)).toEqual({ code: 0, signal: null });
    }, CHILD_TEST_MS);

    it('a late answer, arriving after the lease ran out and the task went to another process, is discarded', async () => {
      database = await createTestDatabase(dialect);
      const databaseFile = database.url;
      // The first call is answered after 1.5 s, while the process that made it is frozen: the answer waits
      // in that process's socket until it wakes. Every later call is answered at once.
      fake.enqueue({ status: 200, delayMs: 1500, body: completionBody('STALE ANSWER', 'fake-model') });

      const frozen = await start(databaseFile, await freePort());
      const funds = 1_000_000;
      const market = marketOps(frozen.gql);
      const buyer = await market.fundedBuyer(funds);
      const prompt = `Answer me late ${Date.now()}`;
      const id = await market.createTask(buyer.token, { prompt, maxPrice: funds });
      await market.waitForTask(buyer.token, id, (t) => t.status === 'PROCESSING', 20_000, 'the task to be PROCESSING');
      await waitFor(() => callsFor(prompt).length === 1, 20_000, 'the provider to receive the call');

      // A process that stalls (a long GC pause, a suspended VM) stops renewing its lease. Frozen between
      // transactions: frozen inside one, it would hold the database's write lock for as long as it sleeps.
      for (;;) {
        frozen.signal('SIGSTOP');
        if (!(await writerInsideTransaction(databaseFile))) break;
        frozen.signal('SIGCONT');
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      const other = await start(databaseFile, await freePort());
      const otherMarket = marketOps(other.gql);
      const completed = await otherMarket.waitForTask(buyer.token, id, (t) => t.status === 'COMPLETED' || t.status === 'FAILED', 30_000, 'the other process to finish the task');
      expect(completed.status).toBe('COMPLETED');
      expect(completed.result).toBe(`Answer to: ${prompt}`);

      // The frozen process wakes with the stale answer in hand. A graceful stop lets it finish whatever it
      // does with it: once it has exited, it has done it.
      frozen.signal('SIGCONT');
      frozen.signal('SIGTERM');
      expect(await exitOf(frozen, 20_000)).toEqual({ code: 0, signal: null });

      const task = (await otherMarket.readTask(buyer.token, id))!;
      expect(task.status).toBe('COMPLETED');
      expect(task.result).toBe(`Answer to: ${prompt}`);
      expect(statuses(task).filter((s) => s === 'COMPLETED')).toHaveLength(1);
      expect(await otherMarket.wallet(buyer.token)).toEqual({ balance: funds - (task.price ?? 0), escrowed: 0 });
      const ledger = await auditTask(databaseFile, id);
      expect(ledger).toMatchObject({ payoutRows: 1, payoutsForTask: 1, refundsForTask: 1, escrowBalance: 0, ledgerSum: 0, negativeAccounts: [] });

      other.signal('SIGTERM');
      expect(await exitOf(other, 20_000)).toEqual({ code: 0, signal: null });
    }, CHILD_TEST_MS);
  });
});
