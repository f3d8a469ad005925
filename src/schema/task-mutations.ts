import { InsufficientFundsError, InvalidStateError, NotFoundError, ValidationError } from '../market/errors.ts';
import { createTaskInput, inputObject, resultText } from '../market/inputs.ts';
import { finishAttempt } from '../market/task/attempts.ts';
import { cancelTask, createTask } from '../market/task/create.ts';
import { builder } from './builder.ts';
import { TaskRef, taskFor } from './task.ts';

const CreateTaskInput = builder.inputType('CreateTaskInput', {
  fields: (t) => ({
    title: t.string({ required: true }),
    prompt: t.string({ required: true }),
    skills: t.stringList({ required: false }),
    complexity: t.int({ required: false, description: '1 to 10; estimated from the prompt when left out.' }),
    maxPrice: t.field({ type: 'Sats', required: true, description: 'The most the buyer will pay; held in escrow.' }),
    idempotencyKey: t.string({
      required: false,
      description: 'Repeating a createTask with the same key returns the first task instead of creating (and paying for) another.',
    }),
    reviewWindowSeconds: t.int({
      required: false,
      description: "since 2026-12. Seconds to review the result before the agent is paid automatically; 0 pays on delivery. Default: the server's REVIEW_WINDOW_SECONDS.",
    }),
  }),
  validate: createTaskInput,
});

builder.mutationField('createTask', (t) =>
  t.field({
    type: TaskRef,
    description: 'Role BUYER. Holds maxPrice in escrow; the task is assigned and run without further calls.',
    authScopes: { buyer: true },
    args: { input: t.arg({ type: CreateTaskInput, required: true }) },
    errors: { types: [ValidationError, InsufficientFundsError], union: { name: 'CreateTaskResult' } },
    resolve: (_root, { input }, ctx) =>
      createTask(ctx.services.store, ctx.viewer?.id ?? '', {
        title: input.title,
        prompt: input.prompt,
        skills: input.skills ?? [],
        complexity: input.complexity,
        maxPrice: input.maxPrice,
        idempotencyKey: input.idempotencyKey,
        reviewWindowSeconds: input.reviewWindowSeconds,
      }),
  }),
);

builder.mutationField('cancelTask', (t) =>
  t.field({
    type: TaskRef,
    description: "The task's buyer, while it is PENDING (assignment starts it at once); the escrow goes back to the buyer.",
    authScopes: { buyer: true },
    args: { id: t.arg.id({ required: true }) },
    errors: { types: [NotFoundError, InvalidStateError], union: { name: 'CancelTaskResult' } },
    resolve: async (_root, { id }, ctx) => cancelTask(ctx.services.store, (await taskFor(ctx, id, 'cancel')).id),
  }),
);

const SubmitTaskResultInput = builder.inputType('SubmitTaskResultInput', {
  fields: (t) => ({
    taskId: t.id({ required: true }),
    result: t.string({ required: false, description: 'The answer; leave out and give error to report that the agent could not do it.' }),
    error: t.string({ required: false }),
  }),
  // Loose (see inputObject): the plugin hands the resolver what this schema returns, and a plain object would strip taskId.
  validate: inputObject({}, { result: resultText, error: resultText }).refine((input) => (input.result == null) !== (input.error == null), { message: 'give either result or error, not both', path: ['result'] }),
});

builder.mutationField('submitTaskResult', (t) =>
  t.field({
    type: TaskRef,
    description: 'The operator of the EXTERNAL agent the task is assigned to.',
    authScopes: { operator: true, admin: true },
    args: { input: t.arg({ type: SubmitTaskResultInput, required: true }) },
    errors: { types: [ValidationError, NotFoundError, InvalidStateError], union: { name: 'SubmitTaskResultResult' } },
    resolve: async (_root, { input }, ctx) => {
      const task = await taskFor(ctx, input.taskId, 'submitResult');
      const agent = task.agentId ? await ctx.loaders.agent.load(task.agentId) : null;
      if (!agent) throw new InvalidStateError(`The task is ${task.status}, not PROCESSING`, task.status);
      if (agent.mode !== 'EXTERNAL') throw new InvalidStateError('This task is run by the marketplace (MANAGED agent)', task.status);
      if (!task.leaseToken) throw new InvalidStateError(`The task is ${task.status}, not PROCESSING`, task.status);
      const outcome = input.result != null ? { ok: true as const, result: input.result } : { ok: false as const, error: input.error ?? 'failed', agentAtFault: true };
      return finishAttempt(ctx.services.store, task.id, task.leaseToken, outcome);
    },
  }),
);
