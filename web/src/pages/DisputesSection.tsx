import { useEffect } from 'react';
import { useMutation, useQuery } from 'urql';
import { DisputeList, type ResolveHandler } from '../components/DisputeList.tsx';
import { Card } from '../components/ui.tsx';
import { payloadErrors, requestErrorMessage } from '../errors.ts';
import { graphql } from '../graphql.ts';
import { ReviewAnswerFragment } from './TaskReview.tsx';

const OpenDisputesQuery = graphql(`
  query OpenDisputes {
    tasks(first: 50, status: DISPUTED) {
      totalCount
      edges { node { id title price maxPrice buyer { id email } agent { id name } dispute { reason openedAt } } }
    }
  }
`);

const ResolveDisputeMutation = graphql(
  `
    mutation ResolveDispute($input: ResolveDisputeInput!) {
      resolveDispute(input: $input) { ...ReviewAnswer }
    }
  `,
  [ReviewAnswerFragment],
);

/**
 * The admin's open disputes with their data. `refreshKey` changes whenever a dispute is opened or
 * resolved anywhere (the page's task events), so the list follows without a reload.
 */
export function DisputesSection({ refreshKey, onOpenTask }: { refreshKey: number; onOpenTask: (taskId: string) => void }) {
  const [result, refetch] = useQuery({ query: OpenDisputesQuery, requestPolicy: 'cache-and-network' });
  useEffect(() => {
    if (refreshKey > 0) refetch({ requestPolicy: 'network-only' });
  }, [refreshKey, refetch]);
  const [, resolveDispute] = useMutation(ResolveDisputeMutation);

  const onResolve: ResolveHandler = async (taskId, decision) => {
    const answer = await resolveDispute({ input: { taskId, ...decision } });
    refetch({ requestPolicy: 'network-only' });
    return payloadErrors(answer, answer.data?.resolveDispute, 'Task', ['agentShareBps', 'note']);
  };

  // The dispute waiting longest is the one to decide first (the API orders tasks by their creation).
  const disputes = (result.data?.tasks.edges.map((e) => e.node) ?? []).sort(
    (a, b) => Date.parse(a.dispute?.openedAt ?? '') - Date.parse(b.dispute?.openedAt ?? ''),
  );
  const total = result.data?.tasks.totalCount;
  return (
    <Card title={`Open disputes${total != null ? ` (${total})` : ''}`} testId="admin-disputes">
      {result.error && !result.data && <p className="form-error">{requestErrorMessage(result.error)}</p>}
      {result.data ? <DisputeList disputes={disputes} onResolve={onResolve} onOpen={onOpenTask} /> : <p className="empty">Loading…</p>}
    </Card>
  );
}
