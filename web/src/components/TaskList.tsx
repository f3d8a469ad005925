import type { ReactNode } from 'react';
import { TASK_STATUSES, type TaskListView } from '../task-list.ts';
import { TaskTable, type TaskRow } from './TaskTable.tsx';
import { EnumFilter, SearchBox } from './ui.tsx';

interface TaskListProps<T extends TaskRow> {
  list: TaskListView<T>;
  onOpen: (id: string) => void;
  /** Shown when there are no tasks at all (a filter that matches nothing says so instead). */
  emptyText: string;
  extra?: { header: string; cell: (task: T) => ReactNode };
}

/** A page's task list: search by title and a status filter above, the table, then how many and "Load more". */
export function TaskList<T extends TaskRow>({ list, onOpen, emptyText, extra }: TaskListProps<T>) {
  const shown = list.tasks.length;
  return (
    <div data-testid="task-list">
      <div className="list-controls">
        <SearchBox label="Search tasks by title" placeholder="Search by title" value={list.search} onChange={list.setSearch} testId="task-search" />
        <EnumFilter label="Status" all="All statuses" options={TASK_STATUSES} value={list.status} onChange={list.setStatus} testId="status-filter" />
      </div>
      {list.error && <p className="form-error" role="alert">{list.error}</p>}
      <TaskTable
        tasks={list.tasks}
        onOpen={onOpen}
        emptyText={list.loading && shown === 0 ? 'Loading…' : list.filtered ? 'No task matches this search and status.' : emptyText}
        {...(extra && { extra })}
      />
      <div className="list-pager">
        <span className="muted small" data-testid="task-count" aria-live="polite">
          {list.total != null && shown > 0 ? `${shown} of ${Math.max(list.total, shown)}` : ''}
        </span>
        {list.hasMore && (
          <button type="button" onClick={list.loadMore} disabled={list.loading} data-testid="task-load-more">
            {list.loading ? 'Loading…' : 'Load more'}
          </button>
        )}
      </div>
    </div>
  );
}
