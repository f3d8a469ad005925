/**
 * The example EXTERNAL agent (scripts/example-agent) run in-process against a real server: answering
 * through an OpenAI-compatible provider (and reporting its refusal as the task's error), riding out a
 * server restart that invalidates its token, and stopping on problems no retry can fix.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runExampleAgent } from '../../scripts/example-agent/agent.ts';
import { type AgentLogger, silentLogger } from '../../scripts/example-agent/log.ts';
import { FatalAgentError } from '../../scripts/example-agent/session.ts';
import { startServer, type TestServer } from './harness.ts';
import { describeEachDialect } from './test-database.ts';
import { marketOps, type MarketOps, type TaskView } from './market-ops.ts';

interface ChatRequest {
  model: string;
  messages: { role: string; content: string }[];
}

/** The smallest OpenAI-compatible chat endpoint: echoes the prompt, or answers 400 when it says REFUSE. */
async function startStubProvider(): Promise<{ baseUrl: string; requests: ChatRequest[]; close(): Promise<void> }> {
  const requests: ChatRequest[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      const request = JSON.parse(body) as ChatRequest;
      requests.push(request);
      const prompt = request.messages.findLast((m) => m.role === 'user')?.content ?? '';
      res.setHeader('content-type', 'application/json');
      if (prompt.includes('REFUSE')) {
        res.writeHead(400).end(JSON.stringify({ error: { message: 'the stub refuses this prompt', type: 'invalid_request_error' } }));
        return;
      }
      const message = { role: 'assistant', content: `stub answer to: ${prompt}` };
      res.end(JSON.stringify({ id: 'chatcmpl-stub', object: 'chat.completion', created: 0, model: request.model, choices: [{ index: 0, message, finish_reason: 'stop' }] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function collectingLogger(): AgentLogger & { lines: string[] } {
  const lines: string[] = [];
  const push = (level: string) => (line: string) => void lines.push(`${level} ${line}`);
  return { lines, info: push('info'), warn: push('warn'), error: push('error') };
}

describeEachDialect('example agent', (dialect) => {
  let server: TestServer;
  let market: MarketOps;
  beforeAll(async () => {
    server = await startServer({ SEED_AGENTS: 'false', TASK_LEASE_SECONDS: '120' }, { dialect });
    market = marketOps(server.gql);
  });

  async function finished(token: string, taskId: string, what: string): Promise<TaskView> {
    return market.waitForTask(token, taskId, (task) => task.status === 'COMPLETED' || task.status === 'FAILED', 30_000, what);
  }
  afterAll(async () => {
    await server?.stop();
  });

  describe('the example agent', () => {
    it("answers through an OpenAI-compatible provider and reports the provider's refusal as the task's error", async () => {
      const provider = await startStubProvider();
      const operator = await server.signUp('AGENT');
      const buyer = await market.fundedBuyer(1_000_000);
      const controller = new AbortController();
      const running = runExampleAgent(
        {
          url: `${server.url}/graphql`,
          email: operator.email,
          password: 'correct horse battery',
          name: 'example-llm',
          skills: ['llm'],
          provider: { baseUrl: provider.baseUrl, model: 'stub-model' },
          log: silentLogger,
        },
        controller.signal,
      );
      try {
        const answered = await market.createTask(buyer.token, { skills: ['llm'], maxPrice: 500_000, prompt: 'Summarise the plot of Hamlet.' });
        expect(await finished(buyer.token, answered, 'the answered task')).toMatchObject({
          status: 'COMPLETED',
          result: 'stub answer to: Summarise the plot of Hamlet.',
          agent: { name: 'example-llm' },
        });
        const call = provider.requests.find((r) => r.messages.some((m) => m.content === 'Summarise the plot of Hamlet.'));
        expect(call?.model).toBe('stub-model');
        expect(call?.messages[0]).toMatchObject({ role: 'system', content: expect.stringContaining('example-llm') });

        const refused = await market.createTask(buyer.token, { skills: ['llm'], maxPrice: 500_000, prompt: 'REFUSE this one.' });
        const failed = await finished(buyer.token, refused, 'the refused task');
        expect(failed.status).toBe('FAILED');
        expect(failed.error).toMatch(/could not answer: 400/);
        // 400 is not retried by the client: one call.
        expect(provider.requests.filter((r) => r.messages.some((m) => m.content === 'REFUSE this one.'))).toHaveLength(1);
        expect(await market.readAgent(failed.agent?.id ?? '')).toMatchObject({ tasksCompleted: 1, tasksFailed: 1, activeTasks: 0 });
      } finally {
        controller.abort();
        await running;
        await provider.close();
      }
    });

    it('reconnects after the server restarts and signs in again when its token is refused', async () => {
      const operator = await server.signUp('AGENT');
      const buyer = await market.fundedBuyer(1_000_000);
      const log = collectingLogger();
      const controller = new AbortController();
      const running = runExampleAgent(
        { url: server.url, email: operator.email, password: 'correct horse battery', name: 'example-reconnect', skills: ['reconnect'], retryBaseMs: 50, log },
        controller.signal,
      );
      try {
        const before = await market.createTask(buyer.token, { skills: ['reconnect'], maxPrice: 500_000, prompt: 'Before the restart' });
        expect((await finished(buyer.token, before, 'the task before the restart')).status).toBe('COMPLETED');
        expect(log.lines.filter((line) => line.includes('signed in as'))).toHaveLength(1);

        // Same database and port, another signing key: the socket drops and every token issued so far is void.
        await server.restart({ JWT_SECRET: 'a-different-secret-that-is-long-enough-too' });
        const relogged = await server.gql('mutation ($input: LogInInput!) { logIn(input: $input) { ... on AuthPayload { token } } }', {
          input: { email: buyer.email, password: 'correct horse battery' },
        });
        const buyerToken = relogged.data?.logIn?.token as string;
        const after = await market.createTask(buyerToken, { skills: ['reconnect'], maxPrice: 500_000, prompt: 'After the restart' });
        const task = await finished(buyerToken, after, 'the task after the restart');
        expect(task).toMatchObject({ status: 'COMPLETED', agent: { name: 'example-reconnect' } });

        // It could only have received that task by signing in again: its old token is refused by the new key.
        expect(log.lines.filter((line) => line.includes('signed in as'))).toHaveLength(2);
        expect(log.lines.some((line) => line.startsWith('warn') && /UNAUTHENTICATED|Sign in again|token refused/.test(line))).toBe(true);
      } finally {
        controller.abort();
        await running;
      }
    });

    it('stops with a FatalAgentError when no retry can help: a wrong password, a buyer account', async () => {
      const buyer = await server.signUp('BUYER');
      const options = { url: server.url, name: 'example-never', retryBaseMs: 50, log: silentLogger };
      const signal = new AbortController().signal;
      await expect(runExampleAgent({ ...options, email: buyer.email, password: 'not the password' }, signal)).rejects.toThrow(FatalAgentError);
      await expect(runExampleAgent({ ...options, email: buyer.email, password: 'correct horse battery' }, signal)).rejects.toThrow(/role BUYER/);
    });
  });
});
