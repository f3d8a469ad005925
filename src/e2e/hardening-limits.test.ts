/**
 * A hostile client against a production-mode server (issue 9, points 1, 2, 3 and 8): operation limits on
 * every transport, no introspection or suggestions, CSRF and CORS, and a code on every error. Each bomb is
 * refused with one coded error before any resolver runs (the database file is unchanged), and the server
 * answers normally right after.
 */
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GraphQLResponse, startServer, type TestServer } from './harness.ts';
import { describeEachDialect } from './test-database.ts';
import { snapshot } from './ledger-db.ts';
import { closeAfterEach, subscribeSse, subscribeWs } from './live-clients.ts';

describeEachDialect('limits hardening', (dialect) => {
  let server: TestServer;
  let buyer: { token: string; id: string };
  const track = closeAfterEach();

  beforeAll(async () => {
    server = await startServer({ NODE_ENV: 'production' }, { dialect });
    buyer = await server.signUp('BUYER');
    await server.credit(buyer.id, 1_000_000);
    await server.gql(`mutation { createTask(input: { title: "t", prompt: "p", maxPrice: 1000, skills: ["nobody-has-this"] }) { __typename } }`, {}, buyer.token);
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function post(body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: GraphQLResponse; headers: Headers }> {
    const response = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as GraphQLResponse, headers: response.headers };
  }

  /** One error, with this code; no data. */
  function expectRefused(res: GraphQLResponse, code: string, message?: RegExp): void {
    expect(res.data ?? null).toBeNull();
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual([code]);
    if (message) expect(res.errors?.[0]?.message).toMatch(message);
  }

  const events9Deep = (() => {
    let selection = 'id';
    for (let i = 0; i < 9; i++) selection = `events { task { ${selection} } }`;
    return `{ tasks(first: 100) { edges { node { ${selection} } } } }`;
  })();
  const deep1000 = `{ tasks { edges { node { ${'events { task { '.repeat(500)}id${' } }'.repeat(500)} } } } }`;
  const aliases1000 = `{ ${Array.from({ length: 1000 }, (_, i) => `a${i}: agents(first: 100) { edges { node { id name } } }`).join(' ')} }`;

  describe('operation limits, before anything runs', () => {
    it.each([
      ['1,000 aliased agents(first: 100) lists', aliases1000, /limit/i],
      ['Task.events.task nested nine deep', events9Deep, /depth limit of 8/],
      ['a query nested 1,000 levels deep', deep1000, /depth limit of 8/],
      ['16 aliases', `{ ${Array.from({ length: 16 }, (_, i) => `a${i}: __typename`).join(' ')} }`, /aliases limit of 15/i],
      ['11 directives', `{ ${Array.from({ length: 11 }, (_, i) => `a${i}: __typename @include(if: true)`).join(' ')} }`, /directives limit of 10/i],
      ['a list cost above the limit, with the page size in a variable', 'query ($n: Int) { a: agents(first: $n) { edges { node { id skills } } } b: agents(first: $n) { edges { node { id skills } } } c: tasks(first: $n) { edges { node { skills events { task { events { id } } } } } } }', /cost limit of 5000/],
    ])('refuses %s with one QUERY_TOO_COMPLEX error, over HTTP', async (_what, query, message) => {
      const before = await snapshot(server.databaseUrl);
      const res = await post({ query, variables: { n: 100 } }, { authorization: `Bearer ${buyer.token}` });
      expect(res.status).toBeLessThan(500);
      expectRefused(res.body, 'QUERY_TOO_COMPLEX', message);
      expect(await snapshot(server.databaseUrl)).toBe(before);
    });

    it('answers the same page size when it fits the cost limit', async () => {
      const res = await post({ query: 'query ($n: Int) { agents(first: $n) { edges { node { id } } } }', variables: { n: 100 } });
      expect(res.body.errors).toBeUndefined();
    });

    it('refuses the bombs over graphql-ws and SSE too, with the same code', async () => {
      const subscription = `subscription { taskEvents { task { ${'events { task { '.repeat(10)}id${' } }'.repeat(10)} } } }`;
      const ws = track(subscribeWs(server, subscription, {}, buyer.token));
      await ws.ending();
      expect(ws.errorCodes).toEqual(['QUERY_TOO_COMPLEX']);
      const wsQuery = track(subscribeWs(server, deep1000, {}, buyer.token));
      await wsQuery.ending();
      expect(wsQuery.errorCodes).toEqual(['QUERY_TOO_COMPLEX']);
      const sse = track(subscribeSse(server, subscription, {}, buyer.token));
      await sse.ending();
      expect(sse.errorCodes).toEqual(['QUERY_TOO_COMPLEX']);
    });

    it('refuses a body over 1 MB with 413, and a WebSocket message over 1 MB by closing the socket', async () => {
      const res = await post({ query: '{ __typename }', padding: 'x'.repeat(1_100_000) });
      expect(res.status).toBe(413);
      expect(res.body.errors?.[0]?.extensions?.code).toBe('REQUEST_ENTITY_TOO_LARGE');

      const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
      await new Promise((resolve) => socket.once('open', resolve));
      const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
      socket.send(JSON.stringify({ type: 'connection_init', payload: { padding: 'x'.repeat(1_100_000) } }));
      expect(await closed).toBe(1009);
      expect((await post({ query: '{ __typename }' })).body.data).toEqual({ __typename: 'Query' });
    });
  });

  describe('production exposure', () => {
    it('refuses introspection and gives no field suggestions', async () => {
      const schema = await post({ query: '{ __schema { types { name } } }' });
      expect(schema.body.data ?? null).toBeNull();
      expect(schema.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(schema.body.errors?.[0]?.message).toMatch(/introspection/i);
      const type = await post({ query: '{ __type(name: "Task") { fields { name } } }' });
      expect(type.body.errors?.[0]?.message).toMatch(/introspection/i);

      const typo = await post({ query: '{ agentz { totalCount } }' });
      expect(typo.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(typo.body.errors?.[0]?.message).not.toMatch(/did you mean/i);
      expect(typo.body.errors?.[0]?.message).not.toMatch(/agents/);
    });
  });

  describe('CSRF and CORS', () => {
    const MUTATION = 'mutation { signUp(input: { email: "csrf@aicp.test", password: "long enough pw", role: BUYER }) { __typename } }';

    it.each([
      ['application/x-www-form-urlencoded', `query=${encodeURIComponent(MUTATION)}`],
      ['multipart/form-data; boundary=x', `--x\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${JSON.stringify({ query: MUTATION })}\r\n--x--\r\n`],
      ['text/plain', JSON.stringify({ query: MUTATION })],
    ])('refuses a %s POST with 415 before anything runs', async (type, body) => {
      const before = await snapshot(server.databaseUrl);
      const response = await fetch(server.graphqlUrl, { method: 'POST', headers: { 'content-type': type }, body });
      expect(response.status).toBe(415);
      expect(((await response.json()) as GraphQLResponse).errors?.[0]?.extensions?.code).toBe('UNSUPPORTED_MEDIA_TYPE');
      expect(await snapshot(server.databaseUrl)).toBe(before);
    });

    it('answers a GET only with a header a foreign page cannot send without a preflight', async () => {
      const url = `${server.graphqlUrl}?query=${encodeURIComponent('{ __typename }')}`;
      const bare = await fetch(url);
      expect(bare.status).toBe(403);
      expect(((await bare.json()) as GraphQLResponse).errors?.[0]?.extensions?.code).toBeTruthy();
      const withHeader = await fetch(url, { headers: { 'x-graphql-yoga-csrf': '1' } });
      expect(await withHeader.json()).toEqual({ data: { __typename: 'Query' } });
    });

    it('does not reflect a foreign origin, and never allows credentials', async () => {
      const preflight = await fetch(server.graphqlUrl, {
        method: 'OPTIONS',
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
      expect(preflight.headers.get('access-control-allow-credentials')).toBeNull();
      const res = await post({ query: '{ __typename }' }, { origin: 'https://evil.example' });
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    });
  });

  describe('every error carries a code', () => {
    it.each([
      ['invalid JSON', '{"query": ', 'BAD_REQUEST'],
      ['a batch', [{ query: '{ __typename }' }, { query: '{ __typename }' }], 'BAD_REQUEST'],
      ['a syntax error', { query: '{ agents( }' }, 'GRAPHQL_PARSE_FAILED'],
      ['an unknown operationName', { query: 'query A { __typename }', operationName: 'B' }, 'OPERATION_RESOLUTION_FAILURE'],
      ['two operations and no operationName', { query: 'query A { __typename } query B { __typename }' }, 'OPERATION_RESOLUTION_FAILURE'],
      ['an undeclared variable', { query: '{ agents(first: $n) { totalCount } }', variables: { n: 1 } }, 'GRAPHQL_VALIDATION_FAILED'],
      ['a negative page size', { query: '{ agents(first: -1) { totalCount } }' }, 'BAD_USER_INPUT'],
    ])('%s', async (_what, body, code) => {
      const res = await post(body);
      expect(res.status).toBeLessThan(500);
      expect(res.body.errors?.length).toBeGreaterThan(0);
      for (const error of res.body.errors ?? []) expect(error.extensions?.code).toBe(code);
    });

    it('a coercion failure is BAD_USER_INPUT naming the declared variable and the path, with the value cut short', async () => {
      const res = await post(
        { query: 'mutation Post($task: CreateTaskInput!) { createTask(input: $task) { __typename } }', variables: { task: { title: 't', prompt: 'p', maxPrice: 'x'.repeat(500_000) } } },
        { authorization: `Bearer ${buyer.token}` },
      );
      expect(res.body.errors).toHaveLength(1);
      const error = res.body.errors![0]!;
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', variable: 'task', path: ['task', 'maxPrice'] });
      expect(error.message).toMatch(/^Variable "\$task"/);
      expect(error.message.length).toBeLessThan(400);
    });
  });
});
