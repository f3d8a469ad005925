/**
 * NUL characters and lone UTF-16 surrogates in every kind of string input (issue 9, point 8): refused the
 * same way on SQLite and on PostgreSQL (which cannot store a NUL and used to answer with a 500), with a
 * ValidationError where the field's union has one and BAD_USER_INPUT elsewhere; nothing written. Runs
 * once per dialect (test-database.ts), then compares the two runs' answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './harness.ts';
import { dialectAvailable, describeEachDialect } from './test-database.ts';

const BAD = { NUL: 'a\u0000b', 'a lone high surrogate': 'a\uD800b', 'a lone low surrogate': 'a\uDC00b' };

/** Each call a client might make with bad text, and what the answer must say, whatever the database. */
const calls = (bad: string, cursor: string) => [
  {
    what: 'createTask title',
    query: 'mutation ($input: CreateTaskInput!) { createTask(input: $input) { __typename ... on ValidationError { issues { path } } } }',
    variables: { input: { title: bad, prompt: 'p', maxPrice: 10 } },
    as: 'buyer',
  },
  {
    what: 'createTask skills',
    query: 'mutation ($input: CreateTaskInput!) { createTask(input: $input) { __typename ... on ValidationError { issues { path } } } }',
    variables: { input: { title: 't', prompt: 'p', maxPrice: 10, skills: [bad] } },
    as: 'buyer',
  },
  {
    what: 'signUp email',
    query: 'mutation ($input: SignUpInput!) { signUp(input: $input) { __typename ... on ValidationError { issues { path } } } }',
    variables: { input: { email: `${bad}@aicp.test`, password: 'long enough password', role: 'BUYER' } },
    as: 'anonymous',
  },
  {
    what: 'registerAgent name',
    query: 'mutation ($input: RegisterAgentInput!) { registerAgent(input: $input) { __typename ... on ValidationError { issues { path } } } }',
    variables: { input: { name: bad } },
    as: 'operator',
  },
  { what: 'logIn email', query: 'mutation ($input: LogInInput!) { logIn(input: $input) { __typename } }', variables: { input: { email: bad, password: 'whatever' } }, as: 'anonymous' },
  { what: 'quote prompt', query: 'query ($input: QuoteInput!) { quote(input: $input) { complexity } }', variables: { input: { prompt: bad } }, as: 'anonymous' },
  { what: 'task id', query: 'query ($id: ID!) { task(id: $id) { id } }', variables: { id: bad }, as: 'buyer' },
  { what: 'tasks cursor', query: 'query ($after: String) { tasks(first: 5, after: $after) { totalCount } }', variables: { after: cursor }, as: 'buyer' },
];

/** Everything the bad calls answered, per database: the two must be equal and contain no 500. */
const answers: Record<string, unknown[]> = {};

describeEachDialect('bad text', (dialect) => {
  const name = dialect;
  let server: TestServer;
  const tokens: Record<string, string | undefined> = { anonymous: undefined };

  beforeAll(async () => {
    server = await startServer({ SEED_AGENTS: 'false' }, { dialect });
    tokens.buyer = (await server.signUp('BUYER')).token;
    tokens.operator = (await server.signUp('AGENT')).token;
  });
  afterAll(async () => {
    await server?.stop();
  });

  it.each(Object.entries(BAD))('refuses %s in every string input, and writes nothing', async (_kind, bad) => {
    const cursor = Buffer.from(`OffsetConnection:${bad}`).toString('base64');
    const seen: unknown[] = [];
    for (const call of calls(bad, cursor)) {
      const response = await fetch(server.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(tokens[call.as] && { authorization: `Bearer ${tokens[call.as]}` }) },
        body: JSON.stringify({ query: call.query, variables: call.variables }),
      });
      expect(response.status, call.what).toBe(200);
      const body = (await response.json()) as { data?: Record<string, { __typename?: string; issues?: unknown }> | null; errors?: { extensions?: { code?: string } }[] };
      const payload = body.data ? Object.values(body.data)[0] : undefined;
      const outcome = payload?.__typename === 'ValidationError' ? 'ValidationError' : body.errors?.map((e) => e.extensions?.code).join(',');
      expect(['ValidationError', 'BAD_USER_INPUT'], `${call.what}: ${JSON.stringify(body)}`).toContain(outcome);
      seen.push({ call: call.what, outcome, issues: payload?.issues });
    }
    const tasks = await server.gql('{ tasks(first: 5) { totalCount } }', {}, tokens.buyer);
    expect(tasks.data?.tasks.totalCount).toBe(0);
    answers[name] = [...(answers[name] ?? []), ...seen];
  });
});

describe.skipIf(!dialectAvailable.sqlite || !dialectAvailable.postgres)('both databases', () => {
  it('answered every bad call identically', () => {
    expect(answers.sqlite?.length).toBeGreaterThan(0);
    expect(answers.postgres).toEqual(answers.sqlite);
  });
});
