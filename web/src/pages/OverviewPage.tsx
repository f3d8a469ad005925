import { useCallback, useEffect, useState } from 'react';
import { useQuery, useSubscription, type Client } from 'urql';
import type { AppClient } from '../client.ts';
import { EventFeed, FeedEventFragment, pushEvent, type FeedEvent } from '../components/EventFeed.tsx';
import { HealthFragment, HealthPanel } from '../components/HealthPanel.tsx';
import { LeaderboardAgentFragment, Leaderboard } from '../components/Leaderboard.tsx';
import { MinuteChart } from '../components/MinuteChart.tsx';
import { countOf, MarketStatsFragment, StatsPanel } from '../components/StatsPanel.tsx';
import { Card } from '../components/ui.tsx';
import { formatCompact, formatInt } from '../format.ts';
import { graphql, type Role } from '../graphql.ts';
import { type SeriesWindow, useMarketSeries, WINDOWS } from '../series.ts';
import { useTaskEventStream } from '../task-events.ts';

const OverviewStatsQuery = graphql(
  `
    query OverviewStats($top: Int!) {
      marketStats { ...MarketStatsPanel topAgents(limit: $top) { ...LeaderboardAgent } }
    }
  `,
  [MarketStatsFragment, LeaderboardAgentFragment],
);

const OverviewStatsSubscription = graphql(
  `
    subscription OverviewStatsLive($top: Int!) {
      marketStats { ...MarketStatsPanel topAgents(limit: $top) { ...LeaderboardAgent } }
    }
  `,
  [MarketStatsFragment, LeaderboardAgentFragment],
);

const OverviewHealthQuery = graphql(
  `
    query OverviewHealth {
      health { ...HealthPanel }
    }
  `,
  [HealthFragment],
);

const OverviewEventsSubscription = graphql(
  `
    subscription OverviewEvents($afterSequence: Int) {
      taskEvents(afterSequence: $afterSequence) { ...FeedEvent }
    }
  `,
  [FeedEventFragment],
);

const TOP_AGENTS = 10;
const HEALTH_POLL_MS = 10_000;

/**
 * Starts the stats query before React has rendered anything (called from main.tsx), so the first paint
 * with live numbers waits for one round trip at most. The page then reads it from the cache.
 */
export function prefetchOverview(client: Client): void {
  void client.query(OverviewStatsQuery, { top: TOP_AGENTS }).toPromise();
}

export function OverviewPage({ app, role }: { app: AppClient; role: Role | null }) {
  const variables = { top: TOP_AGENTS };
  // The first numbers (prefetched); from then on the subscription keeps them live, so no refetch is needed.
  const [snapshot] = useQuery({ query: OverviewStatsQuery, variables, requestPolicy: 'cache-first' });
  const [live] = useSubscription({ query: OverviewStatsSubscription, variables });
  const stats = live.data?.marketStats ?? snapshot.data?.marketStats ?? null;

  const [healthResult, refetchHealth] = useQuery({ query: OverviewHealthQuery, requestPolicy: 'network-only' });
  const [health, setHealth] = useState(healthResult.data?.health ?? null);
  useEffect(() => {
    if (healthResult.data?.health) setHealth(healthResult.data.health);
  }, [healthResult.data]);
  useEffect(() => {
    const timer = setInterval(() => refetchHealth({ requestPolicy: 'network-only' }), HEALTH_POLL_MS);
    return () => clearInterval(timer);
  }, [refetchHealth]);
  const unreachable = Boolean(healthResult.error?.networkError) || (healthResult.error != null && !healthResult.data);

  const [feed, setFeed] = useState<FeedEvent[]>([]);
  const onEvent = useCallback((event: FeedEvent) => setFeed((prev) => pushEvent(prev, event)), []);
  // taskEvents needs a signed-in viewer (each sees the events of the tasks they may read).
  useTaskEventStream(app.client, OverviewEventsSubscription, { after: null, pause: role == null, onEvent });

  const [windowId, setWindowId] = useState<SeriesWindow['id']>('30m');
  const window = WINDOWS.find((w) => w.id === windowId) ?? WINDOWS[0]!;
  const series = useMarketSeries(window, stats ? `${countOf(stats, 'COMPLETED')}/${countOf(stats, 'FAILED')}/${stats.totalPaid}` : undefined);
  const windowSwitch = (
    <div className="segmented" role="group" aria-label="Chart window">
      {WINDOWS.map((w) => (
        <button key={w.id} type="button" aria-pressed={w.id === windowId} onClick={() => setWindowId(w.id)} data-testid={`chart-window-${w.id}`}>
          {w.label}
        </button>
      ))}
    </div>
  );

  return (
    <div className="page overview" data-testid="overview">
      <Card title="Marketplace" testId="stats-card">
        <StatsPanel stats={stats} />
      </Card>
      <div className="grid-2">
        <Card title={window.bucket === 1 ? 'Tasks completed per minute' : `Tasks completed per ${window.bucket} min`} actions={windowSwitch}>
          <MinuteChart title="Tasks completed" unit="tasks" points={series.completed} format={formatInt} variant="bars" integer window={window} testId="chart-completed" />
        </Card>
        <Card title={window.bucket === 1 ? 'Sats paid per minute' : `Sats paid per ${window.bucket} min`}>
          <MinuteChart title="Sats paid" unit="sat" points={series.paid} format={formatCompact} variant="area" integer window={window} testId="chart-sats" />
        </Card>
      </div>
      <div className="grid-2 grid-wide-left">
        <Card title="Agent leaderboard">
          <Leaderboard agents={stats?.topAgents ?? null} />
        </Card>
        <Card title="System health" testId="health-card">
          <HealthPanel health={health} unreachable={unreachable} />
        </Card>
      </div>
      <Card title="Live activity" testId="activity-card">
        <EventFeed
          events={feed}
          emptyText={role == null ? 'Sign in to follow the events of your tasks live.' : 'Waiting for task events… they appear here as they happen.'}
        />
      </Card>
    </div>
  );
}
