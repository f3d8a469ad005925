import { TaskEventKind, TaskStatus } from '../market/task/state.ts';
import { builder } from './builder.ts';

export const RoleEnum = builder.enumType('Role', { values: ['BUYER', 'AGENT', 'ADMIN'] as const });

export const AgentModeEnum = builder.enumType('AgentMode', {
  values: {
    MANAGED: { description: 'Run by the marketplace itself through its LLM executor.' },
    EXTERNAL: { description: 'Run by its operator elsewhere: receives work over agentAssignments and answers with submitTaskResult.' },
  } as const,
});

export const AgentStatusEnum = builder.enumType('AgentStatus', { values: ['ONLINE', 'PAUSED', 'OFFLINE'] as const });

export const AgentOrderEnum = builder.enumType('AgentOrder', { values: ['REPUTATION', 'EARNINGS', 'SUCCESS_RATE', 'NEWEST'] as const });

export const TaskStatusEnum = builder.enumType('TaskStatus', {
  values: {
    [TaskStatus.PENDING]: { description: 'Waiting for an agent.' },
    [TaskStatus.ASSIGNED]: { description: 'Passes within the claim that starts a task: seen in its timeline, never as where a task rests.' },
    [TaskStatus.PROCESSING]: { description: 'The agent is working on it (under a lease).' },
    [TaskStatus.DELIVERED]: {
      description:
        "since 2026-12. The agent's result is in; the buyer may accept it, request changes or open a dispute until reviewDeadline. Silence pays the agent.",
    },
    [TaskStatus.DISPUTED]: { description: 'since 2026-12. The buyer disputed the result: the escrow stays frozen until an admin resolves it.' },
    [TaskStatus.COMPLETED]: { description: 'Paid: accepted, released after the review window (or at once without one), or resolved with a share for the agent.' },
    [TaskStatus.FAILED]: { description: 'Could not be done: the escrow was refunded.' },
    [TaskStatus.CANCELLED]: { description: 'Withdrawn by the buyer before it started: the escrow was refunded.' },
  } as const,
});

export const TaskEventKindEnum = builder.enumType('TaskEventKind', {
  description: 'since 2026-12. What a task event records. Clients must tolerate kinds added later.',
  values: {
    ...Object.fromEntries(Object.values(TaskEventKind).map((kind) => [kind, {}])),
    [TaskEventKind.RETRYING]: { description: 'An attempt failed and will be retried (message says why and how long it waits).' },
    [TaskEventKind.REQUEUED]: { description: 'A lease ran out (crash, silent agent): back to PENDING.' },
    [TaskEventKind.AUTO_RELEASED]: { description: 'The review window ended without a word from the buyer: paid.' },
  } as Record<TaskEventKind, { description?: string }>,
});

export const HealthStatusEnum = builder.enumType('HealthStatus', { values: ['OK', 'DEGRADED', 'DOWN'] as const });
