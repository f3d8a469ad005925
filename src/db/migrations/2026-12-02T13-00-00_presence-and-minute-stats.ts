import { type Kysely, sql } from 'kysely';

/**
 * Presence of EXTERNAL agents' listeners, one row per agent and instance holding a listener (so it is
 * shared by every instance and survives none of them), and the per-minute history behind
 * MarketStats.series, kept in the same transaction as each outcome. Frozen in time: no application imports.
 */

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the database as it was, not as typed today
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('agent_presence')
    .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id'))
    .addColumn('instance', 'text', (c) => c.notNull())
    // Present until this time (epoch ms) unless the instance renews it: a crashed instance's rows lapse.
    .addColumn('until', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('agent_presence_pk', ['agent_id', 'instance'])
    .execute();

  await db.schema
    .createTable('minute_stats')
    // The start of the minute, epoch milliseconds.
    .addColumn('minute', 'bigint', (c) => c.primaryKey())
    .addColumn('completed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('failed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('paid', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  // What an existing database already knows: its finished tasks by the minute they finished.
  await sql`
    INSERT INTO minute_stats (minute, completed, failed, paid)
    SELECT (completed_at / 60000) * 60000,
           SUM(CASE WHEN status = 'COMPLETED' THEN 1 ELSE 0 END),
           SUM(CASE WHEN status = 'FAILED' THEN 1 ELSE 0 END),
           SUM(CASE WHEN status = 'COMPLETED' THEN COALESCE(price, 0) ELSE 0 END)
    FROM tasks
    WHERE status IN ('COMPLETED', 'FAILED') AND completed_at IS NOT NULL
    GROUP BY (completed_at / 60000) * 60000
  `.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('minute_stats').execute();
  await db.schema.dropTable('agent_presence').execute();
}
