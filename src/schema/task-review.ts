/**
 * The buyer's review of a delivered result and the admin's resolution of a dispute: the inputs, the
 * ReviewResult union shared by the four mutations, and the mutations (ChangeRequest and Dispute are in
 * task.ts). The rules are in market/task/review.ts; who may is decided by market/task/access.ts.
 */
import { InvalidStateError, NotFoundError, ValidationError } from '../market/errors.ts';
import { agentShareBps, inputObject, reviewText } from '../market/inputs.ts';
import { acceptResult, openDispute, requestChanges, resolveDispute } from '../market/task/review.ts';
import { builder } from './builder.ts';
import { TaskRef, taskFor } from './task.ts';

const RequestChangesInput = builder.inputType('RequestChangesInput', {
  description: 'since 2026-12',
  fields: (t) => ({ taskId: t.id({ required: true }), feedback: t.string({ required: true }) }),
  validate: inputObject({ feedback: reviewText }),
});

const OpenDisputeInput = builder.inputType('OpenDisputeInput', {
  description: 'since 2026-12',
  fields: (t) => ({ taskId: t.id({ required: true }), reason: t.string({ required: true }) }),
  validate: inputObject({ reason: reviewText }),
});

const ResolveDisputeInput = builder.inputType('ResolveDisputeInput', {
  description: 'since 2026-12',
  fields: (t) => ({
    taskId: t.id({ required: true }),
    agentShareBps: t.int({
      required: true,
      description: "The agent's share of the price in basis points, 0..10000; the rest goes back to the buyer.",
    }),
    note: t.string({ required: true }),
  }),
  validate: inputObject({ agentShareBps, note: reviewText }),
});

/**
 * The four mutations share one union. The errors plugin builds a field's union once per result name, so
 * giving every field the same result name (never printed: the result is the Task itself, `directResult`)
 * makes them share ReviewResult instead of each declaring its own.
 */
const reviewResult = {
  types: [ValidationError, NotFoundError, InvalidStateError],
  union: { name: 'ReviewResult', description: 'since 2026-12' },
  result: { name: 'ReviewResultTask' },
};

builder.mutationField('acceptResult', (t) =>
  t.field({
    type: TaskRef,
    errors: reviewResult,
    description: "since 2026-12. The task's buyer, while DELIVERED: pay the agent now.",
    authScopes: { signedIn: true },
    args: { taskId: t.arg.id({ required: true }) },
    resolve: async (_root, { taskId }, ctx) => acceptResult(ctx.services.store, (await taskFor(ctx, taskId, 'review')).id),
  }),
);

builder.mutationField('requestChanges', (t) =>
  t.field({
    type: TaskRef,
    errors: reviewResult,
    description:
      "since 2026-12. The task's buyer, while DELIVERED, at most MAX_CHANGE_REQUESTS times per task: the same agent reworks it with this feedback at the agreed price.",
    authScopes: { signedIn: true },
    args: { input: t.arg({ type: RequestChangesInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const leaseMs = ctx.services.config.taskLeaseSeconds * 1000;
      return requestChanges(ctx.services.store, (await taskFor(ctx, input.taskId, 'review')).id, input.feedback, leaseMs);
    },
  }),
);

builder.mutationField('openDispute', (t) =>
  t.field({
    type: TaskRef,
    errors: reviewResult,
    description: "since 2026-12. The task's buyer, while DELIVERED: freeze the escrow until an admin resolves it.",
    authScopes: { signedIn: true },
    args: { input: t.arg({ type: OpenDisputeInput, required: true }) },
    resolve: async (_root, { input }, ctx) => openDispute(ctx.services.store, (await taskFor(ctx, input.taskId, 'review')).id, input.reason),
  }),
);

builder.mutationField('resolveDispute', (t) =>
  t.field({
    type: TaskRef,
    errors: reviewResult,
    description: 'since 2026-12. Role ADMIN, while DISPUTED: pay the agent agentShareBps of the price (fee taken from that share) and refund the rest to the buyer.',
    authScopes: { admin: true },
    args: { input: t.arg({ type: ResolveDisputeInput, required: true }) },
    resolve: async (_root, { input }, ctx) =>
      resolveDispute(ctx.services.store, (await taskFor(ctx, input.taskId, 'resolveDispute')).id, input.agentShareBps, input.note),
  }),
);
