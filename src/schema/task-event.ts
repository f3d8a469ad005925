import { GraphQLError } from 'graphql';
import type { Task } from '../market/model.ts';
import { pageOfTasks } from '../market/tasks.ts';
import { isOperatorOf } from '../market/visibility.ts';
import { builder } from './builder.ts';
import { TaskEventKindEnum, TaskStatusEnum } from './enums.ts';
import { localId } from './ids.ts';
import { mayRead, readableTask, TaskEventRef, TaskRef } from './task.ts';
import { refreshLoaders } from './loaders.ts';
import { deliveries } from '../live/pacer.ts';
import { type AsyncQueue, closingWith } from '../live/async-queue.ts';
import type { Context } from '../context.ts';
import type { TaskEvent } from '../market/model.ts';

builder.node(TaskEventRef, {
  id: { resolve: (event) => String(event.sequence) },
  isTypeOf: (value) => typeof value === 'object' && value !== null && 'sequence' in value && 'taskId' in value,
  fields: (t) => ({
    sequence: t.exposeInt('sequence', { description: 'Strictly increasing across the whole marketplace; resume point for taskEvents(afterSequence:).' }),
    task: t.field({
      type: TaskRef,
      resolve: async (event, _args, ctx) => {
        const task = await ctx.loaders.task.load(event.taskId);
        if (!task) throw new Error(`event ${event.sequence} names a missing task`);
        return task;
      },
    }),
    status: t.field({ type: TaskStatusEnum, description: "The task's status right after this event.", resolve: (event) => event.status }),
    kind: t.field({ type: TaskEventKindEnum, description: 'since 2026-12', resolve: (event) => event.kind }),
    message: t.exposeString('message', { nullable: true }),
    at: t.field({ type: 'DateTime', resolve: (event) => event.at }),
  }),
});

builder.queryField('eventSequence', (t) =>
  t.int({
    description:
      'The newest task event the server had passed on when this operation began, before any of its reads: a list read in the same query reflects at least every event up to it, so taskEvents(afterSequence: eventSequence) starts a live view with nothing missed, even when the list is empty.',
    resolve: (_root, _args, ctx) => ctx.eventSequence,
  }),
);

builder.subscriptionField('taskEvents', (t) =>
  t.field({
    type: TaskEventRef,
    description: 'Every task event the caller may see; with afterSequence, the missed ones are replayed first, in order, then live ones follow.',
    authScopes: { signedIn: true },
    args: { afterSequence: t.arg.int({ required: false }) },
    // Closed from outside as soon as the client goes (as marketStats and agentAssignments are): a generator
    // waiting for the next event would keep its socket and context until some later event arrived.
    subscribe: (_root, { afterSequence }, ctx) => {
      const live = ctx.services.hub.listen();
      return closingWith(visibleEvents(ctx, ctx.services.hub.stream(afterSequence, live)), () => live.close());
    },
    resolve: (event) => event,
  }),
);

async function* visibleEvents(ctx: Context, events: AsyncGenerator<TaskEvent>): AsyncGenerator<TaskEvent> {
  for await (const event of events) {
    // Checked for every event, not once: nobody receives an event about a task they may not read.
    if (await mayRead(ctx, event)) {
      await deliveries.turn();
      refreshLoaders(ctx, event.sequence);
      yield event;
    }
  }
}

builder.subscriptionField('taskUpdated', (t) =>
  t.field({
    type: TaskRef,
    description: 'The task now, then again at every change of status or result.',
    authScopes: { signedIn: true },
    args: { id: t.arg.id({ required: true }) },
    subscribe: (_root, { id }, ctx) => {
      const live = ctx.services.hub.listen();
      return closingWith(taskVersions(id, ctx, live), () => live.close());
    },
    resolve: (task) => task,
  }),
);

/** The task now, then each new state of it, while the viewer may read it. */
async function* taskVersions(id: string, ctx: Context, live: AsyncQueue<TaskEvent>): AsyncGenerator<Task> {
  const taskId = localId(id, 'Task');
  try {
    const first = taskId ? await readableTask(ctx, taskId) : null;
    if (!first || !taskId) throw new GraphQLError('No task with this id is visible to you', { extensions: { code: 'NOT_FOUND' } });
    yield first;
    // Each event re-reads the task as it is now, which may already include later changes (a
    // task's ASSIGNED and PROCESSING commit together): send a state only once.
    let sent = versionOf(first);
    for await (const event of live) {
      if (event.taskId !== taskId) continue;
      await deliveries.turn();
      refreshLoaders(ctx, event.sequence);
      const task = await readableTask(ctx, taskId);
      // The task moved out of the viewer's sight (e.g. requeued away from their agent): stop.
      if (!task) return;
      if (versionOf(task) === sent) continue;
      sent = versionOf(task);
      yield task;
    }
  } finally {
    live.close();
  }
}

/** Every change to a task that makes an event also moves its status or updatedAt. */
const versionOf = (task: Task) => `${task.status}@${task.updatedAt.getTime()}`;

builder.subscriptionField('agentAssignments', (t) =>
  t.field({
    type: TaskRef,
    description: 'For the operator of an EXTERNAL agent: each task assigned to it, as it is assigned.',
    authScopes: { operator: true },
    args: { agentId: t.arg.id({ required: true }) },
    // The queue is closed from outside the generator as soon as the client goes: a generator waiting for
    // the next event would otherwise run its `finally` (and so mark the agent disconnected) only when some
    // later event arrived.
    subscribe: (_root, args, ctx) => {
      const live = ctx.services.hub.listen();
      return closingWith(assignments(args.agentId, ctx, live), () => live.close());
    },
    resolve: (task) => task,
  }),
);

/** An operator's listener: while it is open the agent counts as connected (see live/presence.ts). */
async function* assignments(globalAgentId: string, ctx: Context, live: AsyncQueue<TaskEvent>): AsyncGenerator<Task> {
  let release: (() => Promise<void>) | undefined;
  try {
    const agentId = localId(globalAgentId, 'Agent');
    const agent = agentId ? await ctx.loaders.agent.load(agentId) : null;
    if (!agent) throw new GraphQLError('No agent with this id', { extensions: { code: 'NOT_FOUND' } });
    if (!isOperatorOf(ctx.viewer, agent)) throw new GraphQLError('Only the operator of this agent may receive its assignments', { extensions: { code: 'FORBIDDEN' } });
    release = await ctx.services.presence.hold(agent.id);
    // Tasks this agent already holds (e.g. it reconnects within the grace) come first. Each attempt
    // is sent once, keyed by its lease: a task requeued and given back to this agent is a new attempt.
    const waiting = await pageOfTasks(ctx.services.store.db, { agentIds: [agent.id], status: 'PROCESSING' }, { limit: 100, oldestFirst: true });
    const sent = new Set(waiting.map((task) => task.leaseToken));
    for (const task of waiting) yield task;
    for await (const event of live) {
      if (event.agentId !== agent.id || event.status !== 'PROCESSING') continue;
      refreshLoaders(ctx, event.sequence);
      const task = await ctx.loaders.task.load(event.taskId);
      if (task?.agentId === agent.id && task.status === 'PROCESSING' && !sent.has(task.leaseToken)) {
        sent.add(task.leaseToken);
        yield task;
      }
    }
  } finally {
    live.close();
    await release?.();
  }
}

