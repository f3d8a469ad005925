/**
 * Identity (issue 9, point 4): a correctly signed token is only as good as the account it names, and a
 * live subscription lasts no longer than the token it was opened with, over graphql-ws and SSE alike.
 */
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer, waitFor } from './harness.ts';
import { describeEachDialect } from './test-database.ts';
import { countRows, localIdOf, queryRows } from './ledger-db.ts';
import { closeAfterEach, subscribeSse, subscribeWs } from './live-clients.ts';

const SECRET = 'test-secret-that-is-long-enough-for-hs256';
const CREATE = `mutation ($input: CreateTaskInput!) { createTask(input: $input) { __typename ... on Task { id } ... on Error { message } } }`;
const EVENTS = 'subscription { taskEvents { sequence status task { id } } }';

describeEachDialect('identity hardening', (dialect) => {
  let server: TestServer;
  const track = closeAfterEach();

  beforeAll(async () => {
    server = await startServer({ NODE_ENV: 'production', SEED_AGENTS: 'false' }, { dialect });
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** A token signed with the server's own key, as `Tokens.issue` signs them, for any subject, role and expiry. */
  async function signed(sub: string, role: string, expiresAtSeconds: number): Promise<string> {
    return new SignJWT({ role })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(sub)
      .setIssuedAt()
      .setExpirationTime(expiresAtSeconds)
      .setIssuer('aicp')
      .setAudience('aicp-api')
      .sign(new TextEncoder().encode(SECRET));
  }

  async function sql(statement: string, ...params: unknown[]): Promise<void> {
    await queryRows(server.databaseUrl, statement, ...params);
  }

  async function post(token: string, title: string): Promise<string> {
    const res = await server.gql(CREATE, { input: { title, prompt: 'Work', maxPrice: 1_000, skills: ['nobody-has-this'] } }, token);
    expect(res.data?.createTask.__typename).toBe('Task');
    return res.data?.createTask.id;
  }

  describe('a signed token whose account is gone or changed', () => {
    it('is UNAUTHENTICATED for a user that no longer exists, and nothing is written', async () => {
      const ghost = await server.signUp('BUYER');
      const userId = localIdOf(ghost.id, 'User');
      await sql('DELETE FROM accounts WHERE id = ? RETURNING id', `user:${userId}`);
      await sql('DELETE FROM users WHERE id = ? RETURNING id', userId);
      const tasksBefore = await countRows(server.databaseUrl, 'tasks');

      const res = await server.gql(CREATE, { input: { title: 'ghost', prompt: 'Work', maxPrice: 1 } }, ghost.token);
      expect(res.data ?? null).toBeNull();
      expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(res.errors?.[0]?.message).toMatch(/no longer exists/);
      expect((await server.gql('{ me { id } }', {}, ghost.token)).data?.me).toBeNull();
      expect(await countRows(server.databaseUrl, 'tasks')).toBe(tasksBefore);

      // A user id that never existed, signed with the right key: the same.
      const forged = await signed('01900000-0000-7000-8000-000000000000', 'ADMIN', Math.floor(Date.now() / 1000) + 600);
      const asAdmin = await server.gql('mutation { creditAccount(input: { userId: "x", amount: 1, reference: "r" }) { __typename } }', {}, forged);
      expect(asAdmin.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    });

    it('is UNAUTHENTICATED when the token claims a role the account does not have', async () => {
      const buyer = await server.signUp('BUYER');
      const promoted = await signed(localIdOf(buyer.id, 'User'), 'ADMIN', Math.floor(Date.now() / 1000) + 600);
      const res = await server.gql('{ tasks(first: 1) { totalCount } }', {}, promoted);
      expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(res.errors?.[0]?.message).toMatch(/role changed/);
    });
  });

  describe('a live subscription ends when its token expires', () => {
    it('delivers events before exp, then nothing: graphql-ws closes 4403 and SSE ends with UNAUTHENTICATED', async () => {
      const buyer = await server.signUp('BUYER');
      await server.credit(buyer.id, 100_000);
      const expiresAt = Math.floor(Date.now() / 1000) + 3;
      const shortLived = await signed(localIdOf(buyer.id, 'User'), 'BUYER', expiresAt);

      const listeners = server.app.services.hub.subscriberCount;
      const ws = track(subscribeWs<{ taskEvents: { task: { id: string } } }>(server, EVENTS, {}, shortLived));
      const sse = track(subscribeSse<{ taskEvents: { task: { id: string } } }>(server, EVENTS, {}, shortLived));
      await waitFor(() => server.app.services.hub.subscriberCount >= listeners + 2, 10_000, 'both subscriptions to be live');

      const before = await post(buyer.token, 'before expiry');
      await ws.until((data) => data.some((d) => d.taskEvents.task.id === before), 'the event before expiry over graphql-ws');
      await sse.until((data) => data.some((d) => d.taskEvents.task.id === before), 'the event before expiry over SSE');

      await ws.ending().catch((e) => { throw new Error(`ws: ${e}`); });
      await sse.ending().catch((e) => { throw new Error(`sse: ${e}`); });
      expect(Date.now()).toBeGreaterThanOrEqual(expiresAt * 1000);
      expect(sse.errorCodes).toEqual(['UNAUTHENTICATED']);
      // graphql-ws: the subscription's UNAUTHENTICATED error, or the socket closed with 4403 Forbidden.
      const wsFailure = ws.failure as { code?: number } | undefined;
      expect(ws.errorCodes.includes('UNAUTHENTICATED') || wsFailure?.code === 4403).toBe(true);

      const after = await post(buyer.token, 'after expiry');
      await waitFor(async () => (await server.gql('{ tasks(first: 5) { edges { node { id } } } }', {}, buyer.token)).data?.tasks.edges.length === 2);
      for (const stream of [ws, sse]) expect(stream.data.some((d) => d.taskEvents.task.id === after)).toBe(false);

      // Subscribing again with the expired token: refused, saying why.
      const again = track(subscribeSse(server, EVENTS, {}, shortLived));
      await again.ending();
      expect(again.errorCodes).toEqual(['UNAUTHENTICATED']);
    });
  });
});
