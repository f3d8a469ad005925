/** The review and dispute mutations and the fields they change, as a test drives them over HTTP. */
import type { Gql } from './harness.ts';
import { dataOf } from './harness.ts';

export interface ReviewedTask {
  id: string;
  status: string;
  price: number | null;
  maxPrice: number;
  fee: number | null;
  result: string | null;
  reviewWindowSeconds: number;
  reviewDeadline: string | null;
  changeRequests: { feedback: string; at: string }[];
  dispute: { reason: string; agentShareBps: number | null; resolutionNote: string | null; resolvedAt: string | null } | null;
  agent: { id: string; name: string } | null;
  events: { status: string; kind: string; message: string | null }[];
}

/** What a review mutation answered: the task, or the error member of ReviewResult. */
export interface ReviewAnswer {
  __typename: string;
  status?: string;
  message?: string;
}

export const REVIEWED_TASK_FIELDS = `id status price maxPrice fee result reviewWindowSeconds reviewDeadline
  changeRequests { feedback at } dispute { reason agentShareBps resolutionNote resolvedAt }
  agent { id name } events { status kind message }`;

const ANSWER = `__typename ... on Task { status } ... on InvalidStateError { message status } ... on Error { message }`;

export function reviewOps(gql: Gql) {
  async function answer(query: string, variables: Record<string, unknown>, token: string, field: string): Promise<ReviewAnswer> {
    const res = await gql(query, variables, token);
    if (res.errors?.length) return { __typename: 'GraphQLError', message: String(res.errors[0]?.extensions?.code ?? res.errors[0]?.message) };
    return dataOf(res, (d) => d[field] as ReviewAnswer, field);
  }
  return {
    async task(token: string, id: string): Promise<ReviewedTask> {
      const res = await gql(`query ($id: ID!) { task(id: $id) { ${REVIEWED_TASK_FIELDS} } }`, { id }, token);
      return dataOf(res, (d) => d.task as ReviewedTask, 'task');
    },
    accept: (token: string, taskId: string) => answer(`mutation ($taskId: ID!) { acceptResult(taskId: $taskId) { ${ANSWER} } }`, { taskId }, token, 'acceptResult'),
    requestChanges: (token: string, taskId: string, feedback: string) =>
      answer(`mutation ($input: RequestChangesInput!) { requestChanges(input: $input) { ${ANSWER} } }`, { input: { taskId, feedback } }, token, 'requestChanges'),
    openDispute: (token: string, taskId: string, reason: string) =>
      answer(`mutation ($input: OpenDisputeInput!) { openDispute(input: $input) { ${ANSWER} } }`, { input: { taskId, reason } }, token, 'openDispute'),
    resolveDispute: (token: string, taskId: string, agentShareBps: number, note: string) =>
      answer(`mutation ($input: ResolveDisputeInput!) { resolveDispute(input: $input) { ${ANSWER} } }`, { input: { taskId, agentShareBps, note } }, token, 'resolveDispute'),
    async platformRevenue(): Promise<number> {
      const res = await gql(`{ marketStats { platformRevenue totalPaid } }`);
      return dataOf(res, (d) => d.marketStats?.platformRevenue as number, 'marketStats');
    },
  };
}
