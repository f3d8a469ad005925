/**
 * The buyer's review of a delivered result and the admin's resolution of a dispute: the inputs, the
 * ReviewResult union shared by the four mutations, and the mutations (ChangeRequest and Dispute are in task.ts). The rules
 * are in market/task/review.ts; here the input is checked and expected failures become union members.
 */
import type { z } from 'zod';
import { InvalidStateError, NotFoundError, ValidationError } from '../market/errors.ts';
import { agentShareBps, inputObject, reviewText } from '../market/inputs.ts';
import type { Task } from '../market/model.ts';
import { acceptResult, openDispute, requestChanges, resolveDispute } from '../market/task/review.ts';
import { builder } from './builder.ts';
import { TaskRef, taskFor } from './task.ts';

const RequestChangesInput = builder.inputType('RequestChangesInput', {
  description: 'since 2026-12',
  fields: (t) => ({ taskId: t.id({ required: true }), feedback: t.string({ required: true }) }),
});

const OpenDisputeInput = builder.inputType('OpenDisputeInput', {
  description: 'since 2026-12',
  fields: (t) => ({ taskId: t.id({ required: true }), reason: t.string({ required: true }) }),
});

const ResolveDisputeInput = builder.inputType('ResolveDisputeInput', {
  description: 'since 2026-12',
  fields: (t) => ({
    taskId: t.id({ required: true }),
    agentShareBps: t.int({ required: true, description: "The agent's share of the price in basis points, 0..10000; the rest goes back to the buyer." }),
    note: t.string({ required: true }),
  }),
});

type ReviewOutcome = Task | ValidationError | NotFoundError | InvalidStateError;

const ReviewResult = builder.unionType('ReviewResult', {
  description: 'since 2026-12',
  types: [TaskRef, ValidationError, NotFoundError, InvalidStateError],
  resolveType: (value) =>
    value instanceof ValidationError ? 'ValidationError' : value instanceof NotFoundError ? 'NotFoundError' : value instanceof InvalidStateError ? 'InvalidStateError' : 'Task',
});

/** Expected failures are the union's members; anything else (FORBIDDEN included) stays an error. */
async function asResult(run: () => Promise<Task>): Promise<ReviewOutcome> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ValidationError || error instanceof NotFoundError || error instanceof InvalidStateError) return error;
    throw error;
  }
}

function checked<T>(schema: z.ZodType<T>, value: unknown, path: string[]): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw ValidationError.of(path, parsed.error.issues[0]?.message ?? 'is invalid');
  return parsed.data;
}

builder.mutationField('acceptResult', (t) =>
  t.field({
    type: ReviewResult,
    description: "since 2026-12. The task's buyer, while DELIVERED: pay the agent now.",
    authScopes: { signedIn: true },
    args: { taskId: t.arg.id({ required: true }) },
    resolve: (_root, { taskId }, ctx) => asResult(async () => acceptResult(ctx.services.store, (await taskFor(ctx, taskId, 'review')).id)),
  }),
);

builder.mutationField('requestChanges', (t) =>
  t.field({
    type: ReviewResult,
    description:
      "since 2026-12. The task's buyer, while DELIVERED, at most MAX_CHANGE_REQUESTS times per task: the same agent reworks it with this feedback at the agreed price.",
    authScopes: { signedIn: true },
    args: { input: t.arg({ type: RequestChangesInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      asResult(async () => {
        const feedback = checked(reviewText, input.feedback, ['input', 'feedback']);
        const leaseMs = ctx.services.config.taskLeaseSeconds * 1000;
        return requestChanges(ctx.services.store, (await taskFor(ctx, input.taskId, 'review')).id, feedback, leaseMs);
      }),
  }),
);

builder.mutationField('openDispute', (t) =>
  t.field({
    type: ReviewResult,
    description: "since 2026-12. The task's buyer, while DELIVERED: freeze the escrow until an admin resolves it.",
    authScopes: { signedIn: true },
    args: { input: t.arg({ type: OpenDisputeInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      asResult(async () => openDispute(ctx.services.store, (await taskFor(ctx, input.taskId, 'review')).id, checked(reviewText, input.reason, ['input', 'reason']))),
  }),
);

builder.mutationField('resolveDispute', (t) =>
  t.field({
    type: ReviewResult,
    description: 'since 2026-12. Role ADMIN, while DISPUTED: pay the agent agentShareBps of the price (fee taken from that share) and refund the rest to the buyer.',
    authScopes: { admin: true },
    args: { input: t.arg({ type: ResolveDisputeInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      asResult(async () => {
        const share = checked(agentShareBps, input.agentShareBps, ['input', 'agentShareBps']);
        const note = checked(reviewText, input.note, ['input', 'note']);
        return resolveDispute(ctx.services.store, (await taskFor(ctx, input.taskId, 'resolveDispute')).id, share, note);
      }),
  }),
);
