import type { ResultOf } from 'gql.tada';
import { useEffect, useId, useRef, type ReactNode } from 'react';
import { graphql } from '../graphql.ts';
import { formatDateTime, formatSats, formatTime } from '../format.ts';
import { ChangeRequestList, DisputeInfo } from './ReviewHistory.tsx';
import { TaskStatusBadge } from './ui.tsx';

export const TaskDetailFragment = graphql(`
  fragment TaskDetail on Task {
    id
    title
    prompt
    skills
    complexity
    maxPrice
    price
    status
    result
    error
    attempts
    createdAt
    updatedAt
    completedAt
    waitingReason
    fee
    reviewDeadline
    changeRequests { at feedback }
    dispute { reason openedAt agentShareBps resolutionNote resolvedAt }
    agent { id name mode }
    events { id sequence status message at }
  }
`);

export type TaskDetail = ResultOf<typeof TaskDetailFragment>;

interface TaskDialogProps {
  task: TaskDetail | null;
  /** Shown instead of the task when loading failed or the task is not visible. */
  problem: string | null;
  onClose: () => void;
  /** Actions that apply to this task for this viewer (cancel, submit a result, review it). */
  children?: ReactNode;
}

/**
 * The task in a native modal <dialog>: focus moves into it, Tab stays inside, Esc closes it, and focus returns
 * to whatever opened it. Everything the buyer or the agent wrote is rendered as text, never as HTML.
 */
export function TaskDialog({ task, problem, onClose, children }: TaskDialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const onCloseRef = useRef(onClose);
  useEffect(() => {
    onCloseRef.current = onClose;
  }, [onClose]);

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return undefined;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!dialog.open) dialog.showModal();
    // `close` fires asynchronously; one left over from an earlier close (StrictMode remount) must not close us.
    const handleClose = () => {
      if (!dialog.open) onCloseRef.current();
    };
    dialog.addEventListener('close', handleClose);
    return () => {
      dialog.removeEventListener('close', handleClose);
      if (dialog.open) dialog.close();
      opener?.focus();
    };
  }, []);

  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby={titleId}
      data-testid="task-dialog"
      // A click on the backdrop lands on the <dialog> itself (its content fills it): close, as Esc does.
      onClick={(event) => {
        if (event.target === event.currentTarget) event.currentTarget.close();
      }}
    >
      <div className="dialog-inner">
      <header className="dialog-header">
        <h2 id={titleId} data-testid="task-dialog-title">
          {task?.title ?? (problem ? 'Task unavailable' : 'Loading task…')}
        </h2>
        {task && <TaskStatusBadge status={task.status} />}
        <button type="button" className="icon-button" onClick={() => ref.current?.close()} aria-label="Close" autoFocus>
          ×
        </button>
      </header>
      {problem && !task && <p className="form-error">{problem}</p>}
      {task && (
        <div className="dialog-body">
          <dl className="meta">
            <div><dt>Agent</dt><dd data-testid="task-agent">{task.agent?.name ?? '—'}</dd></div>
            <div><dt>Price</dt><dd data-testid="task-price">{formatSats(task.price)}</dd></div>
            <div><dt>Max price</dt><dd>{formatSats(task.maxPrice)}</dd></div>
            {task.fee != null && <div><dt>Platform fee</dt><dd data-testid="task-fee">{formatSats(task.fee)}</dd></div>}
            <div><dt>Complexity</dt><dd>{task.complexity} / 10</dd></div>
            <div><dt>Attempts</dt><dd data-testid="task-attempts">{task.attempts}</dd></div>
            <div><dt>Skills</dt><dd>{task.skills.length ? task.skills.join(', ') : '—'}</dd></div>
            <div><dt>Created</dt><dd>{formatDateTime(task.createdAt)}</dd></div>
            <div><dt>Completed</dt><dd>{formatDateTime(task.completedAt)}</dd></div>
          </dl>
          {task.status === 'PENDING' && task.waitingReason && (
            <p className="waiting" data-testid="task-waiting-reason" role="status">
              Waiting: {task.waitingReason}
            </p>
          )}
          <h3>Prompt</h3>
          <pre className="text-block" data-testid="task-prompt">{task.prompt}</pre>
          {task.result != null && (
            <>
              <h3>Result</h3>
              <pre className="text-block" data-testid="task-result">{task.result}</pre>
            </>
          )}
          {task.error != null && (
            <>
              <h3>Error</h3>
              <pre className="text-block text-error" data-testid="task-error">{task.error}</pre>
            </>
          )}
          <ChangeRequestList requests={task.changeRequests} />
          {task.dispute && <DisputeInfo dispute={task.dispute} />}
          {children}
          <h3>Timeline</h3>
          <ol className="timeline" data-testid="task-timeline">
            {task.events.map((event) => (
              <li key={event.id} data-testid="timeline-item" data-status={event.status}>
                <time dateTime={event.at}>{formatTime(event.at)}</time>
                <TaskStatusBadge status={event.status} />
                {event.message && <span className="timeline-message">{event.message}</span>}
                <span className="seq">#{event.sequence}</span>
              </li>
            ))}
          </ol>
        </div>
      )}
      </div>
    </dialog>
  );
}
