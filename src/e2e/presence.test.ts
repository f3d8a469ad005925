/**
 * Presence of EXTERNAL agents through the real server and the real example agent (a child process):
 * offered work only while its program listens; killed mid-task, its task returns to PENDING after the
 * short grace (not the 300 s lease) and a MANAGED agent does it; a later task is not offered to it. Plus
 * why a task waits (waitingReason) and the per-minute history (series) across a restart.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer, waitFor } from './harness.ts';
import { describeEachDialect } from './test-database.ts';
import { marketOps, type MarketOps } from './market-ops.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const AGENT = `query ($id: ID!) { agent(id: $id) { connected mode } }`;
const TASK = `query ($id: ID!) { task(id: $id) { status waitingReason agent { name mode } events { status message } } }`;
const SERIES = `query ($minutes: Int) { marketStats { series(minutes: $minutes) { at completed failed paid } } }`;

/** An OpenAI-compatible endpoint that never answers: the example agent holds its task while it waits. */
async function startSilentProvider(): Promise<{ baseUrl: string; close(): Promise<void> }> {
  const server: Server = createServer(() => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

describeEachDialect('presence', (dialect) => {
  let server: TestServer;
  let market: MarketOps;
  let provider: Awaited<ReturnType<typeof startSilentProvider>>;
  let program: ChildProcess | undefined;
  const output: string[] = [];

  beforeAll(async () => {
    // The lease is long (300 s): only the grace can bring a task back within the waits below.
    server = await startServer({ TASK_LEASE_SECONDS: '300', EXTERNAL_GRACE_SECONDS: '1' }, { dialect });
    market = marketOps(server.gql);
    provider = await startSilentProvider();
  });
  afterAll(async () => {
    program?.kill('SIGKILL');
    await provider?.close();
    await server?.stop();
  });

  /** `npm run agent`, as an operator would start it: a cheap EXTERNAL agent that wins every cheap task. */
  function startExampleAgent(email: string, name: string): ChildProcess {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'scripts/example-agent.ts', '--url', server.url, '--email', email, '--name', name, '--ask', '1000', '--openai-base-url', provider.baseUrl, '--openai-key', 'unused'],
      { cwd: root, env: { ...process.env, AICP_PASSWORD: 'correct horse battery' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    return child;
  }

  async function agentIdByName(name: string): Promise<string> {
    return waitFor(async () => (await market.agents()).find((a) => a.name === name)?.id, 30_000, `agent ${name} to be registered`);
  }

  describe('presence of an external agent', () => {
    it('offers work only while its program listens; killed, its task goes back after the grace and to a managed agent', async () => {
      const operator = await server.signUp('AGENT');
      const name = `presence-${Date.now()}`;
      program = startExampleAgent(operator.email, name);
      const agentId = await agentIdByName(name);
      await waitFor(async () => (await server.gql(AGENT, { id: agentId })).data?.agent.connected === true, 30_000, 'the agent to be connected');

      const buyer = await market.fundedBuyer();
      const held = await market.createTask(buyer.token, { title: 'Held by the external agent', maxPrice: 300_000 });
      const processing = await market.waitForTask(buyer.token, held, (t) => t.status === 'PROCESSING');
      expect((await server.gql(TASK, { id: held }, buyer.token)).data?.task.agent.name).toBe(name);
      expect(processing.status).toBe('PROCESSING');

      program.kill('SIGKILL');
      await waitFor(async () => (await server.gql(AGENT, { id: agentId })).data?.agent.connected === false, 10_000, 'the agent to be disconnected');
      const done = await market.waitForTask(buyer.token, held, (t) => t.status === 'COMPLETED', 30_000, 'the task to be redone by a managed agent');
      expect(done.status).toBe('COMPLETED');
      const view = (await server.gql(TASK, { id: held }, buyer.token)).data?.task;
      expect(view.agent.mode).toBe('MANAGED');
      expect(view.events.map((e: { status: string }) => e.status)).toEqual(['PENDING', 'ASSIGNED', 'PROCESSING', 'PENDING', 'ASSIGNED', 'PROCESSING', 'COMPLETED']);

      // While it is away, a cheap task goes to a managed agent although the external one asks far less.
      const later = await market.createTask(buyer.token, { title: 'While it is away', maxPrice: 300_000 });
      await market.waitForTask(buyer.token, later, (t) => t.status === 'COMPLETED');
      expect((await server.gql(TASK, { id: later }, buyer.token)).data?.task.agent.mode).toBe('MANAGED');
    });

    it('says goodbye on SIGTERM and disconnects at once', async () => {
      const operator = await server.signUp('AGENT');
      const name = `polite-${Date.now()}`;
      output.length = 0;
      const child = startExampleAgent(operator.email, name);
      const agentId = await agentIdByName(name);
      await waitFor(async () => (await server.gql(AGENT, { id: agentId })).data?.agent.connected === true, 30_000, 'the agent to be connected');
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(output.join('')).toMatch(/disconnected: the marketplace offers .* no new tasks/);
      expect((await server.gql(AGENT, { id: agentId })).data?.agent.connected).toBe(false);
    });

    it('a managed agent is always connected', async () => {
      const managed = (await market.agents()).find((a) => a.name === 'agent-1');
      expect((await server.gql(AGENT, { id: managed?.id })).data?.agent).toEqual({ connected: true, mode: 'MANAGED' });
    });
  });

  describe('waitingReason', () => {
    it('says which rule keeps a PENDING task waiting, and nothing once it has moved on', async () => {
      const buyer = await market.fundedBuyer();
      const rust = await market.createTask(buyer.token, { title: 'Needs rust', skills: ['rust'], maxPrice: 300_000 });
      expect((await server.gql(TASK, { id: rust }, buyer.token)).data?.task.waitingReason).toBe('No online agent has the skill "rust".');
      const cheap = await market.createTask(buyer.token, { title: 'Too cheap', maxPrice: 10 });
      expect((await server.gql(TASK, { id: cheap }, buyer.token)).data?.task.waitingReason).toMatch(/^Every agent that fits asks more than your max price of 10 sat \(the cheapest would charge \d{1,3}(,\d{3})* sat at complexity 1\)/);
      const fine = await market.createTask(buyer.token, { title: 'Fine', maxPrice: 300_000 });
      await market.waitForTask(buyer.token, fine, (t) => t.status === 'COMPLETED');
      expect((await server.gql(TASK, { id: fine }, buyer.token)).data?.task.waitingReason).toBeNull();
    });
  });

  describe('series', () => {
    it('has one entry per minute, oldest first, with what completed, and keeps it across a restart', async () => {
      const read = async (minutes: number) => (await server.gql(SERIES, { minutes })).data?.marketStats.series as { at: string; completed: number; failed: number; paid: number }[];
      const series = await read(30);
      expect(series).toHaveLength(30);
      const times = series.map((m) => Date.parse(m.at));
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBe(60_000);
      expect(times.at(-1)).toBe(Math.floor(Date.now() / 60_000) * 60_000);
      const completed = (await server.gql('{ marketStats { tasksByStatus { status count } totalPaid } }')).data?.marketStats;
      const total = (list: typeof series, key: 'completed' | 'paid') => list.reduce((sum, m) => sum + m[key], 0);
      // Everything in this file finished within the last 30 minutes.
      expect(total(series, 'completed')).toBe(completed.tasksByStatus.find((s: { status: string }) => s.status === 'COMPLETED').count);
      expect(total(series, 'paid')).toBe(completed.totalPaid);
      expect(await read(1440)).toHaveLength(1440);
      expect(await read(5000)).toHaveLength(1440);

      await server.restart();
      const after = await read(30);
      expect(total(after, 'completed')).toBe(total(series, 'completed'));
      expect(total(after, 'paid')).toBe(total(series, 'paid'));
    });
  });
});
