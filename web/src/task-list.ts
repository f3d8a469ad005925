import type { Client, DocumentInput } from '@urql/core';
import { useCallback, useMemo, useState } from 'react';
import { useQuery } from 'urql';
import { FeedEventFragment } from './components/EventFeed.tsx';
import { type TaskRow, TaskRowFragment } from './components/TaskTable.tsx';
import { requestErrorMessage } from './errors.ts';
import { graphql, type TaskStatus } from './graphql.ts';
import { useDebouncedValue } from './hooks.ts';
import { type TaskEventsDocument, useLiveTasks } from './task-events.ts';

/** The statuses a task rests in (ASSIGNED only passes), in lifecycle order: the filter's choices. */
export const TASK_STATUSES: readonly TaskStatus[] = ['PENDING', 'PROCESSING', 'DELIVERED', 'DISPUTED', 'COMPLETED', 'FAILED', 'CANCELLED'];

const PAGE_SIZE = 20;
const SEARCH_DEBOUNCE_MS = 250;

interface Sequenced {
  sequence: number;
}

interface TaskPage<Row> {
  /** Where the page's live stream may start: the page reflects every event up to it. */
  eventSequence: number;
  tasks: {
    totalCount: number;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    edges: ReadonlyArray<{ node: Row }>;
  };
}

interface TaskPageVariables {
  first: number;
  after?: string | null;
  status?: TaskStatus | null;
  search?: string | null;
}

/** A page's `tasks(first:, after:, status:, search:)` query; its rows carry their events' sequences. */
export type TaskPageDocument<Row> = DocumentInput<TaskPage<Row>, TaskPageVariables>;

/**
 * The tasks the viewer may see, as a buyer's or an operator's page lists them (the server decides which:
 * a buyer's own, an operator's agents'), with the live stream that keeps them current. The admin's page
 * asks for more (each task's buyer) and has its own.
 */
export const ViewerTasksQuery = graphql(
  `
    query ViewerTasks($first: Int!, $after: String, $status: TaskStatus, $search: String) {
      eventSequence
      tasks(first: $first, after: $after, status: $status, search: $search) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { ...TaskRow events { sequence } } }
      }
    }
  `,
  [TaskRowFragment],
);

export const ViewerTaskEventsSubscription = graphql(
  `
    subscription ViewerTaskEvents($afterSequence: Int) {
      taskEvents(afterSequence: $afterSequence) { ...FeedEvent task { ...TaskRow } }
    }
  `,
  [FeedEventFragment, TaskRowFragment],
);

/** A task list as its view needs it: the rows, the filter, and the way to the next page. */
export interface TaskListView<T extends TaskRow> {
  tasks: T[];
  status: TaskStatus | null;
  setStatus: (status: TaskStatus | null) => void;
  search: string;
  setSearch: (search: string) => void;
  /** Whether a status or a search narrows the list (for the empty text). */
  filtered: boolean;
  /** How many tasks match, as the server counted them (live arrivals may add to it). */
  total: number | null;
  hasMore: boolean;
  loadMore: () => void;
  loading: boolean;
  error: string | null;
}

/** Mirrors the server's filter (status, title containing the text ignoring case) for live arrivals. */
function matches(task: TaskRow, status: TaskStatus | null, search: string): boolean {
  return (status == null || task.status === status) && (search === '' || task.title.toLowerCase().includes(search.toLowerCase()));
}

/**
 * A page's tasks, filtered by status and title, PAGE_SIZE at a time, kept live by its `taskEvents`
 * subscription. The first page follows the filter (the search once typing pauses); "Load more" appends the
 * page after the last one loaded, for this filter only. Events may bring tasks of any status or title:
 * the list shows those that match, as the server would.
 */
export function useTaskList<E extends Sequenced & { task: TaskRow }>(
  client: Client,
  pageDocument: TaskPageDocument<E['task'] & { events: readonly Sequenced[] }>,
  eventsDocument: TaskEventsDocument<E>,
  onEvent?: (event: E) => void,
): TaskListView<E['task']> & { feed: E[]; upsert: (task: E['task']) => void; refetch: () => void } {
  type Row = E['task'] & { events: readonly Sequenced[] };
  const [status, setStatus] = useState<TaskStatus | null>(null);
  const [search, setSearch] = useState('');
  const searched = useDebouncedValue(search.trim(), SEARCH_DEBOUNCE_MS);
  const filterKey = `${status ?? ''}\n${searched}`;
  const variables = useMemo(() => ({ first: PAGE_SIZE, status, search: searched || null }), [status, searched]);
  const [result, refetchFirst] = useQuery({ query: pageDocument, variables, requestPolicy: 'cache-and-network' });

  // While a new filter's first page loads, the previous rows stay (narrowed below as the filter says)
  // rather than the list blinking empty; and the event stream keeps going instead of restarting.
  const [kept, setKept] = useState(result.data);
  if (result.data && result.data !== kept) setKept(result.data);
  const first = result.data ?? kept;

  const [later, setLater] = useState<{ key: string; rows: Row[]; endCursor: string | null; hasNextPage: boolean } | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [moreError, setMoreError] = useState<string | null>(null);
  const extra = later?.key === filterKey ? later : null;

  const snapshot = useMemo(() => (first ? [...first.tasks.edges.map((e) => e.node), ...(extra?.rows ?? [])] : undefined), [first, extra]);
  const { tasks, feed, upsert } = useLiveTasks(client, eventsDocument, { snapshot, since: first?.eventSequence ?? null, failed: !!result.error, ...(onEvent && { onEvent }) });

  const pageInfo = extra ?? first?.tasks.pageInfo;
  const loadMore = useCallback(() => {
    const after = pageInfo?.endCursor;
    if (!after || loadingMore) return;
    setLoadingMore(true);
    setMoreError(null);
    void client
      .query(pageDocument, { ...variables, after }, { requestPolicy: 'network-only' })
      .toPromise()
      .then((page) => {
        setLoadingMore(false);
        const data = page.data;
        if (page.error || !data) {
          setMoreError(page.error ? requestErrorMessage(page.error) : 'No answer from the server.');
          return;
        }
        const rows = data.tasks.edges.map((e) => e.node);
        setLater((prev) => ({ key: filterKey, rows: [...(prev?.key === filterKey ? prev.rows : []), ...rows], ...data.tasks.pageInfo }));
      });
  }, [client, pageDocument, variables, filterKey, pageInfo, loadingMore]);

  const visible = useMemo(() => tasks.filter((t) => matches(t, status, searched)), [tasks, status, searched]);
  return {
    tasks: visible,
    status,
    setStatus,
    search,
    setSearch,
    filtered: status != null || searched !== '',
    total: first ? first.tasks.totalCount : null,
    hasMore: pageInfo?.hasNextPage ?? false,
    loadMore,
    loading: result.fetching || loadingMore || search.trim() !== searched,
    error: result.error && !result.data ? requestErrorMessage(result.error) : moreError,
    feed,
    upsert,
    refetch: () => refetchFirst({ requestPolicy: 'network-only' }),
  };
}
