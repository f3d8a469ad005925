import { formatDateTime, formatSats } from '../format.ts';
import { graphql } from '../graphql.ts';
import { Empty } from './ui.tsx';

export type TransferKind = ReturnType<typeof graphql.scalar<'TransferKind'>>;

/**
 * One movement as this component renders it. A plain type rather than a fragment: the wallet query spells
 * these fields out, because under the operation depth limit (src/http/operation-limits.ts) every fragment
 * spread counts as a level, and the admin's query (node → User → transfers → edges → node → task) is
 * already seven deep. gql.tada checks that the query's result fits this type.
 */
export interface WalletMovement {
  id: string;
  kind: TransferKind;
  amount: number;
  balanceAfter: number;
  at: string;
  task: { id: string; title: string } | null;
}

const kindLabel: Record<TransferKind, string> = {
  CREDIT: 'Credit',
  ESCROW: 'Held in escrow',
  PAYOUT: 'Payout',
  FEE: 'Platform fee',
  REFUND: 'Refund',
};

/** A signed amount from the wallet's side: "+1,000 sat" received, "−1,000 sat" paid. */
export function formatSignedSats(amount: number): string {
  return `${amount > 0 ? '+' : amount < 0 ? '−' : ''}${formatSats(Math.abs(amount))}`;
}

interface WalletHistoryProps {
  movements: readonly WalletMovement[];
  total: number | null;
  hasMore: boolean;
  loading: boolean;
  error: string | null;
  emptyText: string;
  onMore: () => void;
  onOpenTask?: (taskId: string) => void;
}

/** A wallet's movements, newest first, each with the balance right after it. */
export function WalletHistory({ movements, total, hasMore, loading, error, emptyText, onMore, onOpenTask }: WalletHistoryProps) {
  return (
    <div data-testid="wallet-history">
      {error && <p className="form-error" role="alert">{error}</p>}
      {movements.length === 0 && !error ? (
        <Empty>{loading ? 'Loading…' : emptyText}</Empty>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">What</th>
                <th scope="col">Task</th>
                <th scope="col" className="num">Amount</th>
                <th scope="col" className="num">Balance after</th>
              </tr>
            </thead>
            <tbody>
              {movements.map((m) => (
                <tr key={m.id} data-testid="wallet-row" data-kind={m.kind}>
                  <td><time dateTime={m.at}>{formatDateTime(m.at)}</time></td>
                  <td>{kindLabel[m.kind] ?? m.kind}</td>
                  <td>
                    {m.task && onOpenTask ? (
                      <button type="button" className="link" onClick={() => onOpenTask(m.task?.id ?? '')} aria-haspopup="dialog">
                        {m.task.title}
                      </button>
                    ) : (
                      (m.task?.title ?? '—')
                    )}
                  </td>
                  <td className={`num ${m.amount < 0 ? 'amount-out' : 'amount-in'}`} data-testid="wallet-amount">{formatSignedSats(m.amount)}</td>
                  <td className="num" data-testid="wallet-balance-after">{formatSats(m.balanceAfter)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p className="muted small wallet-footer">
        {total != null && movements.length > 0 && `${movements.length} of ${total} movements`}{' '}
        {hasMore && (
          <button type="button" className="link" onClick={onMore} disabled={loading} data-testid="wallet-more">
            {loading ? 'Loading…' : 'Show older'}
          </button>
        )}
      </p>
    </div>
  );
}
