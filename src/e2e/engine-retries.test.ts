import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FakeLlm, type RecordedRequest, startFakeLlm } from '../../scripts/fake-llm/server.ts';
import { MIN_REPUTATION, REPUTATION_LOSS } from '../market/matching.ts';
import { startServer, type TestServer } from './harness.ts';
import { describeEachDialect } from './test-database.ts';
import { auditTask } from './ledger-db.ts';
import { type AgentView, isFinal, marketOps, type MarketOps, type TaskView } from './market-ops.ts';

/**
 * The retry policy through the whole server: a real app (SQLite, GraphQL over HTTP) whose OpenAI executor
 * talks over real HTTP to the fake provider. What the buyer, the agent and the ledger see, for every kind
 * of failure the policy names (DESIGN.md, Execution; retry-policy.ts for who is blamed).
 */

const API_KEY = 'sk-e2e-retries';
const MODEL = 'e2e-model';
const MAX_RETRIES = 5;
const RETRY_AFTER_MS = 300;

describeEachDialect('engine retries', (dialect) => {
  let fake: FakeLlm;
  let server: TestServer;
  let market: MarketOps;
  let prompts = 0;

  beforeAll(async () => {
    // The fake checks the key, so a call without OPENAI_API_KEY as its Bearer would fail.
    fake = await startFakeLlm({ requiredApiKey: API_KEY });
    server = await startServer({
      OPENAI_BASE_URL: fake.baseUrl,
      OPENAI_API_KEY: API_KEY,
      AI_MODEL: MODEL,
      AI_RETRY_BASE_MS: '10',
      AI_MAX_RETRIES: String(MAX_RETRIES),
      // Short enough that a hanging call is given up quickly, far above what a local answer takes.
      AI_TIMEOUT_MS: '500',
    }, { dialect });
    market = marketOps(server.gql);
  });

  afterAll(async () => {
    await server?.stop();
    await fake?.close();
  });

  afterEach(() => {
    fake.reset();
  });

  function userMessage(request: RecordedRequest): string | undefined {
    return request.messages.findLast((m) => m.role === 'user')?.content;
  }

  /** The calls the provider received for this prompt, oldest first. */
  function callsFor(prompt: string): RecordedRequest[] {
    return fake.requests.filter((r) => userMessage(r) === prompt);
  }

  function uniquePrompt(what: string): string {
    return `${what} #${++prompts} (${Date.now()})`;
  }

  async function agentsById(): Promise<Map<string, AgentView>> {
    return new Map((await market.agents()).map((a) => [a.id, a]));
  }

  /** Post a task as a fresh buyer holding exactly `funds`, and wait for it to end. */
  async function runTask(prompt: string, funds = 1_000_000): Promise<{ task: TaskView; buyer: { token: string; id: string }; before: Map<string, AgentView> }> {
    const buyer = await market.fundedBuyer(funds);
    const before = await agentsById();
    const id = await market.createTask(buyer.token, { prompt, maxPrice: funds });
    const task = await market.waitForTask(buyer.token, id, isFinal, 30_000, `task "${prompt}" to end`);
    return { task, buyer, before };
  }

  /** The buyer got everything back, the escrow is empty, no payout was made and the ledger balances. */
  async function expectFullRefund(task: TaskView, buyer: { token: string }, funds: number): Promise<void> {
    expect(await market.wallet(buyer.token)).toEqual({ balance: funds, escrowed: 0 });
    const ledger = await auditTask(server.databaseUrl, task.id);
    expect(ledger).toMatchObject({ payoutRows: 0, payoutsForTask: 0, refundsForTask: 1, escrowBalance: 0, ledgerSum: 0, negativeAccounts: [] });
  }

  describe('retryable failures', () => {
    it('429 with retry-after-ms, 500, a connection reset and a timeout are retried; the task completes and the agent is paid', async () => {
      fake.enqueue(
        { status: 429, headers: { 'retry-after-ms': String(RETRY_AFTER_MS) } },
        { status: 500 },
        { kind: 'reset' },
        { kind: 'hang' }, // answered by AI_TIMEOUT_MS
      );
      const prompt = uniquePrompt('Summarise the retry policy');
      const funds = 1_000_000;

      const { task, buyer, before } = await runTask(prompt, funds);

      expect(task.status).toBe('COMPLETED');
      expect(task.result).toBe(`Answer to: ${prompt}`);
      const calls = callsFor(prompt);
      expect(calls.map((c) => c.outcome)).toEqual([429, 500, 'reset', 'hang', 200]);
      // Every call to the provider, and nothing else, is counted on the task.
      expect(task.attempts).toBe(calls.length);
      // Retry-After overrode the computed wait (a few ms with AI_RETRY_BASE_MS=10): a lower bound only.
      const second = calls[1];
      const first = calls[0];
      expect(second && first && second.receivedAt - first.receivedAt).toBeGreaterThanOrEqual(RETRY_AFTER_MS - 5);
      // The configured key and the agent's model went out on every call.
      expect(calls.every((c) => c.apiKey === API_KEY && c.model === MODEL)).toBe(true);

      // Paid exactly once: the agent got the price, the buyer the rest of the escrow.
      const price = task.price ?? 0;
      const agent = task.agent;
      expect(price).toBeGreaterThan(0);
      expect(agent).not.toBeNull();
      expect(agent?.balance).toBe((before.get(agent?.id ?? '')?.balance ?? Number.NaN) + price);
      expect(agent?.tasksCompleted).toBe((before.get(agent?.id ?? '')?.tasksCompleted ?? Number.NaN) + 1);
      expect(await market.wallet(buyer.token)).toEqual({ balance: funds - price, escrowed: 0 });
      const ledger = await auditTask(server.databaseUrl, task.id);
      expect(ledger).toMatchObject({ payoutRows: 1, payoutsForTask: 1, escrowBalance: 0, ledgerSum: 0, negativeAccounts: [] });
      expect(task.events.filter((e) => e.status === 'COMPLETED')).toHaveLength(1);
    });
  });

  describe('failures that are not retried', () => {
    it('401 (the platform key is refused): one call, FAILED, the buyer refunded, and the agent not blamed', async () => {
      // The provider now expects another key, so ours is refused, as after a key rotation.
      fake.configure({ requiredApiKey: 'sk-rotated' });
      const prompt = uniquePrompt('Translate this sentence');

      const { task, buyer, before } = await runTask(prompt);

      expect(task.status).toBe('FAILED');
      expect(callsFor(prompt).map((c) => c.outcome)).toEqual([401]);
      expect(task.attempts).toBe(1);
      expect(task.error).toMatch(/401/);
      await expectFullRefund(task, buyer, 1_000_000);
      // retry-policy.ts: a refused key is the platform's problem (blame 'provider'), not the agent's.
      const agentBefore = before.get(task.agent?.id ?? '');
      expect(task.agent?.reputation).toBe(agentBefore?.reputation);
      expect(task.agent?.tasksFailed).toBe(agentBefore?.tasksFailed);
      // No retry can fix a refused key, so health says so at once, with the reason.
      const health = await market.aiHealth();
      expect(health.status).toBe('DEGRADED');
      expect(health.detail).toMatch(/401/);
    });

    it('400 (the request is refused): one call, FAILED, the buyer refunded, and it counts against the agent', async () => {
      fake.enqueue({ status: 400 });
      const prompt = uniquePrompt('A request the provider refuses');

      const { task, buyer, before } = await runTask(prompt);

      expect(task.status).toBe('FAILED');
      expect(callsFor(prompt).map((c) => c.outcome)).toEqual([400]);
      expect(task.attempts).toBe(1);
      expect(task.error).toMatch(/400/);
      await expectFullRefund(task, buyer, 1_000_000);
      // retry-policy.ts: a refused request (400) is the agent's doing (its model, its prompt size).
      const agentBefore = before.get(task.agent?.id ?? '');
      expect(task.agent?.tasksFailed).toBe((agentBefore?.tasksFailed ?? Number.NaN) + 1);
      expect(task.agent?.reputation).toBeCloseTo(Math.max(MIN_REPUTATION, (agentBefore?.reputation ?? Number.NaN) - REPUTATION_LOSS), 6);
    });
  });

  describe('exhausted retries', () => {
    it('a provider that always answers 500: FAILED after exactly 1 + AI_MAX_RETRIES calls, the buyer refunded, the agent not blamed', async () => {
      fake.configure({ errorRate: 1 });
      const prompts = [0, 1, 2].map(() => uniquePrompt('Doomed task'));

      // Three at once, so a retry of one task is never mistaken for another's.
      const runs = await Promise.all(prompts.map((p) => runTask(p)));

      for (const [index, { task, buyer, before }] of runs.entries()) {
        const calls = callsFor(prompts[index] ?? '');
        expect(task.status).toBe('FAILED');
        expect(calls).toHaveLength(1 + MAX_RETRIES);
        expect(calls.every((c) => c.outcome === 500)).toBe(true);
        expect(task.attempts).toBe(calls.length);
        expect(task.error).toMatch(/500/);
        await expectFullRefund(task, buyer, 1_000_000);
        // An upstream outage is not the agent's fault (DESIGN.md, Matching and pricing). Other tasks of
        // this test may have run on the same agent, but none counts against it.
        const agentBefore = before.get(task.agent?.id ?? '');
        expect(task.agent?.tasksFailed).toBe(agentBefore?.tasksFailed);
        expect(task.agent?.reputation).toBe(agentBefore?.reputation);
      }
      // Nothing is still retrying behind the final status.
      expect(fake.requests).toHaveLength(prompts.length * (1 + MAX_RETRIES));
    });
  });

  describe('health.ai', () => {
    it('reports the model and endpoint; DEGRADED with the reason after repeated failures; OK again after a success', async () => {
      const ok = await runTask(uniquePrompt('Warm-up'));
      expect(ok.task.status).toBe('COMPLETED');
      const healthy = await market.aiHealth();
      expect(healthy.status).toBe('OK');
      expect(healthy.detail).toContain(MODEL);
      expect(healthy.detail).toContain(fake.baseUrl);
      expect(healthy.latencyMs).not.toBeNull();

      fake.configure({ errorRate: 1 });
      const failed = await runTask(uniquePrompt('During the outage'));
      expect(failed.task.status).toBe('FAILED');
      const degraded = await market.aiHealth();
      expect(degraded.status).toBe('DEGRADED');
      expect(degraded.detail).toMatch(/500/);
      expect(degraded.detail).toContain(MODEL);
      expect(degraded.detail).toContain(fake.baseUrl);
      const overall = await server.gql<{ health: { status: string } }>('{ health { status } }');
      expect(overall.data?.health.status).toBe('DEGRADED');

      fake.configure({ errorRate: 0 });
      const recovered = await runTask(uniquePrompt('After the outage'));
      expect(recovered.task.status).toBe('COMPLETED');
      expect((await market.aiHealth()).status).toBe('OK');
    });
  });
});
