import { type ColumnDefinitionBuilder, type Kysely, sql } from 'kysely';

/**
 * The review window, disputes, the platform fee, claims that name their instance, and event kinds.
 * Frozen in time: never imports application code. Existing events get the kind their status and message
 * imply (a PENDING event after the first is a requeue), so old timelines read like new ones.
 */

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the database as it was, not as typed today
export async function up(db: Kysely<any>): Promise<void> {
  const columns: [string, 'text' | 'bigint' | 'integer', ((c: ColumnDefinitionBuilder) => ColumnDefinitionBuilder)?][] = [
    ['claimed_by', 'text'],
    ['fee', 'bigint'],
    ['review_window_seconds', 'integer', (c) => c.notNull().defaultTo(0)],
    ['review_deadline', 'bigint'],
    ['change_requests', 'text', (c) => c.notNull().defaultTo('[]')],
    ['dispute_reason', 'text'],
    ['dispute_opened_at', 'bigint'],
    ['dispute_share_bps', 'integer'],
    ['dispute_note', 'text'],
    ['dispute_resolved_at', 'bigint'],
  ];
  // One ALTER per column: SQLite adds only one at a time.
  for (const [name, type, build] of columns) {
    await db.schema.alterTable('tasks').addColumn(name, type, build ?? ((c) => c)).execute();
  }
  await db.schema.createIndex('tasks_review_deadline').on('tasks').column('review_deadline').execute();

  await db.schema.alterTable('task_events').addColumn('kind', 'text', (c) => c.notNull().defaultTo('CREATED')).execute();
  await sql`
    UPDATE task_events SET kind = CASE status
      WHEN 'PENDING' THEN CASE WHEN EXISTS (
        SELECT 1 FROM task_events earlier WHERE earlier.task_id = task_events.task_id AND earlier.sequence < task_events.sequence
      ) THEN 'REQUEUED' ELSE 'CREATED' END
      WHEN 'ASSIGNED' THEN 'ASSIGNED'
      WHEN 'PROCESSING' THEN 'STARTED'
      ELSE status
    END`.execute(db);

}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('task_events').dropColumn('kind').execute();
  await db.schema.dropIndex('tasks_review_deadline').execute();
  for (const name of ['dispute_resolved_at', 'dispute_note', 'dispute_share_bps', 'dispute_opened_at', 'dispute_reason', 'change_requests', 'review_deadline', 'review_window_seconds', 'fee', 'claimed_by']) {
    await db.schema.alterTable('tasks').dropColumn(name).execute();
  }
}
