import type { Task, TaskEvent, Viewer } from './model.ts';

/**
 * Who may read a task (or one of its events): its buyer, the operator of the agent it is with, and
 * admins. `agentOperatorId` is the operator of `task.agentId`, looked up by the caller.
 */
export function canReadTask(
  viewer: Viewer | null,
  task: Pick<Task, 'buyerId' | 'agentId'> | Pick<TaskEvent, 'buyerId' | 'agentId'>,
  agentOperatorId: string | null | undefined,
): boolean {
  if (!viewer) return false;
  if (viewer.role === 'ADMIN' || task.buyerId === viewer.id) return true;
  return viewer.role === 'AGENT' && task.agentId !== null && agentOperatorId === viewer.id;
}
