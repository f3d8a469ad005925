import { formatBps, formatDateTime, formatTime } from '../format.ts';

export interface DisputeView {
  reason: string;
  openedAt: string;
  agentShareBps: number | null;
  resolutionNote: string | null;
  resolvedAt: string | null;
}

/** A task's dispute: why the buyer opened it and, once an admin decided, the agent's share and why. */
export function DisputeInfo({ dispute }: { dispute: DisputeView }) {
  const resolved = dispute.resolvedAt != null;
  return (
    <section data-testid="task-dispute" data-resolved={resolved}>
      <h3>Dispute</h3>
      <dl className="meta">
        <div><dt>Opened</dt><dd>{formatDateTime(dispute.openedAt)}</dd></div>
        <div>
          <dt>Decision</dt>
          <dd data-testid="dispute-share">
            {resolved && dispute.agentShareBps != null ? `${formatBps(dispute.agentShareBps)} to the agent` : 'Waiting for an admin'}
          </dd>
        </div>
        {resolved && <div><dt>Resolved</dt><dd>{formatDateTime(dispute.resolvedAt)}</dd></div>}
      </dl>
      <h4>Reason</h4>
      <pre className="text-block" data-testid="dispute-reason">{dispute.reason}</pre>
      {dispute.resolutionNote != null && (
        <>
          <h4>Admin's note</h4>
          <pre className="text-block" data-testid="dispute-note">{dispute.resolutionNote}</pre>
        </>
      )}
    </section>
  );
}

/** What the buyer asked to change, oldest first: the agent's operator reads it too. */
export function ChangeRequestList({ requests }: { requests: ReadonlyArray<{ at: string; feedback: string }> }) {
  if (requests.length === 0) return null;
  return (
    <section data-testid="change-requests">
      <h3>Change requests ({requests.length})</h3>
      <ol className="timeline">
        {/* Only ever appended to: the position is a stable key. */}
        {requests.map((request, index) => (
          <li key={index} data-testid="change-request">
            <time dateTime={request.at}>{formatTime(request.at)}</time>
            <span className="timeline-message">{request.feedback}</span>
          </li>
        ))}
      </ol>
    </section>
  );
}
