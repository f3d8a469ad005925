/**
 * Rate limits per identity (issue 9, point 5), each on a real server with small limits: failed logIn per
 * email and per address, signUp per address, createTask per buyer, expensive queries per address. A
 * limited call is RATE_LIMITED with retryAfter (HTTP 429 over HTTP) and changes nothing. The last test
 * runs two instances on the local Redis (a key prefix of this run's own): the limit holds across both.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GraphQLResponse, startServer, type TestServer } from './harness.ts';
import { countRows } from './ledger-db.ts';
import { redisAvailable, redisUrl, uniqueName } from './test-services.ts';

const LOG_IN = 'mutation ($input: LogInInput!) { logIn(input: $input) { __typename } }';
const SIGN_UP = 'mutation ($input: SignUpInput!) { signUp(input: $input) { __typename } }';
const CREATE = 'mutation ($input: CreateTaskInput!) { createTask(input: $input) { __typename } }';

async function post(server: TestServer, query: string, variables: Record<string, unknown>, token?: string): Promise<{ status: number; retryAfter: string | null; body: GraphQLResponse<any> }> {
  const response = await fetch(server.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as GraphQLResponse<any> };
}

function expectLimited(res: { status: number; retryAfter: string | null; body: GraphQLResponse }): void {
  expect(res.status).toBe(429);
  expect(res.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
  const retryAfter = res.body.errors?.[0]?.extensions?.retryAfter as number;
  expect(retryAfter).toBeGreaterThan(0);
  expect(res.retryAfter).toBe(String(retryAfter));
}

const wrongPassword = (email: string) => ({ input: { email, password: 'not the password' } });

describe('on one instance', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({
      SEED_AGENTS: 'false',
      RATE_LIMIT_LOGIN_EMAIL: '3/1m',
      RATE_LIMIT_LOGIN_IP: '6/1m',
      RATE_LIMIT_SIGNUP_IP: '8/1m',
      RATE_LIMIT_CREATE_TASK: '3/1m',
      RATE_LIMIT_EXPENSIVE_IP: '3/1m',
    });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('throttles failed logIns per email, even with the right password then, and per address across emails', async () => {
    const victim = await server.signUp('BUYER');
    for (let i = 0; i < 3; i++) expect((await post(server, LOG_IN, wrongPassword(victim.email))).body.data?.logIn.__typename).toBe('InvalidCredentialsError');
    expectLimited(await post(server, LOG_IN, wrongPassword(victim.email)));
    expectLimited(await post(server, LOG_IN, { input: { email: victim.email, password: 'correct horse battery' } }));
    // Another email from the same address: three more failures use up the address's six.
    for (let i = 0; i < 3; i++) expect((await post(server, LOG_IN, wrongPassword(`other${i}@aicp.test`))).body.data?.logIn.__typename).toBe('InvalidCredentialsError');
    expectLimited(await post(server, LOG_IN, wrongPassword('yet-another@aicp.test')));
  });

  it('throttles signUp per address, creating nobody once limited', async () => {
    const results = [];
    for (let i = 0; i < 10; i++) results.push(await post(server, SIGN_UP, { input: { email: `flood${i}-${Date.now()}@aicp.test`, password: 'long enough pw', role: 'BUYER' } }));
    // The first test signed up one user (victim) from this address: 7 more fit.
    expect(results.filter((r) => r.body.data?.signUp?.__typename === 'AuthPayload')).toHaveLength(7);
    const users = await countRows(server.databaseUrl, 'users');
    expectLimited(results[9]!);
    expectLimited(await post(server, SIGN_UP, { input: { email: `late-${Date.now()}@aicp.test`, password: 'long enough pw', role: 'BUYER' } }));
    expect(await countRows(server.databaseUrl, 'users')).toBe(users);
  });

  it('throttles createTask per buyer, not the next buyer', async () => {
    const restarted = server;
    await restarted.restart({ RATE_LIMIT_SIGNUP_IP: 'off' });
    const [a, b] = [await restarted.signUp('BUYER'), await restarted.signUp('BUYER')];
    for (const buyer of [a, b]) await restarted.credit(buyer.id, 100_000);
    const input = { input: { title: 't', prompt: 'p', maxPrice: 100, skills: ['nobody-has-this'] } };
    for (let i = 0; i < 3; i++) expect((await post(restarted, CREATE, input, a.token)).body.data?.createTask.__typename).toBe('Task');
    const tasks = await countRows(restarted.databaseUrl, 'tasks');
    expectLimited(await post(restarted, CREATE, input, a.token));
    expect(await countRows(restarted.databaseUrl, 'tasks')).toBe(tasks);
    expect((await post(restarted, CREATE, input, b.token)).body.data?.createTask.__typename).toBe('Task');
  });

  it('throttles expensive queries per address, and only those', async () => {
    const quote = { input: { prompt: 'Summarise the news' } };
    for (let i = 0; i < 3; i++) expect((await post(server, 'query ($input: QuoteInput!) { quote(input: $input) { complexity } }', quote)).body.errors).toBeUndefined();
    expectLimited(await post(server, 'query ($input: QuoteInput!) { quote(input: $input) { complexity } }', quote));
    expectLimited(await post(server, '{ agents(first: 100) { edges { node { id name skills model askPerUnit reputation successRate earnings tasksCompleted tasksFailed status mode } } } }', {}));
    // A cheap query is not counted.
    expect((await post(server, '{ agents(first: 5) { totalCount } }', {})).body.errors).toBeUndefined();
  });
});

const redis = await redisAvailable();

describe.skipIf(!redis)('across two instances on one Redis', () => {
  let first: TestServer;
  let second: TestServer;
  beforeAll(async () => {
    const env = { REDIS_URL: redisUrl, REDIS_PREFIX: `${uniqueName('aicp_rl')}:`, SEED_AGENTS: 'false', RATE_LIMIT_LOGIN_EMAIL: '4/1m' };
    first = await startServer(env);
    second = await startServer(env, { database: first.database });
  });
  afterAll(async () => {
    await second?.stop();
    await first?.stop();
  });

  it('counts failed logIns for one email on both instances together', async () => {
    const email = `shared-${Date.now()}@aicp.test`;
    for (const server of [first, second, first, second]) expect((await post(server, LOG_IN, wrongPassword(email))).body.data?.logIn.__typename).toBe('InvalidCredentialsError');
    expectLimited(await post(first, LOG_IN, wrongPassword(email)));
    expectLimited(await post(second, LOG_IN, wrongPassword(email)));
  });
});
