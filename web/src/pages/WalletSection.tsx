import type { ReactNode } from 'react';
import type { AppClient } from '../client.ts';
import { Card } from '../components/ui.tsx';
import { WalletHistory } from '../components/WalletHistory.tsx';
import { useWalletHistory } from '../wallet.ts';

interface WalletSectionProps {
  app: AppClient;
  /** Whose wallet: a User's or an Agent's global id; null shows nothing yet. */
  ownerId: string | null;
  /** Changes whenever money moved (LiveAccount.version): the history is read again. */
  refreshKey: unknown;
  title: string;
  emptyText: string;
  actions?: ReactNode;
  onOpenTask?: (taskId: string) => void;
}

/** A wallet's history with its data, for the buyer's, the operator's and the admin's pages. */
export function WalletSection({ app, ownerId, refreshKey, title, emptyText, actions, onOpenTask }: WalletSectionProps) {
  const history = useWalletHistory(app.client, ownerId, refreshKey);
  return (
    <Card title={title} testId="wallet-card" actions={actions}>
      <WalletHistory
        movements={history.movements}
        total={history.total}
        hasMore={history.hasMore}
        loading={history.loading}
        error={history.error}
        emptyText={emptyText}
        onMore={history.more}
        {...(onOpenTask ? { onOpenTask } : {})}
      />
    </Card>
  );
}
