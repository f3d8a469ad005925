import type { Kysely } from 'kysely';
import type { Database } from '../db/types.ts';
import { Counter, readCounters } from './counters.ts';
import { TaskStatus } from './task/state.ts';

export interface MarketStats {
  totalTasks: number;
  tasksByStatus: { status: TaskStatus; count: number }[];
  completionRate: number;
  totalPaid: number;
  /** Every fee the platform took, kept by the moves that take them. */
  platformRevenue: number;
  activeAgents: number;
}

/** Two small queries whatever the size of the market: the counters are kept by the transitions. */
export async function marketStats(db: Kysely<Database>): Promise<MarketStats> {
  const [counters, active] = await Promise.all([
    readCounters(db),
    db.selectFrom('agents').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'ONLINE').executeTakeFirstOrThrow(),
  ]);
  const count = (status: TaskStatus) => counters.get(Counter.tasksIn(status)) ?? 0;
  const completed = count(TaskStatus.COMPLETED);
  const failed = count(TaskStatus.FAILED);
  return {
    totalTasks: counters.get(Counter.tasksTotal) ?? 0,
    tasksByStatus: Object.values(TaskStatus).map((status) => ({ status, count: count(status) })),
    completionRate: completed + failed === 0 ? 0 : completed / (completed + failed),
    totalPaid: counters.get(Counter.totalPaid) ?? 0,
    platformRevenue: counters.get(Counter.platformRevenue) ?? 0,
    activeAgents: Number(active.n),
  };
}
