import type { Client } from '@urql/core';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useSubscription } from 'urql';
import { WalletMovementFragment, type WalletMovement } from './components/WalletHistory.tsx';
import { requestErrorMessage } from './errors.ts';
import { graphql } from './graphql.ts';

/**
 * The signed-in user's money, live: `accountUpdated` sends the balance and escrow now, then again the
 * moment they change (a credit, a task's escrow, a payout or refund, their agents being paid), so pages
 * need no polling. `version` counts the updates, for what must refetch with them (a wallet history).
 */
const AccountUpdatedSubscription = graphql(`
  subscription AccountUpdated {
    accountUpdated { id balance escrowed }
  }
`);

export interface LiveAccount {
  account: { id: string; balance: number; escrowed: number } | null;
  version: number;
}

export function useLiveAccount(): LiveAccount {
  const [result] = useSubscription<{ accountUpdated: { id: string; balance: number; escrowed: number } }, LiveAccount>(
    { query: AccountUpdatedSubscription },
    (previous, data) => ({ account: data.accountUpdated, version: (previous?.version ?? 0) + 1 }),
  );
  return result.data ?? { account: null, version: 0 };
}

const WalletPageFragment = graphql(
  `
    fragment WalletPage on TransferConnection {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { ...WalletMovement } }
    }
  `,
  [WalletMovementFragment],
);

const MyWalletQuery = graphql(
  `
    query MyWallet($first: Int, $after: String) {
      me { id transfers(first: $first, after: $after) { ...WalletPage } }
    }
  `,
  [WalletPageFragment],
);

const UserWalletQuery = graphql(
  `
    query UserWallet($id: ID!, $first: Int, $after: String) {
      node(id: $id) { id ... on User { transfers(first: $first, after: $after) { ...WalletPage } } }
    }
  `,
  [WalletPageFragment],
);

const AgentWalletQuery = graphql(
  `
    query AgentWallet($id: ID!, $first: Int, $after: String) {
      agent(id: $id) { id transfers(first: $first, after: $after) { ...WalletPage } }
    }
  `,
  [WalletPageFragment],
);

/** Whose wallet: the signed-in user's, a user's by id (admins), or an agent's (its operator, admins). */
export type WalletSource = { kind: 'me' } | { kind: 'user'; id: string } | { kind: 'agent'; id: string };

type Page = { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: WalletMovement }[] };

const PAGE_SIZE = 10;

async function fetchPage(client: Client, source: WalletSource, after: string | null): Promise<{ page: Page | null; error: string | null }> {
  const options = { requestPolicy: 'network-only' } as const;
  const variables = { first: PAGE_SIZE, after };
  const result =
    source.kind === 'me'
      ? await client.query(MyWalletQuery, variables, options).toPromise()
      : source.kind === 'user'
        ? await client.query(UserWalletQuery, { ...variables, id: source.id }, options).toPromise()
        : await client.query(AgentWalletQuery, { ...variables, id: source.id }, options).toPromise();
  if (result.error) return { page: null, error: requestErrorMessage(result.error) };
  const data = result.data;
  const page = !data ? null : 'me' in data ? data.me?.transfers : 'agent' in data ? data.agent?.transfers : data.node && 'transfers' in data.node ? data.node.transfers : null;
  return page ? { page, error: null } : { page: null, error: 'This wallet does not exist or is not visible to you.' };
}

export interface WalletHistoryState {
  movements: WalletMovement[];
  total: number | null;
  hasMore: boolean;
  loading: boolean;
  error: string | null;
  more: () => void;
}

/**
 * A wallet's movements, newest first, PAGE_SIZE at a time ("Show older" appends the next page). Whenever
 * `refreshKey` changes (money moved), the newest page is read again and the list starts over from it.
 */
export function useWalletHistory(client: Client, source: WalletSource | null, refreshKey: unknown): WalletHistoryState {
  const [state, setState] = useState<Omit<WalletHistoryState, 'more'>>({ movements: [], total: null, hasMore: false, loading: false, error: null });
  const cursor = useRef<string | null>(null);
  // Answers to an older request (another wallet, an earlier refresh) are dropped.
  const request = useRef(0);
  const sourceKey = source ? `${source.kind}:${'id' in source ? source.id : ''}` : null;

  const load = useCallback(
    async (after: string | null) => {
      if (!source) return;
      const id = ++request.current;
      setState((s) => ({ ...s, loading: true }));
      const { page, error } = await fetchPage(client, source, after);
      if (id !== request.current) return;
      if (page) cursor.current = page.pageInfo.endCursor;
      setState((s) => ({
        movements: page ? [...(after ? s.movements : []), ...page.edges.map((e) => e.node)] : s.movements,
        total: page ? page.totalCount : s.total,
        hasMore: page ? page.pageInfo.hasNextPage : s.hasMore,
        loading: false,
        error,
      }));
    },
    // The source is keyed by its value, not its identity: a new object for the same wallet is the same wallet.
    [client, sourceKey],
  );

  useEffect(() => {
    if (!source) {
      setState({ movements: [], total: null, hasMore: false, loading: false, error: null });
      return;
    }
    void load(null);
  }, [load, refreshKey]);

  return { ...state, more: () => void load(cursor.current) };
}
