import type { ResultOf } from 'gql.tada';
import { graphql, type TaskStatus } from '../graphql.ts';
import { formatInt, formatPercent, formatSats } from '../format.ts';

export const MarketStatsFragment = graphql(`
  fragment MarketStatsPanel on MarketStats {
    totalTasks
    tasksByStatus { status count }
    completionRate
    totalPaid
    activeAgents
  }
`);

type Stats = ResultOf<typeof MarketStatsFragment>;

// ASSIGNED passes within the claim that starts a task: no task rests there, so it is not counted here.
const ORDER: readonly TaskStatus[] = ['PENDING', 'PROCESSING', 'DELIVERED', 'DISPUTED', 'COMPLETED', 'FAILED', 'CANCELLED'];

export function countOf(stats: Stats, status: TaskStatus): number {
  return stats.tasksByStatus.find((s) => s.status === status)?.count ?? 0;
}

function Stat({ label, value, testId }: { label: string; value: string; testId: string }) {
  return (
    <div className="stat">
      <dt>{label}</dt>
      <dd data-testid={testId}>{value}</dd>
    </div>
  );
}

export function StatsPanel({ stats }: { stats: Stats | null }) {
  return (
    <>
      <dl className="stats" aria-busy={stats ? undefined : true}>
        <Stat label="Total tasks" value={stats ? formatInt(stats.totalTasks) : '…'} testId="stat-total-tasks" />
        <Stat label="Completion rate" value={stats ? formatPercent(stats.completionRate) : '…'} testId="stat-completion-rate" />
        <Stat label="Sats paid to agents" value={stats ? formatSats(stats.totalPaid) : '…'} testId="stat-total-paid" />
        <Stat label="Active agents" value={stats ? formatInt(stats.activeAgents) : '…'} testId="stat-active-agents" />
      </dl>
      {stats && (
        <div className="status-bar-wrap">
          {/* React sets `style` through the CSSOM, which a style-src CSP does not block. */}
          <div className="status-bar" aria-hidden="true">
            {ORDER.map((status) => {
              const count = countOf(stats, status);
              return count > 0 ? <span key={status} className={`seg seg-${status.toLowerCase()}`} style={{ flexGrow: count }} /> : null;
            })}
          </div>
          <ul className="status-legend" aria-label="Tasks by status">
            {ORDER.map((status) => (
              <li key={status} data-testid={`stat-status-${status}`}>
                <span className={`dot seg-${status.toLowerCase()}`} aria-hidden="true" />
                {status.toLowerCase()} <strong>{formatInt(countOf(stats, status))}</strong>
              </li>
            ))}
          </ul>
        </div>
      )}
    </>
  );
}
