/**
 * The GraphQL operations the engine's whole-system tests (engine-retries, crash-recovery,
 * concurrency-bound, graceful-stop) repeat: sign up, fund, post a task, read it back, agents, health.
 * Works over any `gql` function: the in-process harness's or a child process's (`child-server.ts`).
 */
import { ADMIN, type GraphQLResponse, waitFor } from './harness.ts';

export type Gql = <T = Record<string, any>>(query: string, variables?: Record<string, unknown>, token?: string) => Promise<GraphQLResponse<T>>;

/** POST GraphQL operations to `graphqlUrl`. */
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

export type TaskStatus = 'PENDING' | 'ASSIGNED' | 'PROCESSING' | 'COMPLETED' | 'FAILED' | 'CANCELLED';

export interface AgentView {
  id: string;
  name: string;
  reputation: number;
  tasksCompleted: number;
  tasksFailed: number;
  balance: number;
  maxConcurrency: number;
  activeTasks: number;
}

export interface TaskView {
  id: string;
  status: TaskStatus;
  attempts: number;
  price: number | null;
  maxPrice: number;
  result: string | null;
  error: string | null;
  agent: AgentView | null;
  events: { status: TaskStatus; message: string | null; sequence: number }[];
}

export interface AiHealth {
  status: 'OK' | 'DEGRADED' | 'DOWN';
  detail: string | null;
  latencyMs: number | null;
}

const AGENT_FIELDS = 'id name reputation tasksCompleted tasksFailed balance maxConcurrency activeTasks';
const TASK_FIELDS = `id status attempts price maxPrice result error agent { ${AGENT_FIELDS} } events { status message sequence }`;

/** A task's local (database) id: its global id is base64 of `Task:<uuid>`. */
export function taskLocalId(globalId: string): string {
  const decoded = Buffer.from(globalId, 'base64').toString('utf8');
  if (!decoded.startsWith('Task:')) throw new Error(`not a Task id: ${globalId} (${decoded})`);
  return decoded.slice('Task:'.length);
}

/** True once the task is COMPLETED, FAILED or CANCELLED. */
export function isFinal(task: TaskView): boolean {
  return task.status === 'COMPLETED' || task.status === 'FAILED' || task.status === 'CANCELLED';
}

let users = 0;

export function engineMarketOps(gql: Gql) {
  let adminToken: string | undefined;

  /** The picked value, or an error carrying the whole response. */
  function expectData<T>(res: GraphQLResponse, pick: (data: Record<string, any>) => T | undefined, what: string): T {
    const value = res.data ? pick(res.data) : undefined;
    if (value === undefined || value === null) throw new Error(`${what} failed: ${JSON.stringify(res)}`);
    return value;
  }

  const ops = {
    async signUp(role: 'BUYER' | 'AGENT'): Promise<{ token: string; id: string }> {
      const res = await gql(
        `mutation ($input: SignUpInput!) { signUp(input: $input) { __typename ... on AuthPayload { token user { id } } ... on Error { message } } }`,
        { input: { email: `engine${++users}-${process.pid}-${Date.now()}@aicp.test`, password: 'correct horse battery', role } },
      );
      const payload = expectData(res, (d) => (d.signUp?.__typename === 'AuthPayload' ? d.signUp : undefined), 'signUp');
      return { token: payload.token, id: payload.user.id };
    },

    async adminToken(): Promise<string> {
      if (adminToken) return adminToken;
      const res = await gql(`mutation ($input: LogInInput!) { logIn(input: $input) { ... on AuthPayload { token } } }`, { input: ADMIN });
      adminToken = expectData(res, (d) => d.logIn?.token as string | undefined, 'admin logIn');
      return adminToken;
    },

    async credit(userId: string, amount: number): Promise<void> {
      const res = await gql(
        `mutation ($input: CreditAccountInput!) { creditAccount(input: $input) { __typename ... on Error { message } } }`,
        { input: { userId, amount, reference: `engine-credit-${++users}-${process.pid}-${Date.now()}` } },
        await ops.adminToken(),
      );
      expectData(res, (d) => (d.creditAccount?.__typename === 'User' ? true : undefined), 'creditAccount');
    },

    /** A new buyer holding exactly `amount` sat. */
    async fundedBuyer(amount: number): Promise<{ token: string; id: string }> {
      const buyer = await ops.signUp('BUYER');
      await ops.credit(buyer.id, amount);
      return buyer;
    },

    /** The signed-in user's spendable balance and what is held in escrow for their open tasks. */
    async wallet(token: string): Promise<{ balance: number; escrowed: number }> {
      const res = await gql(`{ me { balance escrowed } }`, {}, token);
      return expectData(res, (d) => d.me as { balance: number; escrowed: number } | undefined, 'me');
    },

    /** Post a task (complexity 1, no skills, so every seeded agent fits); returns its global id. */
    async createTask(token: string, prompt: string, maxPrice: number): Promise<string> {
      const res = await gql(
        `mutation ($input: CreateTaskInput!) { createTask(input: $input) { __typename ... on Task { id } ... on Error { message } } }`,
        { input: { title: prompt.slice(0, 60), prompt, complexity: 1, maxPrice } },
        token,
      );
      return expectData(res, (d) => (d.createTask?.__typename === 'Task' ? (d.createTask.id as string) : undefined), 'createTask');
    },

    async task(token: string, id: string): Promise<TaskView> {
      const res = await gql(`query ($id: ID!) { task(id: $id) { ${TASK_FIELDS} } }`, { id }, token);
      return expectData(res, (d) => d.task as TaskView | undefined, 'task');
    },

    /** Poll the task until `accept` holds; fails after `timeoutMs` with the last state seen. */
    async waitForTask(token: string, id: string, accept: (task: TaskView) => boolean, timeoutMs = 20_000, what = 'the task'): Promise<TaskView> {
      let last: TaskView | undefined;
      try {
        return await waitFor(
          async () => {
            last = await ops.task(token, id);
            return accept(last) ? last : undefined;
          },
          timeoutMs,
          what,
        );
      } catch (error) {
        throw new Error(`${(error as Error).message}; last seen: ${JSON.stringify(last)}`);
      }
    },

    async agents(): Promise<AgentView[]> {
      const res = await gql(`{ agents(first: 100) { edges { node { ${AGENT_FIELDS} } } } }`);
      const edges = expectData(res, (d) => d.agents?.edges as { node: AgentView }[] | undefined, 'agents');
      return edges.map((e) => e.node);
    },

    /** As an operator (role AGENT): a MANAGED agent run by the engine. */
    async registerAgent(token: string, input: { name: string; maxConcurrency?: number }): Promise<AgentView> {
      const res = await gql(
        `mutation ($input: RegisterAgentInput!) { registerAgent(input: $input) { __typename ... on Agent { ${AGENT_FIELDS} } ... on Error { message } } }`,
        { input },
        token,
      );
      return expectData(res, (d) => (d.registerAgent?.__typename === 'Agent' ? (d.registerAgent as AgentView) : undefined), 'registerAgent');
    },

    /** As the admin (seeded agents have no operator). */
    async updateAgent(input: { id: string; maxConcurrency?: number }): Promise<AgentView> {
      const res = await gql(
        `mutation ($input: UpdateAgentInput!) { updateAgent(input: $input) { __typename ... on Agent { ${AGENT_FIELDS} } ... on Error { message } } }`,
        { input },
        await ops.adminToken(),
      );
      return expectData(res, (d) => (d.updateAgent?.__typename === 'Agent' ? (d.updateAgent as AgentView) : undefined), 'updateAgent');
    },

    async aiHealth(): Promise<AiHealth> {
      const res = await gql(`{ health { ai { status detail latencyMs } } }`);
      return expectData(res, (d) => d.health?.ai as AiHealth | undefined, 'health');
    },
  };
  return ops;
}

export type EngineMarketOps = ReturnType<typeof engineMarketOps>;
