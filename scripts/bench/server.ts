/**
 * The server under test, started the way `npm start` starts it: the compiled `node dist/src/main.js` (built
 * first when stale) in its own process, production mode, a fresh SQLite file, the fake provider as OPENAI_BASE_URL. Also the few
 * GraphQL calls the benchmark makes to set a scene (sign up, credit, pause agents), kept apart from the
 * load itself, which always comes from other processes.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const ADMIN = { email: 'bench-admin@aicp.test', password: 'bench-admin-password' };
const root = new URL('../../', import.meta.url);

// Compile the server when its build is missing or stale, as `npm start` does.
execFileSync(process.execPath, ['scripts/ensure-server.mjs'], { cwd: root, stdio: 'inherit' });

export interface ServerOptions {
  /** A folder of its own; the SQLite file is created there. */
  dir: string;
  /** OPENAI_BASE_URL: the fake provider. */
  providerUrl: string;
  /** Used in the profile's file name (BENCH_PROFILE=1). */
  name: string;
  env?: Record<string, string>;
  /** Write a CPU profile to this folder when the server exits. */
  profileDir?: string;
  /** Node/V8 flags of this server (after BENCH_SERVER_NODE_FLAGS). */
  nodeFlags?: string[];
}

export interface BenchServer {
  url: string;
  graphqlUrl: string;
  wsUrl: string;
  pid: number;
  databaseFile: string;
  /** VmRSS of the server process, in bytes. */
  rss(): number;
  /** CPU time the server process has used (user + system, all threads), in seconds. */
  cpu(): number;
  gql<T>(query: string, variables?: Record<string, unknown>, token?: string): Promise<T>;
  adminToken(): Promise<string>;
  /** A fresh user with a token (and, for a buyer, `credit` satoshis). */
  user(role: 'BUYER' | 'AGENT', credit?: number): Promise<{ id: string; token: string }>;
  /** SIGTERM and wait for a clean exit (which is also when a CPU profile is written). */
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('could not find a free port');
  return address.port;
}

export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
  if (!kb) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kb) * 1024;
}

/** utime + stime from /proc/<pid>/stat, in seconds (clock ticks are 1/100 s on Linux). */
export function cpuOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

let users = 0;
const live = new Set<ChildProcess>();
// A benchmark that fails half-way must not leave servers running.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export async function startServer(options: ServerOptions): Promise<BenchServer> {
  const port = await freePort();
  const databaseFile = join(options.dir, 'aicp.sqlite');
  const profile = options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`] : [];
  // To try Node/V8 flags on the server only, e.g. BENCH_SERVER_NODE_FLAGS="--max-semi-space-size=64 --trace-gc".
  const flags = (process.env.BENCH_SERVER_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
  const child: ChildProcess = spawn(process.execPath, [...profile, ...flags, ...(options.nodeFlags ?? []), 'dist/src/main.js'], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: databaseFile,
      JWT_SECRET: 'benchmark-secret-that-is-long-enough-for-hs256',
      LOG_LEVEL: 'warn',
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      OPENAI_BASE_URL: options.providerUrl,
      OPENAI_API_KEY: 'sk-bench',
      AI_CONCURRENCY: '64',
      // glibc's allocator knob, passed on to try it on the server (e.g. MALLOC_ARENA_MAX=2 npm run bench).
      ...(process.env.MALLOC_ARENA_MAX && { MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX }),
      ...options.env,
    },
  });
  live.add(child);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      live.delete(child);
      resolve(code);
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  let adminToken: string | undefined;

  const server: BenchServer = {
    url,
    graphqlUrl: `${url}/graphql`,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    pid: child.pid ?? -1,
    databaseFile,
    rss: () => rssOf(child.pid ?? -1),
    cpu: () => cpuOf(child.pid ?? -1),
    async gql<T>(query: string, variables?: Record<string, unknown>, token?: string): Promise<T> {
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as { data?: T; errors?: unknown[] };
      if (!body.data || body.errors) throw new Error(`GraphQL call failed: ${JSON.stringify(body)}`);
      return body.data;
    },
    async adminToken() {
      adminToken ??= (
        await server.gql<{ logIn: { token: string } }>(`mutation ($input: LogInInput!) { logIn(input: $input) { ... on AuthPayload { token } } }`, { input: ADMIN })
      ).logIn.token;
      return adminToken;
    },
    async user(role, credit = 0) {
      const email = `bench-${role.toLowerCase()}-${++users}@aicp.test`;
      const { signUp } = await server.gql<{ signUp: { token: string; user: { id: string } } }>(
        `mutation ($input: SignUpInput!) { signUp(input: $input) { ... on AuthPayload { token user { id } } ... on Error { message } } }`,
        { input: { email, password: 'bench-password-1', role } },
      );
      if (credit > 0) {
        await server.gql(
          `mutation ($input: CreditAccountInput!) { creditAccount(input: $input) { __typename } }`,
          { input: { userId: signUp.user.id, amount: credit, reference: `bench-${email}` } },
          await server.adminToken(),
        );
      }
      return { id: signUp.user.id, token: signUp.token };
    },
    async stop() {
      child.kill('SIGTERM');
      const code = await exited;
      if (code !== 0) console.warn(`server ${options.name} exited with code ${code}`);
    },
  };

  // Ready when `{ __typename }` answers; a server that dies on the way up fails the benchmark.
  const deadline = Date.now() + 30_000;
  let dead = false;
  void exited.then(() => (dead = true));
  for (;;) {
    if (dead) throw new Error(`server ${options.name} exited during start`);
    try {
      await server.gql('{ __typename }');
      return server;
    } catch {
      if (Date.now() > deadline) throw new Error(`server ${options.name} did not answer within 30 s`);
      await sleep(50);
    }
  }
}

/** Every agent ONLINE or PAUSED, with room for `maxConcurrency` tasks each (admin may change any agent). */
export async function setAgents(server: BenchServer, changes: { status?: 'ONLINE' | 'PAUSED'; maxConcurrency?: number }): Promise<void> {
  const admin = await server.adminToken();
  const { agents } = await server.gql<{ agents: { edges: { node: { id: string } }[] } }>('{ agents(first: 100) { edges { node { id } } } }');
  for (const { node } of agents.edges) {
    await server.gql(
      `mutation ($input: UpdateAgentInput!) { updateAgent(input: $input) { __typename ... on Error { message } } }`,
      { input: { id: node.id, ...changes } },
      admin,
    );
  }
}
