import type { Client } from '@urql/core';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useSubscription } from 'urql';
import type { WalletMovement } from './components/WalletHistory.tsx';
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

/**
 * Any wallet by its owner's global id (a User: the signed-in user's own or, for admins, anyone's; an Agent:
 * its operator's or, for admins, any). One query for all: `node` resolves the owner with its visibility
 * rules. Fields are written out, not spread from fragments, to stay within the operation depth limit.
 */
const WalletQuery = graphql(`
  query Wallet($id: ID!, $first: Int, $after: String) {
    node(id: $id) {
      id
      ... on User {
        transfers(first: $first, after: $after) {
          totalCount
          pageInfo { hasNextPage endCursor }
          edges { node { id kind amount balanceAfter at task { id title } } }
        }
      }
      ... on Agent {
        transfers(first: $first, after: $after) {
          totalCount
          pageInfo { hasNextPage endCursor }
          edges { node { id kind amount balanceAfter at task { id title } } }
        }
      }
    }
  }
`);

type Page = { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: WalletMovement }[] };

const PAGE_SIZE = 10;

async function fetchPage(client: Client, ownerId: string, after: string | null): Promise<{ page: Page | null; error: string | null }> {
  const result = await client.query(WalletQuery, { id: ownerId, first: PAGE_SIZE, after }, { requestPolicy: 'network-only' }).toPromise();
  if (result.error) return { page: null, error: requestErrorMessage(result.error) };
  const node = result.data?.node;
  const page: Page | null = node && 'transfers' in node ? node.transfers : null;
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
export function useWalletHistory(client: Client, ownerId: string | null, refreshKey: unknown): WalletHistoryState {
  const [state, setState] = useState<Omit<WalletHistoryState, 'more'>>({ movements: [], total: null, hasMore: false, loading: false, error: null });
  const cursor = useRef<string | null>(null);
  // Answers to an older request (another wallet, an earlier refresh) are dropped.
  const request = useRef(0);
  const load = useCallback(
    async (after: string | null) => {
      if (!ownerId) return;
      const id = ++request.current;
      setState((s) => ({ ...s, loading: true }));
      const { page, error } = await fetchPage(client, ownerId, after);
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
    [client, ownerId],
  );

  useEffect(() => {
    if (!ownerId) {
      setState({ movements: [], total: null, hasMore: false, loading: false, error: null });
      return;
    }
    void load(null);
  }, [load, refreshKey]);

  return { ...state, more: () => void load(cursor.current) };
}
