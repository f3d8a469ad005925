/**
 * An EXTERNAL agent for the AICP marketplace, small enough to read in one sitting:
 *
 *   sign in (or up) as an operator -> register the agent, or reuse the one with that name
 *   -> subscribe to agentAssignments over graphql-ws -> answer each task -> submitTaskResult
 *
 * and around it, forever until stopped: graphql-ws reconnects a dropped socket with backoff and
 * resubscribes; anything else that ends the subscription (the server refused the token, restarted with a
 * new key, or is down) goes back to the start after a backoff, signing in again when the token was refused.
 */
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { type Answerer, type Assignment, cannedAnswerer, openAiAnswerer, type ProviderOptions } from './answer.ts';
import { type AgentLogger, consoleLogger } from './log.ts';
import { FatalAgentError, GraphQLRequestError, Session } from './session.ts';

export interface ExampleAgentOptions {
  /** The marketplace's address, e.g. http://localhost:4000 (a trailing /graphql is accepted too). */
  url: string;
  /** The operator account; created as role AGENT when it does not exist yet. */
  email: string;
  password: string;
  /** The agent's name, unique in the marketplace: an existing agent of yours with this name is reused. */
  name: string;
  /** Skills a task may ask for. @default [] (only tasks that ask for no skill) */
  skills?: string[];
  /** Base price per unit of complexity, in sats. @default the server's (100000) */
  askPerUnit?: number;
  /** Tasks in hand at once. @default the server's (4) */
  maxConcurrency?: number;
  /** The LLM provider; leave out for canned answers. */
  provider?: ProviderOptions;
  /** First wait before trying again after a failure; doubles up to 30 s, with jitter. @default 1000 */
  retryBaseMs?: number;
  /** @default consoleLogger */
  log?: AgentLogger;
}

const AGENT_FIELDS = 'id name mode status skills askPerUnit maxConcurrency';
const ME = `query { me { email role agents { ${AGENT_FIELDS} } } }`;
const REGISTER = `mutation ($input: RegisterAgentInput!) { registerAgent(input: $input) { __typename ... on Agent { ${AGENT_FIELDS} } ... on Error { message } } }`;
const UPDATE = `mutation ($input: UpdateAgentInput!) { updateAgent(input: $input) { __typename ... on Agent { ${AGENT_FIELDS} } ... on Error { message } } }`;
const ASSIGNMENTS = 'subscription ($agentId: ID!) { agentAssignments(agentId: $agentId) { id title prompt skills complexity price } }';
const SUBMIT = `mutation ($input: SubmitTaskResultInput!) {
  submitTaskResult(input: $input) { __typename ... on Task { status price } ... on InvalidStateError { status } ... on Error { message } }
}`;

interface AgentInfo {
  id: string;
  name: string;
  mode: string;
  status: string;
  skills: string[];
  askPerUnit: number;
  maxConcurrency: number;
}

interface SubmitResult {
  __typename: string;
  status?: string;
  price?: number | null;
  message?: string;
}

/** Run the agent until `signal` aborts; then it stops listening, finishes the tasks in hand and resolves. */
export async function runExampleAgent(options: ExampleAgentOptions, signal: AbortSignal): Promise<void> {
  const log = options.log ?? consoleLogger;
  const { http, ws } = endpoints(options.url);
  const session = new Session(http, options, log);
  const answer = options.provider ? openAiAnswerer(options.name, options.provider) : cannedAnswerer(options.name);
  log.info(
    options.provider
      ? `answering with model ${options.provider.model} at ${options.provider.baseUrl ?? 'https://api.openai.com/v1'}`
      : 'no LLM provider given: answering with canned answers',
  );
  const inHand = new Map<string, Promise<void>>();
  const retryBaseMs = options.retryBaseMs ?? 1000;
  const failures = { count: 0 };

  while (!signal.aborted) {
    try {
      const agent = await ensureAgent(session, options, log);
      await listen({ ws, session, agentId: agent.id, log, signal, retryBaseMs, failures }, (task) => {
        // A task may come again after a reconnect while we still work on it: once is enough.
        if (inHand.has(task.id)) return;
        const work = handle(task, session, answer, log).finally(() => inHand.delete(task.id));
        inHand.set(task.id, work);
      });
    } catch (error) {
      if (error instanceof FatalAgentError) throw error;
      log.warn(`${describe(error)}; trying again`);
    }
    if (signal.aborted) break;
    await sleep(backoffMs(failures.count++, retryBaseMs), signal);
  }
  log.info(`disconnected: the marketplace offers ${options.name} no new tasks until it runs again`);
  if (inHand.size > 0) log.info(`stopping: finishing ${inHand.size} task(s) in hand`);
  await Promise.allSettled(inHand.values());
  log.info('stopped');
}

/** Register the agent, or reuse (and bring ONLINE, with the given skills and ask) the one with this name. */
async function ensureAgent(session: Session, options: ExampleAgentOptions, log: AgentLogger): Promise<AgentInfo> {
  const { me } = await session.request<{ me: { role: string; agents: AgentInfo[] } | null }>(ME);
  if (!me) {
    // `me` is null, not an error, for a token the server does not accept: sign in again next time.
    session.invalidate();
    throw new GraphQLRequestError('the server did not accept the token', 'UNAUTHENTICATED');
  }
  if (me.role !== 'AGENT') throw new FatalAgentError(`${options.email} has role ${me.role}; an operator account (role AGENT) is needed`);
  const mine = me.agents.find((agent) => agent.name === options.name);
  if (!mine) {
    const input = {
      name: options.name,
      mode: 'EXTERNAL',
      skills: options.skills ?? [],
      model: options.provider?.model ?? 'canned',
      askPerUnit: options.askPerUnit,
      maxConcurrency: options.maxConcurrency,
    };
    const { registerAgent } = await session.request<{ registerAgent: AgentInfo & { __typename: string; message?: string } }>(REGISTER, { input });
    if (registerAgent.__typename !== 'Agent') throw new FatalAgentError(`could not register ${options.name}: ${registerAgent.message ?? registerAgent.__typename}`);
    log.info(`registered the EXTERNAL agent ${options.name} (${registerAgent.id})`);
    return registerAgent;
  }
  if (mine.mode !== 'EXTERNAL') throw new FatalAgentError(`your agent ${options.name} is ${mine.mode}: the marketplace runs it, not this script`);
  const changes = {
    ...(mine.status !== 'ONLINE' && { status: 'ONLINE' }),
    ...(options.skills && !sameSet(options.skills, mine.skills) && { skills: options.skills }),
    ...(options.askPerUnit !== undefined && options.askPerUnit !== mine.askPerUnit && { askPerUnit: options.askPerUnit }),
    ...(options.maxConcurrency !== undefined && options.maxConcurrency !== mine.maxConcurrency && { maxConcurrency: options.maxConcurrency }),
  };
  if (Object.keys(changes).length === 0) {
    log.info(`using the EXTERNAL agent ${options.name} (${mine.id})`);
    return mine;
  }
  const { updateAgent } = await session.request<{ updateAgent: AgentInfo & { __typename: string; message?: string } }>(UPDATE, { input: { id: mine.id, ...changes } });
  if (updateAgent.__typename !== 'Agent') throw new Error(`could not update ${options.name}: ${updateAgent.message ?? updateAgent.__typename}`);
  log.info(`using the EXTERNAL agent ${options.name} (${mine.id}), updated: ${Object.keys(changes).join(', ')}`);
  return updateAgent;
}

interface Listening {
  ws: string;
  session: Session;
  agentId: string;
  log: AgentLogger;
  signal: AbortSignal;
  retryBaseMs: number;
  failures: { count: number };
}

/**
 * Subscribe to the agent's assignments and hand each to `onTask`. graphql-ws itself reconnects a lost
 * socket (forever, with backoff) and resubscribes, sending a fresh token each time. Resolves when the
 * stream ends (stopped, or completed by the server); throws when the server refuses it.
 */
async function listen(listening: Listening, onTask: (task: Assignment) => void): Promise<void> {
  const { session, log, signal, failures } = listening;
  let leaving = false;
  const client = createClient({
    url: listening.ws,
    webSocketImpl: WebSocket,
    connectionParams: async () => ({ authorization: `Bearer ${await session.token()}` }),
    retryAttempts: Number.POSITIVE_INFINITY,
    shouldRetry: () => true,
    retryWait: (retries) => sleep(backoffMs(retries, listening.retryBaseMs), signal),
    keepAlive: 15_000,
    on: {
      connected: () => {
        log.info(`connected; waiting for tasks for agent ${listening.agentId}`);
      },
      closed: (event) => {
        if (!leaving) log.warn(`connection closed (${describe(event)}); reconnecting`);
      },
    },
  });
  const stop = () => {
    leaving = true;
    void client.dispose();
  };
  signal.addEventListener('abort', stop, { once: true });
  try {
    const results = client.iterate<{ agentAssignments: Assignment }>({ query: ASSIGNMENTS, variables: { agentId: listening.agentId } });
    for await (const result of results) {
      if (result.errors?.length) throw subscriptionError(result.errors, session);
      if (!result.data) continue;
      failures.count = 0; // a working stream: the next failure starts the backoff afresh
      onTask(result.data.agentAssignments);
    }
  } catch (error) {
    throw Array.isArray(error) ? subscriptionError(error, session) : error;
  } finally {
    signal.removeEventListener('abort', stop);
    leaving = true;
    await client.dispose();
  }
}

function subscriptionError(errors: readonly { message: string; extensions?: { code?: unknown } }[], session: Session): GraphQLRequestError {
  const first = errors[0];
  const code = typeof first?.extensions?.code === 'string' ? first.extensions.code : undefined;
  // The token was refused (expired, or the server restarted with another key): sign in again before retrying.
  if (code === 'UNAUTHENTICATED') session.invalidate();
  return new GraphQLRequestError(`the server ended the subscription: ${first?.message ?? 'unknown error'}`, code);
}

/** Answer one task and report it: the result, or the error when the answer could not be made. */
async function handle(task: Assignment, session: Session, answer: Answerer, log: AgentLogger): Promise<void> {
  log.info(`task ${task.id} "${task.title}" received (complexity ${task.complexity}, price ${task.price ?? '?'} sat)`);
  let input: { taskId: string; result: string } | { taskId: string; error: string };
  try {
    input = { taskId: task.id, result: await answer(task) };
  } catch (error) {
    log.warn(`task ${task.id}: answering failed: ${describe(error)}`);
    input = { taskId: task.id, error: `the example agent could not answer: ${describe(error)}`.slice(0, 2000) };
  }
  let outcome: SubmitResult;
  try {
    outcome = await submit(session, input, log);
  } catch (error) {
    // Given up: the lease runs out and the marketplace hands the task to another agent.
    log.error(`task ${task.id}: could not submit: ${describe(error)}`);
    return;
  }
  if (outcome.__typename === 'Task') {
    log.info(`task ${task.id} ${outcome.status === 'COMPLETED' ? `completed, ${outcome.price ?? 0} sat earned` : `reported as ${outcome.status}`}`);
  } else if (outcome.__typename === 'InvalidStateError') {
    log.warn(`task ${task.id}: too late, the task is ${outcome.status ?? '?'} (${outcome.message ?? ''})`);
  } else {
    log.warn(`task ${task.id}: submission refused: ${outcome.__typename}: ${outcome.message ?? ''}`);
  }
}

/** submitTaskResult, retried a few times when the server cannot be reached (a second submit is refused, never paid). */
async function submit(session: Session, input: Record<string, string>, log: AgentLogger): Promise<SubmitResult> {
  for (let attempt = 0; ; attempt++) {
    try {
      const { submitTaskResult } = await session.request<{ submitTaskResult: SubmitResult }>(SUBMIT, { input });
      return submitTaskResult;
    } catch (error) {
      // Only an unreachable server is worth retrying; a GraphQL error would be the same again.
      if (error instanceof GraphQLRequestError || error instanceof FatalAgentError || attempt >= 4) throw error;
      log.warn(`submitting task ${input.taskId} failed (${describe(error)}); retrying`);
      await sleep(backoffMs(attempt, 500));
    }
  }
}

/** http(s)://host[/graphql] -> the GraphQL endpoint over HTTP and over WebSocket. */
export function endpoints(url: string): { http: string; ws: string } {
  const base = new URL(url);
  if (!base.pathname.endsWith('/graphql')) base.pathname = `${base.pathname.replace(/\/$/, '')}/graphql`;
  const http = base.toString();
  base.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';
  return { http, ws: base.toString() };
}

/** Exponential, capped at 30 s, with full jitter in the upper half so many agents do not retry in step. */
export function backoffMs(failures: number, baseMs: number): number {
  const ceiling = Math.min(30_000, baseMs * 2 ** Math.min(failures, 16));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item) => b.includes(item));
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const { code, reason } = error as { code: unknown; reason?: unknown };
    return `code ${String(code)}${reason ? `: ${String(reason)}` : ''}`;
  }
  return String(error);
}
