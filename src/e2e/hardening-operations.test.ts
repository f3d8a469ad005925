/**
 * Operability (issue 9, points 6 and 7): liveness and readiness probes that tell the truth (a PostgreSQL
 * database dropped under a running server makes /ready 503 while /health stays 200), Prometheus metrics
 * behind METRICS_TOKEN, and the log of a client's bad request: info, bounded, no secrets.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, buildApp } from '../app.ts';
import { loadConfig } from '../config.ts';
import { ADMIN, startServer, type TestServer } from './harness.ts';
import { freshPostgresDatabase } from './test-services.ts';

const METRICS_TOKEN = 'metrics-token-of-this-test-run';

describe('probes and metrics', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ NODE_ENV: 'production', METRICS_TOKEN });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('answers /health and /ready with JSON, never the dashboard', async () => {
    for (const path of ['/health', '/healthz', '/livez']) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ status: 'ok' });
    }
    const ready = await fetch(`${server.url}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', components: { database: { status: 'up' } } });
    expect((await fetch(`${server.url}/ready`, { method: 'POST' })).status).toBe(405);
  });

  it('serves Prometheus metrics only with the token: operations by code, tasks by status, event-loop lag', async () => {
    await server.gql('{ agents(first: 1) { totalCount } }');
    await server.gql('{ nope }');
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
    const response = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(text).toMatch(/aicp_graphql_operations_total\{operation="agents",type="query",code="OK"\} [1-9]/);
    expect(text).toMatch(/aicp_graphql_operations_total\{operation="\(refused\)",type="unknown",code="GRAPHQL_VALIDATION_FAILED"\} [1-9]/);
    expect(text).toMatch(/aicp_graphql_operation_duration_seconds_bucket/);
    expect(text).toMatch(/aicp_tasks\{status="PENDING"\} 0/);
    expect(text).toMatch(/aicp_open_subscriptions \d+/);
    expect(text).toMatch(/nodejs_eventloop_lag_seconds/);
  });
});

const postgres = await freshPostgresDatabase('aicp_ready');

describe.skipIf(!postgres)('readiness with the database gone', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ DATABASE_URL: postgres!.url });
  });
  afterAll(async () => {
    await server?.stop().catch(() => undefined);
    await postgres?.drop();
  });

  it('is 503 naming the database while /health stays 200, and GraphQL answers with a masked, coded error', async () => {
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
    await postgres!.drop();

    const ready = await fetch(`${server.url}/ready`);
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as { status: string; components: { database: { status: string; error?: string } } };
    expect(body.status).toBe('unavailable');
    expect(body.components.database.status).toBe('down');
    expect((await fetch(`${server.url}/health`)).status).toBe(200);

    const res = await server.gql('{ agents(first: 1) { totalCount } }');
    expect(res.errors?.[0]?.extensions?.code).toBeTruthy();
    expect(JSON.stringify(res)).not.toMatch(/does not exist|postgres/i);
  });
});

describe('the log of a bad request', () => {
  let app: App;
  let url: string;
  const lines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const config = loadConfig({
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: '0',
      DATABASE_URL: ':memory:',
      JWT_SECRET: 'test-secret-that-is-long-enough-for-hs256',
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      SEED_AGENTS: 'false',
      LOG_LEVEL: 'debug',
    });
    app = await buildApp(config, { logger: pino({ level: 'debug', redact: { paths: ['*.password', '*.authorization'], censor: '[redacted]' } }, sink) });
    url = `${(await app.start()).url}/graphql`;
  });
  afterAll(async () => {
    await app?.stop({ graceMs: 0 });
  });

  it('logs a 5 MB maxPrice, a FORBIDDEN and an anonymous call at info, each line short, with no password or token', async () => {
    const call = (query: string, variables: unknown, token?: string) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
        body: JSON.stringify({ query, variables }),
      }).then((r) => r.json() as Promise<{ data?: any }>);
    const signUp = await call('mutation ($input: SignUpInput!) { signUp(input: $input) { ... on AuthPayload { token } } }', {
      input: { email: 'logged@aicp.test', password: 'a secret password', role: 'BUYER' },
    });
    const token = signUp.data.signUp.token as string;
    const before = lines.length;
    await call('mutation ($input: CreateTaskInput!) { createTask(input: $input) { __typename } }', { input: { title: 't', prompt: 'p', maxPrice: 'x'.repeat(900_000) } }, token);
    await call('mutation { creditAccount(input: { userId: "x", amount: 1, reference: "r" }) { __typename } }', {}, token);
    await call('mutation { createTask(input: { title: "t", prompt: "p", maxPrice: 1 }) { __typename } }', {});
    await call('mutation ($input: LogInInput!) { logIn(input: $input) { __typename } }', { input: { email: 'logged@aicp.test', password: 'a wrong password' } });

    const logged = lines.slice(before);
    const operations = logged.filter((l) => l.msg === 'graphql operation');
    expect(operations.map((l) => l.code)).toEqual(['BAD_USER_INPUT', 'FORBIDDEN', 'UNAUTHENTICATED', 'OK']);
    for (const line of operations) expect(line.level).toBe(30);
    expect(operations[1]?.caller).toBeTruthy();
    for (const line of logged) {
      expect(line.level as number).toBeLessThan(50);
      expect(JSON.stringify(line).length).toBeLessThan(2000);
      expect(JSON.stringify(line)).not.toContain('a wrong password');
      expect(JSON.stringify(line)).not.toContain(token);
    }
  });
});
