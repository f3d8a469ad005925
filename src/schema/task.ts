import { resolveCursorConnection, type ResolveCursorConnectionArgs } from '@pothos/plugin-relay';
import { GraphQLError } from 'graphql';
import type { Context } from '../context.ts';
import { isId } from '../market/ids.ts';
import type { ChangeRequest, Dispute, Task, TaskEvent } from '../market/model.ts';
import { countTasks, pageOfTasks, type TaskFilter } from '../market/tasks.ts';
import { searchText } from '../market/search.ts';
import { waitingReason } from '../market/waiting.ts';
import { authorize, listScope, may, type TaskAction, type TaskParties } from '../market/task/access.ts';
import { AgentRef } from './agent.ts';
import { builder, pageCost } from './builder.ts';
import { TaskStatusEnum } from './enums.ts';
import { localId } from './ids.ts';
import { UserRef } from './user.ts';

export const TaskRef = builder.objectRef<Task>('Task');
export const TaskEventRef = builder.objectRef<TaskEvent>('TaskEvent');

export const ChangeRequestRef = builder.objectRef<ChangeRequest>('ChangeRequest').implement({
  description: 'since 2026-12. A change the buyer asked for during review.',
  fields: (t) => ({
    feedback: t.exposeString('feedback'),
    at: t.field({ type: 'DateTime', resolve: (c) => c.at }),
  }),
});

export const DisputeRef = builder.objectRef<Dispute>('Dispute').implement({
  description: 'since 2026-12',
  fields: (t) => ({
    reason: t.exposeString('reason'),
    openedAt: t.field({ type: 'DateTime', resolve: (d) => d.openedAt }),
    agentShareBps: t.exposeInt('agentShareBps', {
      nullable: true,
      description: "Set when an admin resolves it: the agent's share of the price in basis points (0..10000).",
    }),
    resolutionNote: t.exposeString('resolutionNote', { nullable: true }),
    resolvedAt: t.field({ type: 'DateTime', nullable: true, resolve: (d) => d.resolvedAt }),
  }),
});

builder.node(TaskRef, {
  id: { resolve: (task) => task.id },
  isTypeOf: (value) => typeof value === 'object' && value !== null && 'prompt' in value && 'maxPrice' in value,
  fields: (t) => ({
    title: t.exposeString('title'),
    prompt: t.exposeString('prompt'),
    skills: t.exposeStringList('skills'),
    complexity: t.exposeInt('complexity', { description: '1 (trivial) to 10 (hardest): given by the buyer or estimated from the prompt.' }),
    maxPrice: t.field({ type: 'Sats', description: 'The most the buyer will pay; held in escrow from creation.', resolve: (task) => task.maxPrice }),
    price: t.field({ type: 'Sats', nullable: true, description: 'The agreed price, set when an agent is assigned.', resolve: (task) => task.price }),
    status: t.field({ type: TaskStatusEnum, resolve: (task) => task.status }),
    buyer: t.field({
      type: UserRef,
      resolve: async (task, _args, ctx) => {
        const user = await ctx.loaders.user.load(task.buyerId);
        if (!user) throw new Error(`task ${task.id} has no buyer`);
        return user;
      },
    }),
    agent: t.field({ type: AgentRef, nullable: true, resolve: (task, _args, ctx) => (task.agentId ? ctx.loaders.agent.load(task.agentId) : null) }),
    result: t.exposeString('result', { nullable: true }),
    error: t.exposeString('error', { nullable: true }),
    attempts: t.exposeInt('attempts', { description: 'Calls made to execute it, retries included.' }),
    createdAt: t.field({ type: 'DateTime', resolve: (task) => task.createdAt }),
    updatedAt: t.field({ type: 'DateTime', resolve: (task) => task.updatedAt }),
    completedAt: t.field({ type: 'DateTime', nullable: true, resolve: (task) => task.completedAt }),
    waitingReason: t.string({
      nullable: true,
      description:
        'since 2026-12. Why a PENDING task is still waiting, in words a buyer understands (e.g. no online agent has the skill "rust"; every fitting agent asks more than maxPrice; all fitting agents are busy; collecting bids until ...). Null otherwise.',
      resolve: async (task, _args, ctx) => {
        if (task.status !== 'PENDING') return null;
        const { agents, connected } = await ctx.loaders.market();
        return waitingReason(task, agents, (a) => a.mode === 'MANAGED' || connected.has(a.id));
      },
    }),
    events: t.field({ type: [TaskEventRef], description: 'Its lifecycle, oldest first.', resolve: (task, _args, ctx) => ctx.loaders.eventsOfTask.load(task.id) }),
    fee: t.field({
      type: 'Sats',
      nullable: true,
      description: "since 2026-12. The platform's cut of the price, taken from the agent's payout; null until paid.",
      resolve: (task) => task.fee,
    }),
    reviewWindowSeconds: t.exposeInt('reviewWindowSeconds', { description: 'since 2026-12. Seconds the buyer has to review a delivered result; 0 pays on delivery.' }),
    reviewDeadline: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'since 2026-12. When a DELIVERED task is paid if the buyer does nothing; null in other states.',
      resolve: (task) => (task.status === 'DELIVERED' ? task.reviewDeadline : null),
    }),
    changeRequests: t.field({ type: [ChangeRequestRef], description: 'since 2026-12', resolve: (task) => task.changeRequests }),
    dispute: t.field({ type: DisputeRef, nullable: true, description: 'since 2026-12', resolve: (task) => task.dispute }),
  }),
});

/** The operator of the agent a task (or event) is with: cached per process, an agent's operator never changes. */
export async function operatorOfAgent(ctx: Context, agentId: string | null): Promise<string | null> {
  if (!agentId) return null;
  return ctx.services.agents.operatorOf(agentId) ?? (await ctx.services.agents.load(agentId));
}

/** Whether the viewer may read this task or event (task/access.ts). */
export async function mayRead(ctx: Context, task: TaskParties): Promise<boolean> {
  if (!ctx.viewer) return false;
  return may(ctx.viewer, 'read', task, await operatorOfAgent(ctx, task.agentId));
}

/** The task if the viewer may read it: its buyer, the operator of its agent, or an admin. */
export async function readableTask(ctx: Context, taskId: string): Promise<Task | null> {
  const task = await ctx.loaders.task.load(taskId);
  return task && (await mayRead(ctx, task)) ? task : null;
}

/**
 * The task a mutation names, if the viewer may do `action` to it; otherwise NotFoundError (they may not
 * read it, or it does not exist) or FORBIDDEN (they may read it but not do this). See task/access.ts.
 */
export async function taskFor(ctx: Context, globalId: string, action: TaskAction): Promise<Task> {
  const taskId = localId(globalId, 'Task');
  const task = taskId ? await ctx.loaders.task.load(taskId) : null;
  authorize(ctx.viewer, action, task, await operatorOfAgent(ctx, task?.agentId ?? null));
  return task;
}

builder.queryField('task', (t) =>
  t.field({
    type: TaskRef,
    nullable: true,
    description: 'Visible to its buyer, the operator of its agent, and admins; null otherwise.',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => {
      const taskId = localId(id, 'Task');
      return taskId ? readableTask(ctx, taskId) : null;
    },
  }),
);

/** Which tasks a viewer may list (task/access.ts), as a filter. */
async function taskFilterFor(ctx: Context): Promise<TaskFilter> {
  const scope = listScope(ctx.viewer);
  if ('all' in scope) return {};
  if ('buyerId' in scope) return { buyerId: scope.buyerId };
  if ('operatorId' in scope) return { agentIds: (await ctx.loaders.agentsOfOperator.load(scope.operatorId)).map((a) => a.id) };
  return { agentIds: [] };
}

builder.queryField('tasks', (t) =>
  t.connection(
    {
      type: TaskRef,
      description: 'The tasks the caller may see (buyer: own; agent operator: assigned to own agents; admin: all), newest first.',
      authScopes: { signedIn: true },
      complexity: (args) => pageCost(args),
      args: {
        status: t.arg({ type: TaskStatusEnum, required: false }),
        search: t.arg.string({ required: false, description: 'Only tasks whose title contains this text, ignoring case.' }),
      },
      resolve: async (_root, args, ctx) => {
        const filter: TaskFilter = { ...(await taskFilterFor(ctx)), status: args.status ?? null, titleContains: searchText(args.search) };
        const connection = await resolveCursorConnection(
          { args, toCursor: (task: Task) => task.id, defaultSize: 20, maxSize: 100 },
          async ({ before, after, limit, inverted }: ResolveCursorConnectionArgs) => {
            // A cursor is a task id; anything else (NUL included) never reaches the database.
            if ([before, after].some((cursor) => cursor !== undefined && !isId(cursor))) {
              throw new GraphQLError('Not a cursor of this list', { extensions: { code: 'BAD_USER_INPUT' } });
            }
            const tasks = await pageOfTasks(ctx.services.store.db, filter, { before, after, limit, oldestFirst: inverted });
            for (const task of tasks) ctx.loaders.task.prime(task.id, task);
            return tasks;
          },
        );
        return { ...connection, totalCount: () => countTasks(ctx.services.store.db, filter) };
      },
    },
    { name: 'TaskConnection' },
    { name: 'TaskEdge' },
  ),
);
