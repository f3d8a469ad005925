import type { StatsSnapshot } from '../live/stats-feed.ts';
import { type AsyncQueue, closingWith } from '../live/async-queue.ts';
import { deliveries } from '../live/pacer.ts';
import { SNAPSHOT_TOP_AGENTS } from '../live/stats-feed.ts';
import { MAX_SERIES_MINUTES, type MinuteStats } from '../market/minute-stats.ts';
import type { TaskStatus } from '../market/task/state.ts';
import { AgentRef } from './agent.ts';
import { builder, pageCost } from './builder.ts';
import { TaskStatusEnum } from './enums.ts';
import type { Context } from '../context.ts';

const TaskStatusCount = builder.objectRef<{ status: TaskStatus; count: number }>('TaskStatusCount').implement({
  fields: (t) => ({
    status: t.field({ type: TaskStatusEnum, resolve: (c) => c.status }),
    count: t.exposeInt('count'),
  }),
});

const MinuteStatsRef = builder.objectRef<MinuteStats>('MinuteStats').implement({
  description: 'since 2026-12',
  fields: (t) => ({
    at: t.field({ type: 'DateTime', description: 'The start of the minute.', resolve: (m) => m.at }),
    completed: t.exposeInt('completed'),
    failed: t.exposeInt('failed'),
    paid: t.field({ type: 'Sats', description: 'Paid to agents in that minute.', resolve: (m) => m.paid }),
  }),
});

const MarketStatsRef = builder.objectRef<StatsSnapshot>('MarketStats').implement({
  fields: (t) => ({
    totalTasks: t.exposeInt('totalTasks'),
    tasksByStatus: t.field({ type: [TaskStatusCount], resolve: (s) => s.tasksByStatus }),
    completionRate: t.exposeFloat('completionRate', { description: 'Completed / (completed + failed); 0 before any outcome.' }),
    totalPaid: t.field({ type: 'Sats', description: 'Everything paid out to agents.', resolve: (s) => s.totalPaid }),
    platformRevenue: t.field({ type: 'Sats', description: 'since 2026-12. Everything the platform earned in fees.', resolve: (s) => s.platformRevenue }),
    activeAgents: t.exposeInt('activeAgents'),
    series: t.field({
      type: [MinuteStatsRef],
      description:
        "since 2026-12. Per-minute history from the server's own records (the same for every viewer, kept across restarts), oldest first, one entry per minute including empty ones; minutes is 1..1440.",
      args: { minutes: t.arg.int({ defaultValue: 30, required: false }) },
      resolve: (_s, { minutes }, ctx) => ctx.services.stats.series(Math.max(1, Math.min(MAX_SERIES_MINUTES, minutes ?? 30))),
    }),
    topAgents: t.field({
      type: [AgentRef],
      args: { limit: t.arg.int({ defaultValue: 5, required: false }) },
      complexity: (args) => pageCost(args, 5),
      resolve: async (s, { limit }, ctx) => {
        const wanted = Math.max(0, Math.min(limit ?? 5, 100));
        // This snapshot's own leaderboard when it is long enough: a subscriber sees one consistent moment.
        if (wanted <= SNAPSHOT_TOP_AGENTS) return s.topAgents.slice(0, wanted);
        return ctx.services.stats.leaderboard(0, wanted);
      },
    }),
  }),
});

builder.queryField('marketStats', (t) => t.field({ type: MarketStatsRef, resolve: (_root, _args, ctx) => ctx.services.stats.current() }));

builder.subscriptionField('marketStats', (t) =>
  t.field({
    type: MarketStatsRef,
    description: 'The stats now, then again after changes (at most a few times a second).',
    // Listening starts before the current value is read: nothing published in between is missed. The
    // queue is closed from outside the generator as soon as the client goes: a generator waiting for the
    // next snapshot would otherwise handle return() only at the next change, and until then its socket,
    // context and queue stay in memory (seen in figure 9 of `npm run bench` on a market gone quiet).
    subscribe: (_root, _args, ctx) => {
      const updates = ctx.services.stats.listen();
      return closingWith(snapshots(ctx, updates), () => updates.close());
    },
    resolve: (snapshot) => snapshot,
  }),
);

async function* snapshots(ctx: Context, updates: AsyncQueue<StatsSnapshot>): AsyncGenerator<StatsSnapshot> {
  try {
    yield await ctx.services.stats.current();
    for await (const snapshot of updates) {
      await deliveries.turn();
      yield snapshot;
    }
  } finally {
    updates.close();
  }
}
