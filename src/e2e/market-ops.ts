/**
 * The marketplace's GraphQL operations that whole-system tests repeat (fund a buyer, post and read tasks,
 * register, update and read agents, answer as an EXTERNAL agent, read a wallet or the AI's health), as one
 * set of typed helpers over any `gql`: the in-process harness's or a child process's (`child-server.ts`).
 * Each throws with the whole response when the server does not answer as expected, so a test's own
 * expect()s only ever speak about the behaviour under test.
 */
import { accountOps, dataOf, type Gql, waitFor } from './harness.ts';

export type TaskStatus = 'PENDING' | 'ASSIGNED' | 'PROCESSING' | 'DELIVERED' | 'DISPUTED' | 'COMPLETED' | 'FAILED' | 'CANCELLED';

export interface AgentView {
  id: string;
  name: string;
  status: string;
  reputation: number;
  successRate: number;
  tasksCompleted: number;
  tasksFailed: number;
  earnings: number;
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
  events: { sequence: number; status: TaskStatus; message: string | null }[];
}

/** One `taskEvents` result, as selected by EVENT_FIELDS. */
export interface EventView {
  sequence: number;
  status: string;
  message: string | null;
  task: { id: string };
}

/** What `submitTaskResult` answered: the task, or the error it was refused with. */
export interface SubmitView {
  __typename: string;
  message?: string;
  status?: string;
  result?: string | null;
  error?: string | null;
}

export interface AiHealth {
  status: 'OK' | 'DEGRADED' | 'DOWN';
  detail: string | null;
  latencyMs: number | null;
}

export interface NewTask {
  maxPrice: number;
  prompt?: string;
  /** Defaults to the prompt's start: nothing reads it but people looking at logs and dashboards. */
  title?: string;
  complexity?: number;
  skills?: string[];
  /** Seconds to review the result; left out, the server's REVIEW_WINDOW_SECONDS. */
  reviewWindowSeconds?: number;
}

export interface NewAgent {
  name: string;
  /** MANAGED (run by the engine) when left out, as in the API. */
  mode?: 'MANAGED' | 'EXTERNAL';
  skills?: string[];
  askPerUnit?: number;
  maxConcurrency?: number;
}

export const EVENT_FIELDS = 'sequence status message task { id }';
const AGENT_FIELDS = 'id name status reputation successRate tasksCompleted tasksFailed earnings balance maxConcurrency activeTasks';
const TASK_FIELDS = `id status attempts price maxPrice result error agent { ${AGENT_FIELDS} } events { sequence status message }`;

/** True once the task is COMPLETED, FAILED or CANCELLED. */
export function isFinal(task: TaskView): boolean {
  return task.status === 'COMPLETED' || task.status === 'FAILED' || task.status === 'CANCELLED';
}

export function marketOps(gql: Gql) {
  const ops = {
    ...accountOps(gql),

    /** A new buyer holding exactly `amount` sat. */
    async fundedBuyer(amount = 10_000_000): Promise<{ token: string; id: string; email: string }> {
      const buyer = await ops.signUp('BUYER');
      await ops.credit(buyer.id, amount);
      return buyer;
    },

    /** The signed-in user's spendable balance and what is held in escrow for their open tasks. */
    async wallet(token: string): Promise<{ balance: number; escrowed: number }> {
      const res = await gql(`{ me { balance escrowed } }`, {}, token);
      return dataOf(res, (d) => d.me as { balance: number; escrowed: number } | undefined, 'me');
    },

    /** Post a task (complexity 1 and no skills unless given, so every seeded agent fits); its global id. */
    async createTask(token: string, task: NewTask): Promise<string> {
      const prompt = task.prompt ?? 'Say something useful.';
      const res = await gql(
        `mutation ($input: CreateTaskInput!) { createTask(input: $input) { __typename ... on Task { id } ... on Error { message } } }`,
        { input: { complexity: 1, ...task, prompt, title: task.title ?? prompt.slice(0, 60) } },
        token,
      );
      return dataOf(res, (d) => (d.createTask?.__typename === 'Task' ? (d.createTask.id as string) : undefined), 'createTask');
    },

    /** The task as `token`'s holder sees it; null when it is not visible to them. */
    async readTask(token: string, id: string): Promise<TaskView | null> {
      const res = await gql(`query ($id: ID!) { task(id: $id) { ${TASK_FIELDS} } }`, { id }, token);
      if (res.errors) throw new Error(`task query failed: ${JSON.stringify(res)}`);
      return (res.data?.task ?? null) as TaskView | null;
    },

    /** Poll the task until `accept` holds; fails after `timeoutMs` with the last state seen, or at once if it is not visible. */
    async waitForTask(token: string, id: string, accept: (task: TaskView) => boolean, timeoutMs = 20_000, what = 'the task'): Promise<TaskView> {
      let last: TaskView | null = null;
      try {
        return await waitFor(
          async () => {
            last = await ops.readTask(token, id);
            if (!last) throw new Error(`task ${id} is not visible to this token`);
            return accept(last) ? last : undefined;
          },
          timeoutMs,
          what,
        );
      } catch (error) {
        throw new Error(`${(error as Error).message}; last seen: ${JSON.stringify(last)}`);
      }
    },

    /** Answer a task as its EXTERNAL agent's operator. */
    async submitResult(token: string, taskId: string, answer: { result?: string; error?: string }): Promise<SubmitView> {
      const res = await gql(
        `mutation ($input: SubmitTaskResultInput!) {
          submitTaskResult(input: $input) {
            __typename ... on Error { message } ... on InvalidStateError { status } ... on Task { status result error }
          }
        }`,
        { input: { taskId, ...answer } },
        token,
      );
      return dataOf(res, (d) => d.submitTaskResult as SubmitView | undefined, 'submitTaskResult');
    },

    async agents(): Promise<AgentView[]> {
      const res = await gql(`{ agents(first: 100) { edges { node { ${AGENT_FIELDS} } } } }`);
      const edges = dataOf(res, (d) => d.agents?.edges as { node: AgentView }[] | undefined, 'agents');
      return edges.map((e) => e.node);
    },

    /** One agent, read as the admin. */
    async readAgent(id: string): Promise<AgentView> {
      const res = await gql(`query ($id: ID!) { agent(id: $id) { ${AGENT_FIELDS} } }`, { id }, await ops.adminToken());
      return dataOf(res, (d) => d.agent as AgentView | undefined, 'agent');
    },

    /** As an operator (role AGENT). */
    async registerAgent(token: string, agent: NewAgent): Promise<AgentView> {
      const res = await gql(
        `mutation ($input: RegisterAgentInput!) { registerAgent(input: $input) { __typename ... on Agent { ${AGENT_FIELDS} } ... on Error { message } } }`,
        { input: agent },
        token,
      );
      return dataOf(res, (d) => (d.registerAgent?.__typename === 'Agent' ? (d.registerAgent as AgentView) : undefined), 'registerAgent');
    },

    /** As the agent's operator (`token`), or as the admin when no token is given (seeded agents have no operator). */
    async updateAgent(change: { id: string; maxConcurrency?: number; status?: 'ONLINE' | 'PAUSED' }, token?: string): Promise<AgentView> {
      const res = await gql(
        `mutation ($input: UpdateAgentInput!) { updateAgent(input: $input) { __typename ... on Agent { ${AGENT_FIELDS} } ... on Error { message } } }`,
        { input: change },
        token ?? (await ops.adminToken()),
      );
      return dataOf(res, (d) => (d.updateAgent?.__typename === 'Agent' ? (d.updateAgent as AgentView) : undefined), 'updateAgent');
    },

    async aiHealth(): Promise<AiHealth> {
      const res = await gql(`{ health { ai { status detail latencyMs } } }`);
      return dataOf(res, (d) => d.health?.ai as AiHealth | undefined, 'health');
    },
  };
  return ops;
}

export type MarketOps = ReturnType<typeof marketOps>;
