import { useEffect, useState } from 'react';
import { useMutation, useQuery, useSubscription } from 'urql';
import { SubmitResultForm } from '../components/SubmitResultForm.tsx';
import { TaskReview } from './TaskReview.tsx';
import { TaskDetailFragment, TaskDialog, type TaskDetail } from '../components/TaskDialog.tsx';
import { issuesToFieldErrors, requestErrorMessage, type FieldErrors } from '../errors.ts';
import { graphql, type Role } from '../graphql.ts';

const TaskQuery = graphql(
  `
    query TaskDetails($id: ID!) {
      task(id: $id) { ...TaskDetail }
    }
  `,
  [TaskDetailFragment],
);

const TaskUpdatedSubscription = graphql(
  `
    subscription TaskDetailsLive($id: ID!) {
      taskUpdated(id: $id) { ...TaskDetail }
    }
  `,
  [TaskDetailFragment],
);

const CancelTaskMutation = graphql(`
  mutation CancelTask($id: ID!) {
    cancelTask(id: $id) {
      __typename
      ... on Task { id status updatedAt }
      ... on Error { message }
    }
  }
`);

const SubmitTaskResultMutation = graphql(`
  mutation SubmitTaskResult($input: SubmitTaskResultInput!) {
    submitTaskResult(input: $input) {
      __typename
      ... on Task { id status result error updatedAt }
      ... on ValidationError { message issues { path message } }
      ... on Error { message }
    }
  }
`);

function newer(a: TaskDetail | null | undefined, b: TaskDetail | null | undefined): TaskDetail | null {
  if (!a) return b ?? null;
  if (!b) return a;
  return Date.parse(b.updatedAt) > Date.parse(a.updatedAt) || b.events.length > a.events.length ? b : a;
}

/** The task dialog with its data: the task now, kept live by `taskUpdated`, and the actions this viewer has. */
export function TaskDetails({ id, role, onClose }: { id: string; role: Role; onClose: () => void }) {
  const [query, refetch] = useQuery({ query: TaskQuery, variables: { id }, requestPolicy: 'cache-and-network' });
  const [live] = useSubscription({ query: TaskUpdatedSubscription, variables: { id } });
  const [cancelState, cancelTask] = useMutation(CancelTaskMutation);
  const [submitState, submitResult] = useMutation(SubmitTaskResultMutation);
  const [actionError, setActionError] = useState<string | null>(null);
  const [submitErrors, setSubmitErrors] = useState<FieldErrors>({});
  // What the buyer's last review action did: it stays after the review panel goes with DELIVERED.
  const [reviewDone, setReviewDone] = useState<string | null>(null);

  const newest = newer(query.data?.task, live.data?.taskUpdated);
  // Why a task waits changes with the agents (one connects, another frees up), not with the task: while it
  // is PENDING, ask again every few seconds and show the latest answer.
  const pending = newest?.status === 'PENDING';
  useEffect(() => {
    if (!pending) return;
    const timer = setInterval(() => refetch({ requestPolicy: 'network-only' }), 4000);
    return () => clearInterval(timer);
  }, [pending, refetch]);
  const task = newest && pending ? { ...newest, waitingReason: query.data?.task?.waitingReason ?? newest.waitingReason } : newest;
  const problem = query.error ? requestErrorMessage(query.error) : query.data && !query.data.task ? 'This task does not exist or is not visible to you.' : null;

  const cancel = async () => {
    setActionError(null);
    const result = await cancelTask({ id });
    const payload = result.data?.cancelTask;
    if (result.error) setActionError(requestErrorMessage(result.error));
    else if (payload && payload.__typename !== 'Task') setActionError(payload.message);
    refetch({ requestPolicy: 'network-only' });
  };

  const submit = async (answer: { result: string } | { error: string }) => {
    setSubmitErrors({});
    const result = await submitResult({ input: { taskId: id, ...answer } });
    const payload = result.data?.submitTaskResult;
    if (result.error) setSubmitErrors({ form: requestErrorMessage(result.error) });
    else if (payload?.__typename === 'ValidationError') setSubmitErrors(issuesToFieldErrors(payload.issues, ['result', 'error']));
    else if (payload && payload.__typename !== 'Task') setSubmitErrors({ form: payload.message });
    refetch({ requestPolicy: 'network-only' });
  };

  const canCancel = role === 'BUYER' && task != null && task.status === 'PENDING';
  const canReview = role === 'BUYER' && task?.status === 'DELIVERED';
  const canAnswer =
    role === 'AGENT' && task?.agent?.mode === 'EXTERNAL' && task.status === 'PROCESSING';

  return (
    <TaskDialog task={task} problem={problem} onClose={onClose}>
      {canCancel && (
        <div className="dialog-actions">
          <button type="button" className="danger" onClick={() => void cancel()} disabled={cancelState.fetching} data-testid="cancel-task">
            {cancelState.fetching ? 'Cancelling…' : 'Cancel task'}
          </button>
          <span className="muted">The escrowed maximum goes back to your balance.</span>
        </div>
      )}
      {actionError && <p className="form-error" role="alert">{actionError}</p>}
      {canReview && task && (
        <TaskReview
          task={task}
          onChanged={(done) => {
            setReviewDone(done);
            refetch({ requestPolicy: 'network-only' });
          }}
        />
      )}
      {/* Always rendered, so screen readers announce the message when it arrives. */}
      <p className={reviewDone ? 'success review-done' : 'sr-only'} role="status" data-testid="review-done">
        {reviewDone}
      </p>
      {canAnswer && <SubmitResultForm busy={submitState.fetching} errors={submitErrors} onSubmit={(a) => void submit(a)} />}
    </TaskDialog>
  );
}
