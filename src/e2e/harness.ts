/**
 * Whole-system test harness: the real app on a real SQLite file, listening on a free port, driven over
 * real HTTP. Each server gets its own temporary folder, removed on stop.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type App, buildApp } from '../app.ts';
import { type Env, loadConfig } from '../config.ts';

export const ADMIN = { email: 'admin@aicp.test', password: 'admin-password-1' };

export interface GraphQLResponse<T = Record<string, unknown>> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string; [key: string]: unknown } }[];
}

export interface TestServer {
  url: string;
  graphqlUrl: string;
  wsUrl: string;
  port: number;
  dir: string;
  databaseFile: string;
  app: App;
  /** POST a GraphQL operation; `token` goes in the Authorization header. */
  gql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, token?: string): Promise<GraphQLResponse<T>>;
  /** Sign up a fresh user and return its token and global id. */
  signUp(role: 'BUYER' | 'AGENT', email?: string): Promise<{ token: string; id: string; email: string }>;
  adminToken(): Promise<string>;
  /** Credit a user (by global id) through the admin API. */
  credit(userId: string, amount: number, reference?: string): Promise<void>;
  /** Stop this process' server, keeping the database; `restart` brings it back on the same port. */
  restart(env?: Partial<Env>): Promise<void>;
  stop(): Promise<void>;
}

let counter = 0;

export async function startServer(env: Partial<Env> = {}, options: { dir?: string; port?: number } = {}): Promise<TestServer> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'aicp-test-'));
  const databaseFile = join(dir, 'aicp.sqlite');
  const baseEnv: Env = {
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: String(options.port ?? 0),
    DATABASE_URL: databaseFile,
    JWT_SECRET: 'test-secret-that-is-long-enough-for-hs256',
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    AI_RETRY_BASE_MS: '10',
  };
  let app = await buildApp(loadConfig({ ...baseEnv, ...env }));
  const { port } = await app.start();
  const url = `http://127.0.0.1:${port}`;
  let adminToken: string | undefined;

  const server: TestServer = {
    url,
    graphqlUrl: `${url}/graphql`,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    port,
    dir,
    databaseFile,
    get app() {
      return app;
    },
    async gql(query, variables, token) {
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
        body: JSON.stringify({ query, variables }),
      });
      return (await response.json()) as GraphQLResponse<any>;
    },
    async signUp(role, email = `user${++counter}-${Date.now()}@aicp.test`) {
      const res = await server.gql(
        `mutation ($input: SignUpInput!) { signUp(input: $input) { __typename ... on AuthPayload { token user { id } } ... on Error { message } } }`,
        { input: { email, password: 'correct horse battery', role } },
      );
      const payload = res.data?.signUp;
      if (payload?.__typename !== 'AuthPayload') throw new Error(`signUp failed: ${JSON.stringify(res)}`);
      return { token: payload.token, id: payload.user.id, email };
    },
    async adminToken() {
      if (adminToken) return adminToken;
      const res = await server.gql(`mutation ($input: LogInInput!) { logIn(input: $input) { ... on AuthPayload { token } } }`, { input: ADMIN });
      adminToken = res.data?.logIn?.token;
      if (!adminToken) throw new Error(`admin logIn failed: ${JSON.stringify(res)}`);
      return adminToken;
    },
    async credit(userId, amount, reference = `ref-${++counter}-${Date.now()}`) {
      const res = await server.gql(
        `mutation ($input: CreditAccountInput!) { creditAccount(input: $input) { __typename ... on Error { message } } }`,
        { input: { userId, amount, reference } },
        await server.adminToken(),
      );
      if (res.data?.creditAccount?.__typename !== 'User') throw new Error(`credit failed: ${JSON.stringify(res)}`);
    },
    async restart(next = {}) {
      await app.stop({ graceMs: 0 });
      app = await buildApp(loadConfig({ ...baseEnv, PORT: String(port), ...env, ...next }));
      await app.start();
    },
    async stop() {
      await app.stop({ graceMs: 0 });
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

/** Poll `check` until it returns a value (not undefined/false) or `timeoutMs` passes. */
export async function waitFor<T>(check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
