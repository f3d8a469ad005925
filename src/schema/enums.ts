import { TaskStatus } from '../market/task-state.ts';
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
    [TaskStatus.ASSIGNED]: { description: 'An agent and a price are fixed; about to start.' },
    [TaskStatus.PROCESSING]: { description: 'The agent is working on it (under a lease).' },
    [TaskStatus.COMPLETED]: { description: 'Done: the agent was paid, the rest of the escrow refunded.' },
    [TaskStatus.FAILED]: { description: 'Could not be done: the escrow was refunded.' },
    [TaskStatus.CANCELLED]: { description: 'Withdrawn by the buyer before it started: the escrow was refunded.' },
  } as const,
});

export const HealthStatusEnum = builder.enumType('HealthStatus', { values: ['OK', 'DEGRADED', 'DOWN'] as const });
