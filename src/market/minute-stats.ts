import type { Kysely } from 'kysely';
import type { Database } from '../db/types.ts';
import type { Tx } from './store.ts';

export const MINUTE_MS = 60_000;
/** MarketStats.series covers at most a day. */
export const MAX_SERIES_MINUTES = 1440;

export interface MinuteStats {
  at: Date;
  completed: number;
  failed: number;
  paid: number;
}

/**
 * Count outcomes in their minute, in the transaction that records them (so the history can never disagree
 * with the tasks, and survives restarts). Called after the event's counters, keeping the lock order:
 * counters, then this minute's row. (PostgreSQL does the same inside event-numbering-postgres.ts.)
 */
export async function recordOutcomes(tx: Tx, outcomes: { completed: number; failed: number; paid: number }): Promise<void> {
  const row = { minute: Math.floor(tx.now / MINUTE_MS) * MINUTE_MS, ...outcomes };
  await tx.db
    .insertInto('minute_stats')
    .values(row)
    .onConflict((oc) =>
      oc.column('minute').doUpdateSet((eb) => ({
        completed: eb('minute_stats.completed', '+', eb.ref('excluded.completed')),
        failed: eb('minute_stats.failed', '+', eb.ref('excluded.failed')),
        paid: eb('minute_stats.paid', '+', eb.ref('excluded.paid')),
      })),
    )
    .execute();
}

/** The last `minutes` minutes up to and including the current one, oldest first, empty minutes included. */
export async function minuteSeries(db: Kysely<Database>, minutes: number, now: number): Promise<MinuteStats[]> {
  const count = Math.max(1, Math.min(MAX_SERIES_MINUTES, Math.floor(minutes)));
  const last = Math.floor(now / MINUTE_MS) * MINUTE_MS;
  const first = last - (count - 1) * MINUTE_MS;
  const rows = await db.selectFrom('minute_stats').selectAll().where('minute', '>=', first).where('minute', '<=', last).execute();
  const byMinute = new Map(rows.map((row) => [Number(row.minute), row]));
  return Array.from({ length: count }, (_, i) => {
    const minute = first + i * MINUTE_MS;
    const row = byMinute.get(minute);
    return { at: new Date(minute), completed: Number(row?.completed ?? 0), failed: Number(row?.failed ?? 0), paid: Number(row?.paid ?? 0) };
  });
}
