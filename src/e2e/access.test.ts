/**
 * Who may do what, over HTTP. Every operation that needs a role is called anonymously (UNAUTHENTICATED),
 * with the wrong role (FORBIDDEN) and by a stranger who has the role but not the thing (FORBIDDEN, or
 * null where the contract hides what you may not read). After each refusal the database file is
 * unchanged. The agents are EXTERNAL, so assigned tasks wait in PROCESSING and nothing moves by itself.
 */
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer, waitFor } from './harness.ts';
import { subscribeWs } from './live-clients.ts';
import { describeEachDialect } from './test-database.ts';
import { expectLedgerInvariants, localIdOf, snapshot } from './ledger-db.ts';
import { listenForAssignments, type LiveStream } from './live-clients.ts';

const CREATE = `mutation ($input: CreateTaskInput!) { createTask(input: $input) { __typename ... on Task { id status } ... on Error { message } } }`;
const CANCEL = `mutation ($id: ID!) { cancelTask(id: $id) { __typename ... on Task { status } ... on Error { message } } }`;
const REGISTER = `mutation ($input: RegisterAgentInput!) { registerAgent(input: $input) { __typename ... on Agent { id name } ... on Error { message } } }`;
const UPDATE = `mutation ($input: UpdateAgentInput!) { updateAgent(input: $input) { __typename ... on Agent { status } ... on Error { message } } }`;
const CREDIT = `mutation ($input: CreditAccountInput!) { creditAccount(input: $input) { __typename ... on Error { message } } }`;
const SUBMIT = `mutation ($input: SubmitTaskResultInput!) { submitTaskResult(input: $input) { __typename ... on Task { status } ... on Error { message } } }`;
const TASKS = `query { tasks(first: 50) { totalCount edges { node { id } } } }`;
const TASK = `query ($id: ID!) { task(id: $id) { id status } node(id: $id) { id } }`;
const ME = `query { me { id balance escrowed } }`;

type User = { token: string; id: string; email: string };
type Call = { query: string; variables: Record<string, unknown> };

describeEachDialect('access', (dialect) => {
  let server: TestServer;
  let admin: string;
  let buyerA: User;
  let buyerB: User;
  let operatorA: User;
  let operatorB: User;
  let agentA: string;
  let agentB: string;
  /** taskA (buyer A, agent A, PROCESSING), taskB (buyer B, agent B, PROCESSING), pendingA (buyer A, no agent fits). */
  const tasks = { taskA: '', taskB: '', pendingA: '' };
  const listeners: LiveStream<unknown>[] = [];

  async function registerExternal(operator: User, name: string, skill: string): Promise<string> {
    const res = await server.gql(REGISTER, { input: { name, skills: [skill], mode: 'EXTERNAL', askPerUnit: 1_000 } }, operator.token);
    expect(res.data?.registerAgent.__typename).toBe('Agent');
    return res.data?.registerAgent.id;
  }

  async function post(buyer: User, skill: string): Promise<string> {
    const res = await server.gql(CREATE, { input: { title: `Needs ${skill}`, prompt: 'Work', skills: [skill], complexity: 1, maxPrice: 10_000 } }, buyer.token);
    expect(res.data?.createTask.__typename).toBe('Task');
    return res.data?.createTask.id;
  }

  beforeAll(async () => {
    server = await startServer({ SEED_AGENTS: 'false' }, { dialect });
    admin = await server.adminToken();
    [buyerA, buyerB, operatorA, operatorB] = await Promise.all([server.signUp('BUYER'), server.signUp('BUYER'), server.signUp('AGENT'), server.signUp('AGENT')]);
    await server.credit(buyerA.id, 100_000);
    await server.credit(buyerB.id, 100_000);
    agentA = await registerExternal(operatorA, 'external-a', 'alpha');
    agentB = await registerExternal(operatorB, 'external-b', 'beta');
    // Connected agents only are offered work: their operators listen for the whole file.
    listeners.push(listenForAssignments(server, agentA, operatorA.token), listenForAssignments(server, agentB, operatorB.token));
    tasks.taskA = await post(buyerA, 'alpha');
    tasks.taskB = await post(buyerB, 'beta');
    tasks.pendingA = await post(buyerA, 'gamma');
    for (const [id, buyer] of [[tasks.taskA, buyerA], [tasks.taskB, buyerB]] as const) {
      await waitFor(async () => (await server.gql(TASK, { id }, buyer.token)).data?.task?.status === 'PROCESSING', 15_000, 'assignment');
    }
  });
  afterAll(async () => {
    await Promise.all(listeners.map((listener) => listener.close()));
    await server?.stop();
  });

  /** Run a call that must be refused with a top-level error of `code`, and check that nothing was written. */
  async function expectRefused(call: Call, token: string | undefined, code: 'UNAUTHENTICATED' | 'FORBIDDEN'): Promise<void> {
    const before = await snapshot(server.databaseUrl);
    const res = await server.gql(call.query, call.variables, token);
    expect(res.errors?.map((e) => e.extensions?.code), JSON.stringify(res)).toEqual([code]);
    expect(res.data ?? null).toBeNull();
    expect(await snapshot(server.databaseUrl)).toBe(before);
  }

  const calls = {
    createTask: (): Call => ({ query: CREATE, variables: { input: { title: 'Sneaky', prompt: 'Work', complexity: 1, maxPrice: 1_000 } } }),
    cancelTask: (): Call => ({ query: CANCEL, variables: { id: tasks.pendingA } }),
    registerAgent: (): Call => ({ query: REGISTER, variables: { input: { name: `intruder-${Date.now()}` } } }),
    updateAgent: (): Call => ({ query: UPDATE, variables: { input: { id: agentA, status: 'PAUSED' } } }),
    creditAccount: (): Call => ({ query: CREDIT, variables: { input: { userId: buyerA.id, amount: 1_000_000, reference: `steal-${Date.now()}` } } }),
    submitTaskResult: (): Call => ({ query: SUBMIT, variables: { input: { taskId: tasks.taskA, result: 'forged' } } }),
    tasks: (): Call => ({ query: TASKS, variables: {} }),
  };

  describe('anonymous callers', () => {
    it.each(Object.keys(calls) as (keyof typeof calls)[])('%s: UNAUTHENTICATED, nothing written', async (name) => {
      await expectRefused(calls[name](), undefined, 'UNAUTHENTICATED');
    });

    it('me is null, and task(id) and node(id) of a real task are null', async () => {
      const res = await server.gql(`query ($id: ID!) { me { id } task(id: $id) { id } node(id: $id) { id } }`, { id: tasks.taskA });
      expect(res).toEqual({ data: { me: null, task: null, node: null } });
    });
  });

  describe('expired, forged and garbage tokens', () => {
    const sign = async (claims: { sub: string; role: string; secret?: string; exp?: number }) => {
      const { jwt } = server.app.services.config;
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ role: claims.role })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(claims.sub)
        .setIssuedAt(now - 7_200)
        .setExpirationTime(claims.exp ?? now - 3_600)
        .setIssuer(jwt.issuer)
        .setAudience(jwt.audience)
        .sign(new TextEncoder().encode(claims.secret ?? jwt.secret));
    };

    it('an expired token: UNAUTHENTICATED, saying it expired', async () => {
      const expired = await sign({ sub: localIdOf(buyerA.id), role: 'BUYER' });
      await expectRefused(calls.createTask(), expired, 'UNAUTHENTICATED');
      const res = await server.gql(CREATE, calls.createTask().variables, expired);
      expect(res.errors?.[0]?.message).toMatch(/expired/);
      expect((await server.gql(ME, {}, expired)).data?.me).toBeNull();
    });

    it('a token signed with another key, claiming ADMIN: UNAUTHENTICATED', async () => {
      const forged = await sign({ sub: localIdOf(buyerA.id), role: 'ADMIN', secret: 'another-secret-that-is-long-enough-too', exp: Math.floor(Date.now() / 1000) + 600 });
      await expectRefused(calls.creditAccount(), forged, 'UNAUTHENTICATED');
    });

    it('an unsigned (alg: none) token: UNAUTHENTICATED', async () => {
      const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
      const exp = Math.floor(Date.now() / 1000) + 600;
      const unsigned = `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ sub: localIdOf(buyerA.id), role: 'ADMIN', iat: exp - 600, exp, iss: 'aicp', aud: 'aicp-api' })}.`;
      await expectRefused(calls.creditAccount(), unsigned, 'UNAUTHENTICATED');
    });

    it.each(['garbage', 'a.b.c', ''])('the token "%s": UNAUTHENTICATED', async (token) => {
      await expectRefused(calls.createTask(), token || ' ', 'UNAUTHENTICATED');
    });

    it("a real token whose payload was changed to claim ADMIN: UNAUTHENTICATED", async () => {
      const [header, payload, signature] = operatorA.token.split('.');
      const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
      const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, role: 'ADMIN' })).toString('base64url')}.${signature}`;
      await expectRefused(calls.creditAccount(), tampered, 'UNAUTHENTICATED');
    });

    it('an Authorization header that is not Bearer: UNAUTHENTICATED', async () => {
      const before = await snapshot(server.databaseUrl);
      const response = await fetch(server.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` },
        body: JSON.stringify({ query: CREATE, variables: calls.createTask().variables }),
      });
      const body = (await response.json()) as { errors?: { extensions?: { code?: string } }[] };
      expect(body.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
      expect(await snapshot(server.databaseUrl)).toBe(before);
    });
  });

  describe('the wrong role', () => {
    it.each([
      ['createTask', 'an operator', () => operatorA.token],
      ['createTask', 'an admin', () => admin],
      ['registerAgent', 'a buyer', () => buyerA.token],
      ['registerAgent', 'an admin', () => admin],
      ['creditAccount', 'a buyer', () => buyerA.token],
      ['creditAccount', 'an operator', () => operatorA.token],
      ['submitTaskResult', 'a buyer', () => buyerA.token],
      ['updateAgent', 'a buyer', () => buyerA.token],
      ['cancelTask', 'an operator', () => operatorA.token],
    ] as const)('%s by %s: FORBIDDEN, nothing written', async (name, _who, token) => {
      await expectRefused(calls[name](), token(), 'FORBIDDEN');
    });
  });

  describe('strangers', () => {
    it('another buyer cannot cancel my task: for them it does not exist, and it stays PENDING with its escrow', async () => {
      // One rule for every task mutation (task/access.ts): a task you may not read is NotFoundError, as in submitTaskResult.
      const before = await snapshot(server.databaseUrl);
      const stranger = await server.gql(CANCEL, calls.cancelTask().variables, buyerB.token);
      expect(stranger.data?.cancelTask.__typename).toBe('NotFoundError');
      expect(await snapshot(server.databaseUrl)).toBe(before);
      expect((await server.gql(TASK, { id: tasks.pendingA }, buyerA.token)).data?.task.status).toBe('PENDING');
      await expectLedgerInvariants(server.databaseUrl);
    });

    it('another operator cannot change my agent: FORBIDDEN, and it stays ONLINE', async () => {
      await expectRefused(calls.updateAgent(), operatorB.token, 'FORBIDDEN');
      const agent = await server.gql(`query ($id: ID!) { agent(id: $id) { status } }`, { id: agentA });
      expect(agent.data?.agent.status).toBe('ONLINE');
    });

    it("another operator cannot answer for my agent's task; an admin cannot either", async () => {
      const before = await snapshot(server.databaseUrl);
      // The task is not visible to operator B, so for B it does not exist.
      const stranger = await server.gql(SUBMIT, calls.submitTaskResult().variables, operatorB.token);
      expect(stranger.data?.submitTaskResult.__typename).toBe('NotFoundError');
      expect(await snapshot(server.databaseUrl)).toBe(before);
      await expectRefused(calls.submitTaskResult(), admin, 'FORBIDDEN');
      expect((await server.gql(TASK, { id: tasks.taskA }, operatorA.token)).data?.task.status).toBe('PROCESSING');
    });

    it("task(id) and node(id) of someone else's task are null", async () => {
      for (const token of [buyerB.token, operatorB.token]) {
        const res = await server.gql(TASK, { id: tasks.taskA }, token);
        expect(res).toEqual({ data: { task: null, node: null } });
      }
      // ...and visible to its buyer, the operator of its agent, and an admin.
      for (const token of [buyerA.token, operatorA.token, admin]) {
        const res = await server.gql(TASK, { id: tasks.taskA }, token);
        expect(res.data).toEqual({ task: { id: tasks.taskA, status: 'PROCESSING' }, node: { id: tasks.taskA } });
      }
    });

    it("node(id) of another user is null; a user's own is not", async () => {
      expect((await server.gql(`query ($id: ID!) { node(id: $id) { id } }`, { id: buyerA.id }, buyerB.token)).data?.node).toBeNull();
      expect((await server.gql(`query ($id: ID!) { node(id: $id) { id } }`, { id: buyerA.id }, buyerA.token)).data?.node).toEqual({ id: buyerA.id });
    });

    it('tasks() lists a buyer only their own, an operator only their agents\', an admin all', async () => {
      const listed = async (token: string) => {
        const res = await server.gql(TASKS, {}, token);
        const ids = (res.data?.tasks.edges as { node: { id: string } }[]).map((e) => e.node.id);
        expect(res.data?.tasks.totalCount).toBe(ids.length);
        return new Set(ids);
      };
      expect(await listed(buyerA.token)).toEqual(new Set([tasks.taskA, tasks.pendingA]));
      expect(await listed(buyerB.token)).toEqual(new Set([tasks.taskB]));
      expect(await listed(operatorA.token)).toEqual(new Set([tasks.taskA]));
      expect(await listed(operatorB.token)).toEqual(new Set([tasks.taskB]));
      expect(await listed(admin)).toEqual(new Set([tasks.taskA, tasks.taskB, tasks.pendingA]));
    });

    it("another user's balance is not shown through a task's buyer", async () => {
      const res = await server.gql(`query ($id: ID!) { task(id: $id) { buyer { email balance escrowed } } }`, { id: tasks.taskA }, operatorA.token);
      expect(res.data?.task.buyer).toEqual({ email: expect.stringMatching(/^\w\*\*\*@/), balance: 0, escrowed: 0 });
      const own = (await server.gql(ME, {}, buyerA.token)).data?.me;
      expect(own).toMatchObject({ balance: 100_000 - 20_000, escrowed: 20_000 });
    });
  });

  describe('private fields and subscriptions', () => {
    it("an agent's system prompt and wallet: its operator and admins see them, others get null and an empty list", async () => {
      const secret = await server.gql(UPDATE, { input: { id: agentA, systemPrompt: 'the secret sauce' } }, operatorA.token);
      expect(secret.data?.updateAgent.__typename).toBe('Agent');
      const AGENT = `query ($id: ID!) { agent(id: $id) { systemPrompt transfers { totalCount } } }`;
      for (const token of [operatorA.token, admin]) {
        expect((await server.gql(AGENT, { id: agentA }, token)).data?.agent.systemPrompt).toBe('the secret sauce');
      }
      for (const token of [operatorB.token, buyerA.token, undefined]) {
        expect((await server.gql(AGENT, { id: agentA }, token)).data?.agent).toEqual({ systemPrompt: null, transfers: { totalCount: 0 } });
      }
    });

    it("taskUpdated of someone else's task: NOT_FOUND; agentAssignments of someone else's agent: FORBIDDEN; anonymous: UNAUTHENTICATED", async () => {
      const UPDATED = `subscription ($id: ID!) { taskUpdated(id: $id) { id status } }`;
      const ASSIGNMENTS = `subscription ($agentId: ID!) { agentAssignments(agentId: $agentId) { id } }`;
      const codes = async (query: string, variables: Record<string, unknown>, token?: string) => {
        const stream = subscribeWs(server, query, variables, token);
        try {
          await stream.ending();
          return stream.errorCodes;
        } finally {
          await stream.close();
        }
      };
      for (const token of [buyerB.token, operatorB.token]) expect(await codes(UPDATED, { id: tasks.taskA }, token)).toEqual(['NOT_FOUND']);
      expect(await codes(UPDATED, { id: tasks.taskA })).toEqual(['UNAUTHENTICATED']);
      expect(await codes(ASSIGNMENTS, { agentId: agentA }, operatorB.token)).toEqual(['FORBIDDEN']);
      expect(await codes(ASSIGNMENTS, { agentId: agentA }, admin)).toEqual(['FORBIDDEN']);
      expect(await codes(`subscription { accountUpdated { id } }`, {})).toEqual(['UNAUTHENTICATED']);
    });
  });

  // Last, because it changes what the tests above rely on: the refusals were not a broken mutation.
  describe('the rightful caller, for contrast', () => {
    it("the operator of a task's agent may submit its result: COMPLETED, agent paid, rest refunded", async () => {
      const res = await server.gql(SUBMIT, { input: { taskId: tasks.taskA, result: 'the real answer' } }, operatorA.token);
      expect(res.data?.submitTaskResult).toEqual({ __typename: 'Task', status: 'COMPLETED' });
      const agent = await server.gql(`query ($id: ID!) { agent(id: $id) { balance earnings tasksCompleted } }`, { id: agentA });
      expect(agent.data?.agent).toEqual({ balance: 1_000, earnings: 1_000, tasksCompleted: 1 });
      expect((await server.gql(ME, {}, buyerA.token)).data?.me).toMatchObject({ balance: 100_000 - 10_000 - 1_000, escrowed: 10_000 });
      await expectLedgerInvariants(server.databaseUrl);
    });
  });
});
