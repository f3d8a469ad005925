/**
 * The end of a transaction on PostgreSQL in one statement: lock the counters it moves (by name, so two
 * transactions never hold one each of what the other wants), move them and take the event sequences,
 * write the events with those numbers, and count the outcomes in this minute's row.
 *
 * Why one statement: the event sequence row is the lock every writer queues on, and it is held from the
 * moment it is taken until the commit. Each statement sent while it is held is a round trip through this
 * process's event loop, which on a busy machine is milliseconds, multiplied by every writer waiting
 * behind. Three statements (counters, events, minute) and the commit became one statement and the commit.
 */
import { type RawBuilder, sql } from 'kysely';
import { Counter } from './counters.ts';
import { MINUTE_MS } from './minute-stats.ts';
import type { Tx } from './store.ts';

export interface EventToNumber {
  task_id: string;
  buyer_id: string;
  agent_id: string | null;
  status: string;
  kind: string;
  message: string | null;
}

export interface MinuteOutcomes {
  completed: number;
  failed: number;
  paid: number;
}

/** Move `deltas`, take one sequence per event and write the events; returns the last sequence taken. */
export async function numberEventsOnPostgres(
  tx: Tx,
  events: readonly EventToNumber[],
  deltas: Readonly<Record<string, number>>,
  outcomes: MinuteOutcomes | null,
): Promise<number> {
  const all: Record<string, number> = { ...deltas, [Counter.eventSequence]: (deltas[Counter.eventSequence] ?? 0) + events.length };
  const names = Object.keys(all).sort();
  // The CASTs give PostgreSQL types for bound numbers (a bare parameter in a CASE or VALUES would be text).
  const amount = sql`CASE counters.name ${sql.join(
    names.map((name) => sql`WHEN ${name} THEN CAST(${all[name] ?? 0} AS BIGINT)`),
    sql` `,
  )} END`;
  const rows = sql.join(
    events.map((e, i) => sql`(CAST(${i + 1} AS BIGINT), ${e.task_id}, ${e.buyer_id}, CAST(${e.agent_id} AS TEXT), ${e.status}, ${e.kind}, CAST(${e.message} AS TEXT))`),
  );
  const sequence = sql`(SELECT value FROM moved WHERE name = ${Counter.eventSequence})`;
  // Reads from `moved`, so it runs after the counters are locked: the lock order stays counters, minute.
  const minute: RawBuilder<unknown> = outcomes
    ? sql`, minute AS (
        INSERT INTO minute_stats (minute, completed, failed, paid)
        SELECT CAST(${Math.floor(tx.now / MINUTE_MS) * MINUTE_MS} AS BIGINT), CAST(${outcomes.completed} AS INTEGER), CAST(${outcomes.failed} AS INTEGER), CAST(${outcomes.paid} AS BIGINT)
        FROM moved WHERE name = ${Counter.eventSequence}
        ON CONFLICT (minute) DO UPDATE SET completed = minute_stats.completed + excluded.completed,
          failed = minute_stats.failed + excluded.failed, paid = minute_stats.paid + excluded.paid
        RETURNING minute
      )`
    : sql``;
  const { rows: moved } = await sql<{ name: string; value: string | number; written: string | number }>`
    WITH locked AS (
      SELECT name FROM counters WHERE name IN (${sql.join(names)}) ORDER BY name FOR UPDATE
    ), moved AS (
      UPDATE counters SET value = counters.value + ${amount} FROM locked WHERE counters.name = locked.name
      RETURNING counters.name, counters.value
    ), written AS (
      INSERT INTO task_events (sequence, task_id, buyer_id, agent_id, status, kind, message, at)
      SELECT ${sequence} - CAST(${events.length} AS BIGINT) + e.i, e.task_id, e.buyer_id, e.agent_id, e.status, e.kind, e.message, CAST(${tx.now} AS BIGINT)
      FROM (VALUES ${rows}) AS e(i, task_id, buyer_id, agent_id, status, kind, message)
      RETURNING sequence
    )${minute}
    SELECT name, value, (SELECT count(*) FROM written) AS written FROM moved`.execute(tx.db);
  const last = moved.find((row) => row.name === Counter.eventSequence);
  if (!last || moved.length !== names.length) throw new Error(`counters missing: ${names.join(', ')}`);
  if (Number(last.written) !== events.length) throw new Error(`wrote ${last.written} of ${events.length} events`);
  return Number(last.value);
}
