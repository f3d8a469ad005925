/**
 * Whole-system test harness: the real app on a real database (a SQLite file or a PostgreSQL database,
 * fresh per server unless shared: see test-database.ts), listening on a free port, driven over real HTTP.
 * The HTTP GraphQL client and the account basics (sign-up, admin, credit) live here too, shared by
 * child-process servers and market-ops.ts.
 */
import { join } from 'node:path';
import { type App, buildApp } from '../app.ts';
import { type Env, loadConfig } from '../config.ts';
import { createTestDatabase, dialectOf, type TestDatabase, type TestDialect } from './test-database.ts';

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
  /** A temporary folder of this server's (with SQLite, the database file is in it). */
  dir: string;
  dialect: TestDialect;
  /** The server's DATABASE_URL (a SQLite file or a `postgres://` URL): what the ledger-db.ts audits take. */
  databaseUrl: string;
  /** @deprecated the same as `databaseUrl` (a `postgres://` URL on PostgreSQL, despite the name). */
  databaseFile: string;
  /** The database, to start another server on it: `startServer(env, { database: server.database })`. */
  database: TestDatabase;
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

export interface StartOptions {
  /** The dialect of the fresh database this server gets (default sqlite). */
  dialect?: TestDialect;
  /** Share another server's database instead (that server's `database`); it is not dropped on stop. */
  database?: TestDatabase;
  /** SQLite only, the older way to share: the folder holding another server's `aicp.sqlite`. */
  dir?: string;
  port?: number;
}

/** The database a server runs on, and whether it is this server's to drop when it stops. */
async function databaseFor(env: Partial<Env>, options: StartOptions): Promise<{ database: TestDatabase; owned: boolean }> {
  if (options.database) return { database: options.database, owned: false };
  if (env.DATABASE_URL) {
    const url = env.DATABASE_URL;
    return { database: { dialect: dialectOf(url), url, dir: options.dir ?? '', drop: async () => {} }, owned: false };
  }
  if (options.dir) {
    const dir = options.dir;
    return { database: { dialect: 'sqlite', url: join(dir, 'aicp.sqlite'), dir, drop: async () => {} }, owned: false };
  }
  return { database: await createTestDatabase(options.dialect ?? 'sqlite'), owned: true };
}

export async function startServer(env: Partial<Env> = {}, options: StartOptions = {}): Promise<TestServer> {
  const { database, owned } = await databaseFor(env, options);
  const baseEnv: Env = {
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: String(options.port ?? 0),
    DATABASE_URL: database.url,
    JWT_SECRET: 'test-secret-that-is-long-enough-for-hs256',
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    AI_RETRY_BASE_MS: '10',
  };
  let app: App;
  try {
    app = await buildApp(loadConfig({ ...baseEnv, ...env }));
  } catch (error) {
    if (owned) await database.drop();
    throw error;
  }
  const { port } = await app.start();
  const url = `http://127.0.0.1:${port}`;
  const gql = httpGql(`${url}/graphql`);

  const server: TestServer = {
    url,
    graphqlUrl: `${url}/graphql`,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    port,
    dir: database.dir,
    dialect: database.dialect,
    databaseUrl: database.url,
    databaseFile: database.url,
    database,
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
      if (owned) await database.drop();
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
