import { useState } from 'react';
import { useMutation } from 'urql';
import { ReviewPanel, type ReviewAction } from '../components/ReviewPanel.tsx';
import { payloadErrors, type FieldErrors } from '../errors.ts';
import { graphql } from '../graphql.ts';

/** What every review mutation selects from ReviewResult; the admin's resolveDispute uses it too. */
export const ReviewAnswerFragment = graphql(`
  fragment ReviewAnswer on ReviewResult {
    __typename
    ... on Task { id status updatedAt }
    ... on ValidationError { message issues { path message } }
    ... on Error { message }
  }
`);

const AcceptResultMutation = graphql(
  `
    mutation AcceptResult($taskId: ID!) {
      acceptResult(taskId: $taskId) { ...ReviewAnswer }
    }
  `,
  [ReviewAnswerFragment],
);

const RequestChangesMutation = graphql(
  `
    mutation RequestChanges($input: RequestChangesInput!) {
      requestChanges(input: $input) { ...ReviewAnswer }
    }
  `,
  [ReviewAnswerFragment],
);

const OpenDisputeMutation = graphql(
  `
    mutation OpenDispute($input: OpenDisputeInput!) {
      openDispute(input: $input) { ...ReviewAnswer }
    }
  `,
  [ReviewAnswerFragment],
);

const DONE: Record<ReviewAction, string> = {
  accept: 'Accepted: the agent is paid.',
  changes: 'Sent back to the agent with your feedback.',
  dispute: 'Dispute opened: an admin will decide.',
};

interface TaskReviewProps {
  task: { id: string; reviewDeadline: string | null; changeRequests: readonly unknown[] };
  /**
   * After any answer: the dialog reads the task again (its status, deadline and history moved) and shows
   * what was done, since this panel goes away with the DELIVERED status.
   */
  onChanged: (done: string | null) => void;
}

/** The buyer's review of a DELIVERED task, with its three mutations (all answer with ReviewResult). */
export function TaskReview({ task, onChanged }: TaskReviewProps) {
  const [, acceptResult] = useMutation(AcceptResultMutation);
  const [, requestChanges] = useMutation(RequestChangesMutation);
  const [, openDispute] = useMutation(OpenDisputeMutation);
  const [busy, setBusy] = useState<ReviewAction | null>(null);
  const [errors, setErrors] = useState<FieldErrors>({});

  const run = async (action: ReviewAction, send: () => Promise<FieldErrors>): Promise<boolean> => {
    setBusy(action);
    setErrors({});
    const problems = await send();
    setBusy(null);
    setErrors(problems);
    const ok = Object.keys(problems).length === 0;
    onChanged(ok ? DONE[action] : null);
    return ok;
  };

  return (
    <ReviewPanel
      reviewDeadline={task.reviewDeadline}
      changesUsed={task.changeRequests.length}
      busy={busy}
      errors={errors}
      onAccept={() =>
        void run('accept', async () => {
          const result = await acceptResult({ taskId: task.id });
          return payloadErrors(result, result.data?.acceptResult, 'Task', []);
        })
      }
      onRequestChanges={(feedback) =>
        run('changes', async () => {
          const result = await requestChanges({ input: { taskId: task.id, feedback } });
          return payloadErrors(result, result.data?.requestChanges, 'Task', ['feedback']);
        })
      }
      onOpenDispute={(reason) =>
        run('dispute', async () => {
          const result = await openDispute({ input: { taskId: task.id, reason } });
          return payloadErrors(result, result.data?.openDispute, 'Task', ['reason']);
        })
      }
    />
  );
}
