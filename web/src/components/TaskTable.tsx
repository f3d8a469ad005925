import type { ResultOf } from 'gql.tada';
import type { ReactNode } from 'react';
import { graphql } from '../graphql.ts';
import { formatDateTime, formatSats } from '../format.ts';
import { Empty, TaskStatusBadge } from './ui.tsx';

export const TaskRowFragment = graphql(`
  fragment TaskRow on Task {
    id
    title
    status
    complexity
    maxPrice
    price
    attempts
    createdAt
    updatedAt
    agent { id name }
  }
`);

export type TaskRow = ResultOf<typeof TaskRowFragment>;

/** Upserts `incoming` into `tasks` (newer `updatedAt` wins), newest task first. */
export function upsertTask<T extends TaskRow>(tasks: readonly T[], incoming: T): T[] {
  const existing = tasks.find((t) => t.id === incoming.id);
  if (existing && Date.parse(existing.updatedAt) > Date.parse(incoming.updatedAt)) return [...tasks];
  const rest = tasks.filter((t) => t.id !== incoming.id);
  return [incoming, ...rest].sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));
}

interface TaskTableProps<T extends TaskRow> {
  tasks: readonly T[];
  onOpen: (id: string) => void;
  emptyText: string;
  extra?: { header: string; cell: (task: T) => ReactNode };
}

export function TaskTable<T extends TaskRow>({ tasks, onOpen, emptyText, extra }: TaskTableProps<T>) {
  if (tasks.length === 0) return <Empty>{emptyText}</Empty>;
  return (
    <div className="table-wrap">
      <table data-testid="task-table">
        <thead>
          <tr>
            <th scope="col">Task</th>
            <th scope="col">Status</th>
            {extra && <th scope="col">{extra.header}</th>}
            <th scope="col">Agent</th>
            <th scope="col" className="num">Price</th>
            <th scope="col" className="num hide-phone">Max</th>
            <th scope="col" className="hide-phone">Created</th>
          </tr>
        </thead>
        <tbody>
          {tasks.map((task) => (
            <tr
              key={task.id}
              className="row-link"
              data-testid="task-row"
              data-task-id={task.id}
              data-status={task.status}
              // The whole row opens the task, by mouse and by keyboard: it is one Tab stop, and Enter or Space
              // opens it. The title stays a button for screen readers' browse mode (out of the Tab order, so
              // a row is not two stops); the row's own controls (e.g. "Credit") keep their clicks and keys.
              tabIndex={0}
              onClick={(event) => {
                if (!(event.target as HTMLElement).closest('button, a, input, select')) onOpen(task.id);
              }}
              onKeyDown={(event) => {
                if (event.target !== event.currentTarget || (event.key !== 'Enter' && event.key !== ' ')) return;
                event.preventDefault(); // Space would scroll the page
                onOpen(task.id);
              }}
            >
              <th scope="row">
                <button type="button" className="link task-title" tabIndex={-1} onClick={() => onOpen(task.id)} aria-haspopup="dialog">
                  {task.title}
                </button>
              </th>
              <td>
                <TaskStatusBadge status={task.status} />
              </td>
              {extra && <td>{extra.cell(task)}</td>}
              <td>{task.agent?.name ?? <span className="muted">—</span>}</td>
              <td className="num">{formatSats(task.price)}</td>
              <td className="num hide-phone">{formatSats(task.maxPrice)}</td>
              <td className="hide-phone">{formatDateTime(task.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
