/**
 * The real entry point (`node --import tsx src/main.ts`) in a child process, for the tests that must kill
 * or signal the server itself: SIGKILL mid-call, SIGTERM for a graceful stop, SIGSTOP to freeze it.
 * The child gets a clean environment (nothing of ours leaks in, OPENAI_* above all) plus what the test
 * passes. Its output is kept, and shown when it fails to start.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ADMIN, type Gql, httpGql } from './harness.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** A port that was free a moment ago (the child needs a fixed one to be restarted on the same address). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ChildServer {
  pid: number;
  port: number;
  graphqlUrl: string;
  wsUrl: string;
  gql: Gql;
  /** Everything the child wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves when the child has exited, however. */
  readonly exited: Promise<Exit>;
  readonly hasExited: boolean;
  signal(signal: NodeJS.Signals): void;
}

/** Kill every child a test left behind, even a frozen one (SIGCONT first: a stopped process cannot die). */
export async function killAll(children: ChildServer[]): Promise<void> {
  for (const child of children.splice(0)) {
    child.signal('SIGCONT');
    child.signal('SIGKILL');
    await child.exited;
  }
}

/** The environment every test child shares; the test adds the database, the provider and its switches. */
export function baseChildEnv(databaseFile: string, port: number): Record<string, string> {
  return {
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: String(port),
    DATABASE_URL: databaseFile,
    JWT_SECRET: 'test-secret-that-is-long-enough-for-hs256',
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    LOG_LEVEL: 'warn',
  };
}

/** Start `src/main.ts` in a child process and wait until it answers GraphQL. */
export async function spawnServer(env: Record<string, string>, readyTimeoutMs = 60_000): Promise<ChildServer> {
  const port = Number(env.PORT);
  if (!Number.isInteger(port) || port <= 0) throw new Error('spawnServer needs a fixed PORT');
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error('the server process did not start');
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  let hasExited = false;
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      hasExited = true;
      resolve({ code, signal });
    });
  });

  const graphqlUrl = `http://127.0.0.1:${port}/graphql`;
  const server: ChildServer = {
    pid: child.pid,
    port,
    graphqlUrl,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    gql: httpGql(graphqlUrl),
    output: () => output,
    exited,
    get hasExited() {
      return hasExited;
    },
    signal(signal) {
      if (!hasExited) child.kill(signal);
    },
  };

  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (hasExited) throw new Error(`the server exited before it was ready:\n${output}`);
    try {
      const res = await server.gql('{ __typename }');
      if (res.data?.__typename === 'Query') return server;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      server.signal('SIGKILL');
      throw new Error(`the server did not answer within ${readyTimeoutMs} ms:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Wait for the child to exit; a child still running after `timeoutMs` is killed and reported. */
export async function exitOf(server: ChildServer, timeoutMs: number): Promise<Exit> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), timeoutMs);
  });
  const outcome = await Promise.race([server.exited, late]);
  clearTimeout(timer);
  if (outcome === 'late') {
    server.signal('SIGKILL');
    await server.exited;
    throw new Error(`the server had not exited ${timeoutMs} ms after being asked to:\n${server.output()}`);
  }
  return outcome;
}
