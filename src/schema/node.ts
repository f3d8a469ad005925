import type { Context } from '../context.ts';
import { builder } from './builder.ts';
import { localId } from './ids.ts';
import { mayRead, readableTask } from './task.ts';
import { mayReadAccount } from '../market/visibility.ts';
import { readableTransfer } from './transfer.ts';
import { decodeGlobalID } from '@pothos/plugin-relay';
import { eventsBySequence } from '../market/events.ts';

/**
 * `node(id:)` by hand rather than the relay plugin's, so that it obeys the same visibility rules as the
 * typed root fields: a task or event you may not read, or another user, is null.
 */
async function loadNode(ctx: Context, globalId: string): Promise<object | null> {
  let typename: string;
  try {
    typename = decodeGlobalID(globalId).typename;
  } catch {
    return null;
  }
  switch (typename) {
    case 'Task': {
      const id = localId(globalId, 'Task');
      return id ? readableTask(ctx, id) : null;
    }
    case 'Agent': {
      const id = localId(globalId, 'Agent');
      return id ? ctx.loaders.agent.load(id) : null;
    }
    case 'User': {
      const id = localId(globalId, 'User');
      if (!id || !mayReadAccount(ctx.viewer, id)) return null;
      return ctx.loaders.user.load(id);
    }
    case 'TaskEvent': {
      const sequence = localId(globalId, 'TaskEvent');
      if (!sequence) return null;
      const [event] = await eventsBySequence(ctx.services.store.db, [Number(sequence)]);
      return event && (await mayRead(ctx, event)) ? event : null;
    }
    case 'Transfer':
      return readableTransfer(ctx, globalId);
    default:
      return null;
  }
}

builder.queryField('node', (t) =>
  t.field({
    type: builder.nodeInterfaceRef(),
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => loadNode(ctx, id),
  }),
);
