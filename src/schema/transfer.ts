import type { Context } from '../context.ts';
import { Accounts, parseAccount } from '../market/ledger.ts';
import type { Agent, User } from '../market/model.ts';
import { mayManageAgent, mayReadAccount } from '../market/visibility.ts';
import { walletEntry, type WalletEntry, type WalletPage, walletPage } from '../market/wallet-history.ts';
import { AgentRef } from './agent.ts';
import { builder } from './builder.ts';
import { localId } from './ids.ts';
import { readableTask, TaskRef } from './task.ts';
import { UserRef } from './user.ts';

/** `Transfer` ids name the transfer and the side it is seen from: one transfer is two wallet movements. */
const nodeIdOf = (entry: WalletEntry) => `${entry.side === 'debit' ? 'd' : 'c'}:${entry.transferId}`;

export const TransferKindEnum = builder.enumType('TransferKind', {
  description: 'since 2026-12. Why money moved.',
  values: {
    CREDIT: { value: 'credit', description: 'Funds added from outside (creditAccount).' },
    ESCROW: { value: 'escrow', description: "A task's maxPrice (or its top-up) moved into its escrow." },
    PAYOUT: { value: 'payout', description: "The agent's share of a price." },
    FEE: { value: 'fee', description: "The platform's cut of a price." },
    REFUND: { value: 'refund', description: "Escrow returned to the buyer: the unused part of maxPrice, a cancel, a failure, or a dispute's buyer share." },
  } as const,
});

export const TransferRef = builder.objectRef<WalletEntry>('Transfer');

builder.node(TransferRef, {
  description: "since 2026-12. One movement on a wallet: an entry of the double-entry ledger seen from that wallet.",
  id: { resolve: nodeIdOf },
  isTypeOf: (value) => typeof value === 'object' && value !== null && 'balanceAfter' in value && 'transferId' in value,
  fields: (t) => ({
    kind: t.field({ type: TransferKindEnum, resolve: (entry) => entry.kind }),
    amount: t.int({ description: "Signed from the wallet's side: positive when it received, negative when it paid.", resolve: (entry) => entry.amount }),
    balanceAfter: t.field({ type: 'Sats', description: "The wallet's balance right after this movement.", resolve: (entry) => entry.balanceAfter }),
    task: t.field({ type: TaskRef, nullable: true, resolve: (entry, _args, ctx) => (entry.taskId ? readableTask(ctx, entry.taskId) : null) }),
    at: t.field({ type: 'DateTime', resolve: (entry) => entry.at }),
  }),
});

const TransferConnection = builder.connectionObject(
  { type: TransferRef, name: 'TransferConnection', description: 'since 2026-12' },
  { name: 'TransferEdge' },
);

type TransferConnectionShape = {
  edges: { cursor: string; node: WalletEntry }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  totalCount: () => number;
};

function toConnection(page: WalletPage): TransferConnectionShape {
  const edges = page.entries.map((node) => ({ cursor: String(node.entry), node }));
  return {
    edges,
    pageInfo: { hasNextPage: page.hasOlder, hasPreviousPage: page.hasNewer, startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null },
    totalCount: () => page.total,
  };
}

/** What someone who may not see a wallet gets: an empty list, as if it had never moved. */
const EMPTY: TransferConnectionShape = toConnection({ entries: [], total: 0, hasOlder: false, hasNewer: false });

builder.objectField(UserRef, 'transfers', (t) =>
  t.field({
    type: TransferConnection,
    description: "since 2026-12. Movements of this user's wallet, newest first: the user and admins only (others see an empty list).",
    args: { first: t.arg.int({ required: false }), after: t.arg.string({ required: false }) },
    authScopes: (user: User) => ({ account: user.id }),
    unauthorizedResolver: () => EMPTY,
    resolve: async (user, { first, after }, ctx) => toConnection(await walletPage(ctx.services.store.db, Accounts.user(user.id), first, after)),
  }),
);

builder.objectField(AgentRef, 'transfers', (t) =>
  t.field({
    type: TransferConnection,
    description: "since 2026-12. Movements of this agent's wallet, newest first: its operator and admins only (others see an empty list).",
    args: { first: t.arg.int({ required: false }), after: t.arg.string({ required: false }) },
    authScopes: (agent: Agent) => ({ agentOwner: agent.operatorId }),
    unauthorizedResolver: () => EMPTY,
    resolve: async (agent, { first, after }, ctx) => toConnection(await walletPage(ctx.services.store.db, Accounts.agent(agent.id), first, after)),
  }),
);

/** Whether the viewer may see movements of this ledger account: a user's, an agent's, or (admins) any. */
async function mayReadWallet(ctx: Context, account: string): Promise<boolean> {
  if (ctx.viewer?.role === 'ADMIN') return true;
  const { kind, of } = parseAccount(account);
  if (kind === 'user' && of) return mayReadAccount(ctx.viewer, of);
  if (kind === 'agent' && of) {
    const agent = await ctx.loaders.agent.load(of);
    return agent !== null && mayManageAgent(ctx.viewer, agent);
  }
  return false;
}

/** `node(id:)` for a Transfer: the movement if the viewer may see that wallet, else null. */
export async function readableTransfer(ctx: Context, globalId: string): Promise<WalletEntry | null> {
  const id = localId(globalId, 'Transfer');
  const side = id?.startsWith('d:') ? 'debit' : id?.startsWith('c:') ? 'credit' : null;
  if (!id || !side) return null;
  const entry = await walletEntry(ctx.services.store.db, id.slice(2), side);
  return entry && (await mayReadWallet(ctx, entry.account)) ? entry : null;
}
