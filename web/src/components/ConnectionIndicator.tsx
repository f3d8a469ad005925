import type { ConnectionStatus } from '../client.ts';

const label: Record<ConnectionStatus, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
};

export function ConnectionIndicator({ status }: { status: ConnectionStatus }) {
  return (
    <span className={`conn conn-${status}`} role="status" data-testid="connection-status" data-status={status}>
      <span className="conn-dot" aria-hidden="true" />
      {label[status]}
    </span>
  );
}
