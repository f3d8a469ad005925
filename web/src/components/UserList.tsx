import { useEffect, useState } from 'react';
import { useQuery } from 'urql';
import { formatDateTime, formatSats } from '../format.ts';
import { graphql } from '../graphql.ts';
import { useDebouncedValue } from '../hooks.ts';
import { requestErrorMessage } from '../errors.ts';
import { Empty, EnumFilter, SearchBox } from './ui.tsx';

const UsersQuery = graphql(`
  query AdminUsers($first: Int!, $search: String, $role: Role) {
    users(first: $first, search: $search, role: $role) {
      totalCount
      pageInfo { hasNextPage }
      edges { node { id email role balance escrowed createdAt } }
    }
  }
`);

const PAGE = 20;
const ROLES = ['BUYER', 'AGENT', 'ADMIN'] as const;
type RoleFilter = (typeof ROLES)[number];

/**
 * The admin's list of users, newest first, searched by part of the email: no more opaque ids pasted by
 * hand. "Credit" picks the user for the credit form and the wallet history below. `refreshKey` changes
 * after a credit, so the balances shown follow.
 */
export function UserList({ onPick, refreshKey }: { onPick: (user: { id: string; email: string }) => void; refreshKey: string }) {
  const [search, setSearch] = useState('');
  const [role, setRole] = useState<RoleFilter | null>(null);
  const [first, setFirst] = useState(PAGE);
  const debounced = useDebouncedValue(search.trim(), 250);
  const [result, refetch] = useQuery({ query: UsersQuery, variables: { first, search: debounced || null, role }, requestPolicy: 'cache-and-network' });
  useEffect(() => {
    if (refreshKey) refetch({ requestPolicy: 'network-only' });
  }, [refreshKey, refetch]);
  const users = result.data?.users.edges.map((e) => e.node) ?? [];
  return (
    <div data-testid="user-list">
      <div className="list-controls">
        <SearchBox
          label="Search users by email"
          placeholder="Search by email"
          value={search}
          onChange={(text) => {
            setSearch(text);
            setFirst(PAGE);
          }}
          testId="user-search"
        />
        <EnumFilter label="Role" all="All roles" options={ROLES} value={role} onChange={setRole} testId="user-role-filter" />
      </div>
      {result.error && !result.data && <p className="form-error">{requestErrorMessage(result.error)}</p>}
      {users.length === 0 ? (
        <Empty>{result.fetching ? 'Loading…' : debounced ? `No user's email contains “${debounced}”.` : 'No users yet.'}</Empty>
      ) : (
        <div className="table-wrap">
          <table data-testid="users-table">
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col" className="num">Balance</th>
                <th scope="col" className="hide-phone">Joined</th>
                <th scope="col"><span className="sr-only">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {users.map((user) => (
                <tr key={user.id} data-testid="user-row" data-user-id={user.id}>
                  <th scope="row" className="agent-name">{user.email}</th>
                  <td>{user.role.toLowerCase()}</td>
                  <td className="num" data-testid="user-balance">{formatSats(user.balance)}</td>
                  <td className="hide-phone">{formatDateTime(user.createdAt)}</td>
                  <td>
                    <button type="button" onClick={() => onPick(user)} data-testid="user-credit">
                      Credit<span className="sr-only"> {user.email}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div className="list-pager">
        <span className="muted small">
          {result.data ? `${users.length} of ${result.data.users.totalCount}` : ''}
        </span>
        {result.data?.users.pageInfo.hasNextPage && (
          <button type="button" onClick={() => setFirst((n) => n + PAGE)}>
            Show more
          </button>
        )}
      </div>
    </div>
  );
}
