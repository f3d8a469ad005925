/**
 * Whole-system test harness: the real app on a real SQLite file, listening on a free port, driven over
 * real HTTP. Each server gets its own temporary folder, removed on stop. The HTTP GraphQL client and the
 * account basics (sign-up, admin, credit) live here too, shared by child-process servers and market-ops.ts.
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

/** One GraphQL call over HTTP; `token` goes in the Authorization header. */
export type Gql = <T = Record<string, any>>(query: string, variables?: Record<string, unknown>, token?: string) => Promise<GraphQLResponse<T>>;

/** POST GraphQL operations to `graphqlUrl`: the in-process server's and a child process's alike. */
export function httpGql(graphqlUrl: string): Gql {
  return async (query, variables, token) => {
    const response = await fetch(graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as GraphQLResponse<any>;
  };
}

/** The picked value, or an error carrying the whole response: helpers fail with what the server said. */
export function dataOf<T>(res: GraphQLResponse<Record<string, any>>, pick: (data: Record<string, any>) => T | null | undefined, what: string): T {
  const value = res.data ? pick(res.data) : undefined;
  if (value === undefined || value === null) throw new Error(`${what} failed: ${JSON.stringify(res)}`);
  return value;
}

let counter = 0;

/**
 * Sign-up, the admin's token and crediting a user, over any server's `gql`: the start of nearly every
 * test. TestServer exposes these as its own methods; `marketOps` builds the rest of the market on them.
 */
export function accountOps(gql: Gql) {
  let adminToken: string | undefined;
  const ops = {
    /** Sign up a fresh user and return its token and global id. */
    async signUp(role: 'BUYER' | 'AGENT', email = `user${++counter}-${Date.now()}@aicp.test`): Promise<{ token: string; id: string; email: string }> {
      const res = await gql(
        `mutation ($input: SignUpInput!) { signUp(input: $input) { __typename ... on AuthPayload { token user { id } } ... on Error { message } } }`,
        { input: { email, password: 'correct horse battery', role } },
      );
      const payload = dataOf(res, (d) => (d.signUp?.__typename === 'AuthPayload' ? d.signUp : undefined), 'signUp');
      return { token: payload.token, id: payload.user.id, email };
    },

    async adminToken(): Promise<string> {
      if (adminToken) return adminToken;
      const res = await gql(`mutation ($input: LogInInput!) { logIn(input: $input) { ... on AuthPayload { token } } }`, { input: ADMIN });
      adminToken = dataOf(res, (d) => d.logIn?.token as string | undefined, 'admin logIn');
      return adminToken;
    },

    /** Credit a user (by global id) through the admin API. */
    async credit(userId: string, amount: number, reference = `ref-${++counter}-${Date.now()}`): Promise<void> {
      const res = await gql(
        `mutation ($input: CreditAccountInput!) { creditAccount(input: $input) { __typename ... on Error { message } } }`,
        { input: { userId, amount, reference } },
        await ops.adminToken(),
      );
      dataOf(res, (d) => (d.creditAccount?.__typename === 'User' ? true : undefined), 'credit');
    },
  };
  return ops;
}

export type AccountOps = ReturnType<typeof accountOps>;

export interface TestServer {
  url: string;
  graphqlUrl: string;
  wsUrl: string;
  port: number;
  dir: string;
  databaseFile: string;
  app: App;
  /** POST a GraphQL operation; `token` goes in the Authorization header. */
  gql: Gql;
  /** Sign up a fresh user and return its token, global id and email. */
  signUp: AccountOps['signUp'];
  /** The seeded admin's token, logged in once per server. */
  adminToken: AccountOps['adminToken'];
  /** Credit a user (by global id) through the admin API. */
  credit: AccountOps['credit'];
  /** Stop this process' server, keeping the database; `restart` brings it back on the same port. */
  restart(env?: Partial<Env>): Promise<void>;
  stop(): Promise<void>;
}

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
  const gql = httpGql(`${url}/graphql`);

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
    gql,
    ...accountOps(gql),
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
