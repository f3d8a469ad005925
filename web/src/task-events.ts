import type { Client, CombinedError, DocumentInput } from '@urql/core';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { RESUME_VARIABLES } from './client.ts';
import { pushEvent } from './components/EventFeed.tsx';
import { type TaskRow, upsertTask } from './components/TaskTable.tsx';

interface SequencedEvent {
  sequence: number;
}

/** Any `taskEvents(afterSequence: $afterSequence)` subscription document a page declares. */
export type TaskEventsDocument<E extends SequencedEvent> = DocumentInput<
  { taskEvents: E },
  { afterSequence?: number | null | undefined }
>;

interface StreamOptions<E> {
  /** The highest sequence already reflected in the page's snapshot, if known: the stream starts after it. */
  after: number | null;
  pause?: boolean;
  onEvent: (event: E) => void;
}

const SEEN_LIMIT = 2_000;

/**
 * Follows `taskEvents` without gaps or duplicates across dropped connections.
 *
 * The subscription resumes at the latest sequence delivered: its `afterSequence` is recomputed at every
 * (re)subscription (see RESUME_VARIABLES in client.ts), so after the server restarts the events that happened
 * meanwhile are replayed first. Events are deduplicated by sequence, which also covers the seam between a
 * replay and live events. Every event reaches `onEvent` (no React batching can drop one).
 */
export function useTaskEventStream<E extends SequencedEvent>(
  client: Client,
  document: TaskEventsDocument<E>,
  { after, pause = false, onEvent }: StreamOptions<E>,
): { error: CombinedError | null } {
  const lastSeen = useRef<number | null>(null);
  const seen = useRef(new Set<number>());
  const handler = useRef(onEvent);
  const [error, setError] = useState<CombinedError | null>(null);

  useEffect(() => {
    handler.current = onEvent;
  }, [onEvent]);

  useEffect(() => {
    if (after != null && (lastSeen.current == null || after > lastSeen.current)) lastSeen.current = after;
  }, [after]);

  useEffect(() => {
    if (pause) return undefined;
    const resume = () => ({ afterSequence: lastSeen.current });
    const { unsubscribe } = client
      .subscription(document, resume(), { [RESUME_VARIABLES]: resume })
      .subscribe((result) => {
        if (result.error) setError(result.error);
        const event = result.data?.taskEvents;
        if (!event || seen.current.has(event.sequence)) return;
        seen.current.add(event.sequence);
        if (seen.current.size > SEEN_LIMIT) {
          const oldest = seen.current.values().next().value;
          if (oldest !== undefined) seen.current.delete(oldest);
        }
        if (lastSeen.current == null || event.sequence > lastSeen.current) lastSeen.current = event.sequence;
        setError(null);
        handler.current(event);
      });
    return unsubscribe;
  }, [client, document, pause]);

  return { error };
}

/** The highest event sequence found in a snapshot of tasks (each with its `events`), or null. */
export function maxSequence(tasks: ReadonlyArray<{ events: ReadonlyArray<SequencedEvent> }>): number | null {
  let max: number | null = null;
  for (const task of tasks) for (const e of task.events) if (max == null || e.sequence > max) max = e.sequence;
  return max;
}

/**
 * A page's list of tasks kept live: the query's `snapshot` with every streamed event's task upserted over
 * it, plus the events for the feed. The stream starts after the snapshot's newest event, or after `since`
 * (Query.eventSequence read with the snapshot) when that is later, and waits for the snapshot (unless its
 * query failed), so nothing between the two is lost, even when the snapshot is empty. `onEvent` runs after each event
 * (a page refreshes its balances or agents); `upsert` adds a task the page learned of otherwise.
 */
export function useLiveTasks<E extends SequencedEvent & { task: TaskRow }>(
  client: Client,
  document: TaskEventsDocument<E>,
  {
    snapshot,
    since = null,
    failed,
    onEvent,
  }: { snapshot: ReadonlyArray<E['task'] & { events: ReadonlyArray<SequencedEvent> }> | undefined; since?: number | null; failed: boolean; onEvent?: (event: E) => void },
): { tasks: E['task'][]; feed: E[]; upsert: (task: E['task']) => void } {
  type T = E['task'];
  const [live, setLive] = useState<T[]>([]);
  const [feed, setFeed] = useState<E[]>([]);
  const upsert = useCallback((task: T) => setLive((prev) => upsertTask(prev, task)), []);
  const handle = useCallback(
    (event: E) => {
      setFeed((prev) => pushEvent(prev, event));
      upsert(event.task);
      onEvent?.(event);
    },
    [upsert, onEvent],
  );
  const newest = snapshot ? maxSequence(snapshot) : null;
  const after = newest == null && since == null ? null : Math.max(newest ?? 0, since ?? 0);
  useTaskEventStream(client, document, { after, pause: !snapshot && !failed, onEvent: handle });
  const tasks = useMemo(() => live.reduce<T[]>((list, task) => upsertTask(list, task), [...(snapshot ?? [])]), [live, snapshot]);
  return { tasks, feed, upsert };
}
