import type { ResultOf } from 'gql.tada';
import { graphql } from '../graphql.ts';
import { formatTime } from '../format.ts';
import { Empty, TaskStatusBadge } from './ui.tsx';

export const FeedEventFragment = graphql(`
  fragment FeedEvent on TaskEvent {
    id
    sequence
    status
    message
    at
    task { id title }
  }
`);

export type FeedEvent = ResultOf<typeof FeedEventFragment>;

export const FEED_LIMIT = 50;

/** Newest first; keeps at most FEED_LIMIT. */
export function pushEvent<E extends { sequence: number }>(feed: readonly E[], event: E): E[] {
  return [event, ...feed].sort((a, b) => b.sequence - a.sequence).slice(0, FEED_LIMIT);
}

export function EventFeed({ events, onOpen, emptyText }: { events: readonly FeedEvent[]; onOpen?: (taskId: string) => void; emptyText: string }) {
  if (events.length === 0) return <Empty>{emptyText}</Empty>;
  return (
    <ol className="feed" data-testid="event-feed" aria-live="polite" aria-relevant="additions">
      {events.map((event) => (
        <li key={event.id} data-testid="feed-item" data-sequence={event.sequence} data-task-id={event.task.id} data-status={event.status}>
          <time dateTime={event.at}>{formatTime(event.at)}</time>
          <TaskStatusBadge status={event.status} />
          {onOpen ? (
            <button type="button" className="link" onClick={() => onOpen(event.task.id)}>
              {event.task.title}
            </button>
          ) : (
            <span className="feed-title">{event.task.title}</span>
          )}
          {event.message && <span className="muted feed-message">{event.message}</span>}
          <span className="seq" title="Event sequence">#{event.sequence}</span>
        </li>
      ))}
    </ol>
  );
}
