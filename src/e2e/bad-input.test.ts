/**
 * Bad input, field by field: each answer is the documented typed error (a ValidationError naming the
 * field, a top-level BAD_USER_INPUT from the Sats scalar, NotFoundError, ...) and nothing is written:
 * the caller's balance and escrow are unchanged and the database file is exactly as it was.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './harness.ts';
import { describeEachDialect } from './test-database.ts';
import { countRows, expectLedgerInvariants, snapshot } from './ledger-db.ts';

const ME = `query { me { balance escrowed } }`;
const SIGN_UP = `mutation ($input: SignUpInput!) {
  signUp(input: $input) { __typename ... on ValidationError { issues { path message } } ... on Error { message } }
}`;
const LOG_IN = `mutation ($input: LogInInput!) { logIn(input: $input) { __typename ... on Error { message } } }`;
const CREATE = `mutation ($input: CreateTaskInput!) {
  createTask(input: $input) { __typename ... on ValidationError { issues { path message } } ... on Error { message } }
}`;
const CREDIT = `mutation ($input: CreditAccountInput!) {
  creditAccount(input: $input) { __typename ... on ValidationError { issues { path message } } ... on Error { message } }
}`;
const CANCEL = `mutation ($id: ID!) { cancelTask(id: $id) { __typename ... on Error { message } } }`;
const REGISTER = `mutation ($input: RegisterAgentInput!) {
  registerAgent(input: $input) { __typename ... on ValidationError { issues { path message } } ... on Error { message } }
}`;

const FUNDS = 1_000_000;
const UNKNOWN_USER = Buffer.from('User:00000000-0000-7000-8000-000000000000').toString('base64');
const UNKNOWN_TASK = Buffer.from('Task:00000000-0000-7000-8000-000000000000').toString('base64');
const validTask = { title: 'A fine task', prompt: 'Summarise the news', complexity: 1, maxPrice: 1_000 };

describeEachDialect('bad input', (dialect) => {
  let server: TestServer;
  let admin: string;
  let buyer: { token: string; id: string; email: string };
  let operator: { token: string; id: string; email: string };
  let before: string;

  beforeAll(async () => {
    server = await startServer({ SEED_AGENTS: 'false' }, { dialect });
    admin = await server.adminToken();
    buyer = await server.signUp('BUYER');
    operator = await server.signUp('AGENT');
    await server.credit(buyer.id, FUNDS);
  });
  afterAll(async () => {
    await server?.stop();
  });
  beforeEach(async () => {
    before = await snapshot(server.databaseUrl);
  });

  /** Nothing was written: the buyer's money is where it was, no task exists, the file is unchanged. */
  async function expectNothingWritten(): Promise<void> {
    expect((await server.gql(ME, {}, buyer.token)).data?.me).toEqual({ balance: FUNDS, escrowed: 0 });
    expect(await countRows(server.databaseUrl, 'tasks')).toBe(0);
    expect(await snapshot(server.databaseUrl)).toBe(before);
    await expectLedgerInvariants(server.databaseUrl);
  }

  /** A top-level error from the Sats scalar: no data, extensions.code BAD_USER_INPUT. */
  function expectBadUserInput(res: { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] }, pattern: RegExp): void {
    expect(res.data ?? null).toBeNull();
    expect(res.errors).toHaveLength(1);
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.message).toMatch(pattern);
  }

  describe('signUp and logIn', () => {
    it.each([
      ['a malformed email', { email: 'not-an-email' }, ['input', 'email']],
      ['an empty email', { email: '' }, ['input', 'email']],
      ['a 7-character password', { password: 'short12' }, ['input', 'password']],
      ['role ADMIN', { role: 'ADMIN' }, ['input', 'role']],
    ])('refuses %s with a ValidationError on that field', async (_what, change, path) => {
      const res = await server.gql(SIGN_UP, { input: { email: `new-${Date.now()}@aicp.test`, password: 'long enough password', role: 'BUYER', ...change } });
      expect(res.data?.signUp.__typename).toBe('ValidationError');
      expect(res.data?.signUp.issues).toEqual([{ path, message: expect.any(String) }]);
      await expectNothingWritten();
    });

    it('refuses a taken email, whatever its case, with a ConflictError', async () => {
      for (const email of [buyer.email, buyer.email.toUpperCase(), `  ${buyer.email} `]) {
        const res = await server.gql(SIGN_UP, { input: { email, password: 'another password', role: 'AGENT' } });
        expect(res.data?.signUp.__typename).toBe('ConflictError');
      }
      await expectNothingWritten();
    });

    it('answers a wrong password and an unknown email alike with InvalidCredentialsError', async () => {
      const wrong = await server.gql(LOG_IN, { input: { email: buyer.email, password: 'not the password' } });
      const unknown = await server.gql(LOG_IN, { input: { email: 'nobody@aicp.test', password: 'correct horse battery' } });
      expect(wrong.data?.logIn.__typename).toBe('InvalidCredentialsError');
      expect(unknown.data?.logIn).toEqual(wrong.data?.logIn);
      await expectNothingWritten();
    });
  });

  describe('createTask', () => {
    it.each([
      ['complexity 0', { complexity: 0 }, 'complexity'],
      ['complexity 11', { complexity: 11 }, 'complexity'],
      ['an empty prompt', { prompt: '' }, 'prompt'],
      ['a whitespace prompt', { prompt: ' \n\t  ' }, 'prompt'],
      ['a 20,001-character prompt', { prompt: 'x'.repeat(20_001) }, 'prompt'],
      ['an empty title', { title: '' }, 'title'],
      ['a 201-character title', { title: 't'.repeat(201) }, 'title'],
      ['maxPrice 0', { maxPrice: 0 }, 'maxPrice'],
      ['an empty skill', { skills: ['writing', ''] }, 'skills'],
      ['an empty idempotencyKey', { idempotencyKey: '' }, 'idempotencyKey'],
    ])('refuses %s with a ValidationError on that field', async (_what, change, field) => {
      const res = await server.gql(CREATE, { input: { ...validTask, ...change } }, buyer.token);
      const payload = res.data?.createTask;
      expect(payload.__typename).toBe('ValidationError');
      expect(payload.issues.length).toBeGreaterThan(0);
      for (const issue of payload.issues as { path: string[] }[]) expect(issue.path.slice(0, 2)).toEqual(['input', field]);
      await expectNothingWritten();
    });

    it('reports every bad field of one input at once', async () => {
      const res = await server.gql(CREATE, { input: { title: ' ', prompt: '', maxPrice: 0, complexity: 11, skills: [''] } }, buyer.token);
      const fields = (res.data?.createTask.issues as { path: string[] }[]).map((issue) => issue.path[1]);
      expect(new Set(fields)).toEqual(new Set(['title', 'prompt', 'maxPrice', 'complexity', 'skills']));
      await expectNothingWritten();
    });

    it.each([
      ['a negative number', -1, /negative/],
      ['a fraction', 1.5, /whole/],
      ['2.1e15 + 1', 2_100_000_000_000_001, /exceed/],
      ['1e20', 1e20, /exceed/],
      ['a string', '1000', /number/],
    ])('refuses maxPrice given as %s in variables with BAD_USER_INPUT from the Sats scalar', async (_what, maxPrice, pattern) => {
      expectBadUserInput(await server.gql(CREATE, { input: { ...validTask, maxPrice } }, buyer.token), pattern);
      await expectNothingWritten();
    });

    it('refuses a negative or fractional maxPrice written in the query the same way', async () => {
      for (const literal of ['-5', '2.5']) {
        const query = `mutation { createTask(input: { title: "t", prompt: "p", maxPrice: ${literal} }) { __typename } }`;
        const res = await server.gql(query, {}, buyer.token);
        expect(res.data ?? null).toBeNull();
        expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      }
      await expectNothingWritten();
    });

    it('refuses more than the balance with InsufficientFundsError', async () => {
      const res = await server.gql(CREATE, { input: { ...validTask, maxPrice: FUNDS + 1 } }, buyer.token);
      expect(res.data?.createTask.__typename).toBe('InsufficientFundsError');
      await expectNothingWritten();
    });
  });

  describe('creditAccount', () => {
    const credit = (input: Record<string, unknown>) => server.gql(CREDIT, { input: { userId: buyer.id, amount: 500, reference: `r-${Date.now()}`, ...input } }, admin);

    it.each([
      ['-1', -1, /negative/],
      ['0.5', 0.5, /whole/],
      ['3e15', 3e15, /exceed/],
    ])('refuses amount %s with BAD_USER_INPUT from the Sats scalar', async (_what, amount, pattern) => {
      expectBadUserInput(await credit({ amount }), pattern);
      await expectNothingWritten();
    });

    it.each([
      ['amount 0', { amount: 0 }, ['input', 'amount']],
      ['a malformed userId', { userId: 'garbage' }, ['input', 'userId']],
      ['the ID of another type', { userId: UNKNOWN_TASK }, ['input', 'userId']],
      ['an empty reference', { reference: '  ' }, ['input', 'reference']],
    ])('refuses %s with a ValidationError on that field', async (_what, change, path) => {
      const res = await credit(change);
      expect(res.data?.creditAccount).toEqual({ __typename: 'ValidationError', message: expect.any(String), issues: [{ path, message: expect.any(String) }] });
      await expectNothingWritten();
    });

    it('answers an unknown but well-formed user id with NotFoundError', async () => {
      const res = await credit({ userId: UNKNOWN_USER });
      expect(res.data?.creditAccount.__typename).toBe('NotFoundError');
      await expectNothingWritten();
    });
  });

  describe('IDs', () => {
    it('cancelTask of a malformed, unknown or wrongly typed id is NotFoundError', async () => {
      for (const id of ['garbage', '', UNKNOWN_TASK, UNKNOWN_USER, buyer.id]) {
        const res = await server.gql(CANCEL, { id }, buyer.token);
        expect(res.data?.cancelTask.__typename, id).toBe('NotFoundError');
      }
      await expectNothingWritten();
    });

    it('task(id:) and node(id:) of garbage or unknown ids are null', async () => {
      for (const id of ['garbage', UNKNOWN_TASK, UNKNOWN_USER]) {
        const res = await server.gql(`query ($id: ID!) { task(id: $id) { id } node(id: $id) { id } }`, { id }, admin);
        expect(res.errors).toBeUndefined();
        expect(res.data).toEqual({ task: null, node: null });
      }
      await expectNothingWritten();
    });
  });

  describe('submitTaskResult', () => {
    const SUBMIT = `mutation ($input: SubmitTaskResultInput!) {
    submitTaskResult(input: $input) { __typename ... on ValidationError { issues { path message } } ... on Error { message } }
  }`;

    it.each([
      ['both result and error', { result: 'answer', error: 'failed' }],
      ['neither result nor error', {}],
    ])('refuses %s with a ValidationError', async (_what, change) => {
      const res = await server.gql(SUBMIT, { input: { taskId: UNKNOWN_TASK, ...change } }, operator.token);
      expect(res.data?.submitTaskResult).toMatchObject({ __typename: 'ValidationError', issues: [{ path: ['input', 'result'] }] });
      await expectNothingWritten();
    });

    it('answers a malformed or unknown task id with NotFoundError', async () => {
      for (const taskId of ['garbage', UNKNOWN_TASK]) {
        const res = await server.gql(SUBMIT, { input: { taskId, result: 'answer' } }, operator.token);
        expect(res.data?.submitTaskResult.__typename).toBe('NotFoundError');
      }
      await expectNothingWritten();
    });
  });

  describe('registerAgent', () => {
    it.each([
      ['an empty name', { name: '' }, 'name'],
      ['a whitespace name', { name: '   ' }, 'name'],
      ['maxConcurrency 0', { maxConcurrency: 0 }, 'maxConcurrency'],
      ['maxConcurrency 1001', { maxConcurrency: 1001 }, 'maxConcurrency'],
      ['askPerUnit 0', { askPerUnit: 0 }, 'askPerUnit'],
      ['an invalid skill', { skills: ['<script>'] }, 'skills'],
    ])('refuses %s with a ValidationError on that field', async (_what, change, field) => {
      const res = await server.gql(REGISTER, { input: { name: `agent-${Date.now()}`, ...change } }, operator.token);
      const payload = res.data?.registerAgent;
      expect(payload.__typename).toBe('ValidationError');
      for (const issue of payload.issues as { path: string[] }[]) expect(issue.path.slice(0, 2)).toEqual(['input', field]);
      expect(await countRows(server.databaseUrl, 'agents')).toBe(0);
      await expectNothingWritten();
    });
  });
});
