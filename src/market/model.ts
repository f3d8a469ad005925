/**
 * The marketplace's domain objects: what the rules and the API talk about. Rows are mapped to these in
 * the market layer and never leave it.
 */
import type { AgentRow, TaskEventRow, TaskRow, UserRow } from '../db/types.ts';
import type { TaskEventKind } from './task/state.ts';

export const Role = { BUYER: 'BUYER', AGENT: 'AGENT', ADMIN: 'ADMIN' } as const;
export type Role = (typeof Role)[keyof typeof Role];

export type AgentMode = 'MANAGED' | 'EXTERNAL';
export type AgentStatus = 'ONLINE' | 'PAUSED' | 'OFFLINE';

export interface User {
  id: string;
  email: string;
  role: Role;
  createdAt: Date;
}

export interface Agent {
  id: string;
  operatorId: string | null;
  name: string;
  skills: string[];
  model: string;
  mode: AgentMode;
  status: AgentStatus;
  systemPrompt: string | null;
  askPerUnit: number;
  maxConcurrency: number;
  reputation: number;
  tasksCompleted: number;
  tasksFailed: number;
  activeTasks: number;
  earnings: number;
  createdAt: Date;
}

export interface Task {
  id: string;
  buyerId: string;
  agentId: string | null;
  title: string;
  prompt: string;
  skills: string[];
  complexity: number;
  maxPrice: number;
  price: number | null;
  status: TaskRow['status'];
  result: string | null;
  error: string | null;
  attempts: number;
  leaseToken: string | null;
  leaseExpiresAt: number | null;
  /** The platform's cut, once the agent is paid. */
  fee: number | null;
  reviewWindowSeconds: number;
  reviewDeadline: Date | null;
  changeRequests: ChangeRequest[];
  dispute: Dispute | null;
  createdAt: Date;
  updatedAt: Date;
  completedAt: Date | null;
}

export interface ChangeRequest {
  feedback: string;
  at: Date;
}

export interface Dispute {
  reason: string;
  openedAt: Date;
  agentShareBps: number | null;
  resolutionNote: string | null;
  resolvedAt: Date | null;
}

export interface TaskEvent {
  sequence: number;
  taskId: string;
  buyerId: string;
  agentId: string | null;
  status: Task['status'];
  kind: TaskEventKind;
  message: string | null;
  at: Date;
}

/** Who is asking. `null` viewer means anonymous. */
export interface Viewer {
  id: string;
  role: Role;
}

export function successRate(agent: Pick<Agent, 'tasksCompleted' | 'tasksFailed'>): number {
  const outcomes = agent.tasksCompleted + agent.tasksFailed;
  return outcomes === 0 ? 0 : agent.tasksCompleted / outcomes;
}

export const toUser = (row: UserRow): User => ({
  id: row.id,
  email: row.email,
  role: row.role,
  createdAt: new Date(Number(row.created_at)),
});

export const toAgent = (row: AgentRow): Agent => ({
  id: row.id,
  operatorId: row.operator_id,
  name: row.name,
  skills: JSON.parse(row.skills) as string[],
  model: row.model,
  mode: row.mode,
  status: row.status,
  systemPrompt: row.system_prompt,
  askPerUnit: Number(row.ask_per_unit),
  maxConcurrency: row.max_concurrency,
  reputation: row.reputation,
  tasksCompleted: row.tasks_completed,
  tasksFailed: row.tasks_failed,
  activeTasks: row.active_tasks,
  earnings: Number(row.earnings),
  createdAt: new Date(Number(row.created_at)),
});

export const toTask = (row: TaskRow): Task => ({
  id: row.id,
  buyerId: row.buyer_id,
  agentId: row.agent_id,
  title: row.title,
  prompt: row.prompt,
  skills: JSON.parse(row.skills) as string[],
  complexity: row.complexity,
  maxPrice: Number(row.max_price),
  price: row.price === null ? null : Number(row.price),
  status: row.status,
  result: row.result,
  error: row.error,
  attempts: row.attempts,
  leaseToken: row.lease_token,
  leaseExpiresAt: row.lease_expires_at === null ? null : Number(row.lease_expires_at),
  fee: row.fee === null ? null : Number(row.fee),
  reviewWindowSeconds: row.review_window_seconds,
  reviewDeadline: row.review_deadline === null ? null : new Date(Number(row.review_deadline)),
  changeRequests: (JSON.parse(row.change_requests) as { feedback: string; at: number }[]).map((c) => ({ feedback: c.feedback, at: new Date(c.at) })),
  dispute:
    row.dispute_reason === null
      ? null
      : {
          reason: row.dispute_reason,
          openedAt: new Date(Number(row.dispute_opened_at)),
          agentShareBps: row.dispute_share_bps,
          resolutionNote: row.dispute_note,
          resolvedAt: row.dispute_resolved_at === null ? null : new Date(Number(row.dispute_resolved_at)),
        },
  createdAt: new Date(Number(row.created_at)),
  updatedAt: new Date(Number(row.updated_at)),
  completedAt: row.completed_at === null ? null : new Date(Number(row.completed_at)),
});

export const toTaskEvent = (row: TaskEventRow): TaskEvent => ({
  sequence: Number(row.sequence),
  taskId: row.task_id,
  buyerId: row.buyer_id,
  agentId: row.agent_id,
  status: row.status,
  kind: row.kind as TaskEventKind,
  message: row.message,
  at: new Date(Number(row.at)),
});
