/**
 * The GraphQL operations the subscription and external-agent tests repeat, as small typed helpers over the
 * harness. Each throws with the whole response when the server does not answer as expected.
 */
import { localId } from '../schema/ids.ts';
import type { TestServer } from './harness.ts';

export interface EventView {
  sequence: number;
  status: string;
  message: string | null;
  task: { id: string };
}

export interface TaskView {
  id: string;
  status: string;
  price: number | null;
  result: string | null;
  error: string | null;
  agent: { id: string; name: string } | null;
  events: { sequence: number; status: string; message: string | null }[];
}

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
  activeTasks: number;
}

export interface SubmitView {
  __typename: string;
  message?: string;
  status?: string;
  result?: string | null;
  error?: string | null;
}

export const TASK_FIELDS = 'id status price result error agent { id name } events { sequence status message }';
export const EVENT_FIELDS = 'sequence status message task { id }';
const AGENT_FIELDS = 'id name status reputation successRate tasksCompleted tasksFailed earnings balance activeTasks';

export async function registerExternalAgent(
  server: TestServer,
  token: string,
  input: { name: string; skills: string[]; askPerUnit?: number; maxConcurrency?: number },
): Promise<string> {
  const res = await server.gql(
    'mutation ($input: RegisterAgentInput!) { registerAgent(input: $input) { __typename ... on Agent { id } ... on Error { message } } }',
    { input: { ...input, mode: 'EXTERNAL' } },
    token,
  );
  if (res.data?.registerAgent?.__typename !== 'Agent') throw new Error(`registerAgent failed: ${JSON.stringify(res)}`);
  return res.data.registerAgent.id as string;
}

export async function setAgentStatus(server: TestServer, token: string, id: string, status: 'ONLINE' | 'PAUSED'): Promise<void> {
  const res = await server.gql('mutation ($input: UpdateAgentInput!) { updateAgent(input: $input) { __typename } }', { input: { id, status } }, token);
  if (res.data?.updateAgent?.__typename !== 'Agent') throw new Error(`updateAgent failed: ${JSON.stringify(res)}`);
}

export async function createTask(
  server: TestServer,
  token: string,
  input: { skills?: string[]; maxPrice: number; complexity?: number; title?: string; prompt?: string },
): Promise<string> {
  const res = await server.gql(
    'mutation ($input: CreateTaskInput!) { createTask(input: $input) { __typename ... on Task { id } ... on Error { message } } }',
    { input: { title: 'A task', prompt: 'Say something useful.', complexity: 1, ...input } },
    token,
  );
  if (res.data?.createTask?.__typename !== 'Task') throw new Error(`createTask failed: ${JSON.stringify(res)}`);
  return res.data.createTask.id as string;
}

export async function submitResult(server: TestServer, token: string, taskId: string, answer: { result?: string; error?: string }): Promise<SubmitView> {
  const res = await server.gql(
    `mutation ($input: SubmitTaskResultInput!) {
      submitTaskResult(input: $input) {
        __typename ... on Error { message } ... on InvalidStateError { status } ... on Task { status result error }
      }
    }`,
    { input: { taskId, ...answer } },
    token,
  );
  if (!res.data?.submitTaskResult) throw new Error(`submitTaskResult failed: ${JSON.stringify(res)}`);
  return res.data.submitTaskResult as SubmitView;
}

/** The task as `token`'s holder sees it; null when it is not visible to them. */
export async function readTask(server: TestServer, token: string, id: string): Promise<TaskView | null> {
  const res = await server.gql(`query ($id: ID!) { task(id: $id) { ${TASK_FIELDS} } }`, { id }, token);
  if (res.errors) throw new Error(`task query failed: ${JSON.stringify(res)}`);
  return (res.data?.task ?? null) as TaskView | null;
}

export async function readAgent(server: TestServer, id: string): Promise<AgentView> {
  const res = await server.gql(`query ($id: ID!) { agent(id: $id) { ${AGENT_FIELDS} } }`, { id }, await server.adminToken());
  if (!res.data?.agent) throw new Error(`agent query failed: ${JSON.stringify(res)}`);
  return res.data.agent as AgentView;
}

export async function money(server: TestServer, token: string): Promise<{ balance: number; escrowed: number }> {
  const res = await server.gql('{ me { balance escrowed } }', {}, token);
  if (!res.data?.me) throw new Error(`me query failed: ${JSON.stringify(res)}`);
  return res.data.me as { balance: number; escrowed: number };
}

/** A buyer with `amount` sats to spend. */
export async function fundedBuyer(server: TestServer, amount = 10_000_000): Promise<{ token: string; id: string; email: string }> {
  const buyer = await server.signUp('BUYER');
  await server.credit(buyer.id, amount);
  return buyer;
}

/** The ledger rows booked against a task, read straight from the database (what the API cannot hide). */
export async function transfersOf(server: TestServer, taskId: string): Promise<{ kind: string; amount: number; credit_account: string }[]> {
  const id = localId(taskId, 'Task');
  if (!id) throw new Error(`not a Task ID: ${taskId}`);
  const rows = await server.app.services.store.db
    .selectFrom('transfers')
    .select(['kind', 'amount', 'credit_account'])
    .where('task_id', '=', id)
    .orderBy('created_at')
    .execute();
  return rows.map((row) => ({ ...row, amount: Number(row.amount) }));
}
