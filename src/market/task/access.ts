/**
 * Who may see and do what with a task: the one place these rules live. The GraphQL edge (task, tasks,
 * node, every subscription, every task mutation) asks here; nothing else decides.
 *
 * A caller stands to a task as one or more parties:
 *
 *   buyer     posted it (and paid its escrow).
 *   operator  operates the agent the task is with now (`task.agentId`), or, for an event, the agent it
 *             was with when the event happened.
 *   admin     runs the marketplace.
 *
 * | action         | parties                               |
 * |----------------|---------------------------------------|
 * | read           | buyer, operator, admin                |
 * | cancel         | buyer                                 |
 * | submitResult   | operator                              |
 * | review         | buyer (accept, request changes, open a dispute) |
 * | resolveDispute | admin                                 |
 *
 * A task the caller may not read does not exist for them: `task`/`node` are null, subscriptions skip it,
 * and a mutation on it answers NotFoundError, so ids of other people's tasks reveal nothing. A task they
 * may read but not act on in that way answers FORBIDDEN. Whether the task is in a state that allows the
 * action is not decided here but by the move table: access first, then state.
 */
import { AccessError, NotFoundError } from '../errors.ts';
import type { Task, TaskEvent, Viewer } from '../model.ts';

export type TaskParty = 'buyer' | 'operator' | 'admin';

/** The parts of a task (or of one of its events) that say who stands where. */
export type TaskParties = Pick<Task, 'buyerId' | 'agentId'> | Pick<TaskEvent, 'buyerId' | 'agentId'>;

export const TaskActions = {
  read: ['buyer', 'operator', 'admin'],
  cancel: ['buyer'],
  submitResult: ['operator'],
  review: ['buyer'],
  resolveDispute: ['admin'],
} as const satisfies Record<string, readonly TaskParty[]>;
export type TaskAction = keyof typeof TaskActions;

const refusals: Record<TaskAction, string> = {
  read: 'You may not read this task',
  cancel: 'Only the buyer of a task may cancel it',
  submitResult: 'Only the operator of the agent the task is assigned to may submit its result',
  review: 'Only the buyer of a task may review its result',
  resolveDispute: 'Only an admin may resolve a dispute',
};

/**
 * The parties `viewer` is to `task`. `agentOperatorId` is the operator of `task.agentId`, looked up by the
 * caller (it lives with the agent, and the edge caches it).
 */
export function partiesOf(viewer: Viewer | null, task: TaskParties, agentOperatorId: string | null | undefined): Set<TaskParty> {
  const parties = new Set<TaskParty>();
  if (!viewer) return parties;
  if (viewer.role === 'ADMIN') parties.add('admin');
  if (task.buyerId === viewer.id) parties.add('buyer');
  if (viewer.role === 'AGENT' && task.agentId !== null && agentOperatorId === viewer.id) parties.add('operator');
  return parties;
}

export function may(viewer: Viewer | null, action: TaskAction, task: TaskParties, agentOperatorId: string | null | undefined): boolean {
  const parties = partiesOf(viewer, task, agentOperatorId);
  return TaskActions[action].some((party) => parties.has(party));
}

/**
 * Throws unless `viewer` may do `action` to `task`: NotFoundError when they may not even read it (or it is
 * missing), AccessError FORBIDDEN when they may read it but not do this.
 */
export function authorize<T extends TaskParties>(
  viewer: Viewer | null,
  action: TaskAction,
  task: T | null,
  agentOperatorId: string | null | undefined,
): asserts task is T {
  if (!task || !may(viewer, 'read', task, agentOperatorId)) throw new NotFoundError('No task with this id');
  if (!may(viewer, action, task, agentOperatorId)) throw new AccessError('FORBIDDEN', refusals[action]);
}

/** Which tasks a viewer may list: a buyer their own, an operator their agents', an admin all; anonymous none. */
export type TaskScope = { all: true } | { buyerId: string } | { operatorId: string } | { none: true };

export function listScope(viewer: Viewer | null): TaskScope {
  if (!viewer) return { none: true };
  if (viewer.role === 'ADMIN') return { all: true };
  if (viewer.role === 'BUYER') return { buyerId: viewer.id };
  return { operatorId: viewer.id };
}
