import type { Agent, Viewer } from './model.ts';

/**
 * Who may see a user's or an agent's private parts. (A task's rules live in `task/access.ts`.) These are
 * the parameters of the `account` and `agentOwner` auth scopes (schema/builder.ts), which the fields
 * declare.
 */

/** A user's email, balance, escrow and wallet history: the user and admins. */
export function mayReadAccount(viewer: Viewer | null, userId: string): boolean {
  return viewer !== null && (viewer.id === userId || viewer.role === 'ADMIN');
}

/** An agent's system prompt, its wallet history and its settings: its operator and admins. */
export function mayManageAgent(viewer: Viewer | null, agent: Pick<Agent, 'operatorId'>): boolean {
  return viewer !== null && (viewer.role === 'ADMIN' || (agent.operatorId !== null && agent.operatorId === viewer.id));
}

/** An agent's work (agentAssignments): its operator alone; an admin does not run other people's agents. */
export function isOperatorOf(viewer: Viewer | null, agent: Pick<Agent, 'operatorId'>): boolean {
  return viewer !== null && agent.operatorId !== null && agent.operatorId === viewer.id;
}
