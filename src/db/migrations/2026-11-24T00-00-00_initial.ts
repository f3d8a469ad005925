import { type Kysely, sql } from 'kysely';

/**
 * Frozen in time: this file never imports application code. Types are spelled so that SQLite and
 * PostgreSQL read them the same way (bigint is INTEGER affinity in SQLite; double precision is REAL).
 */

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the database as it was, not as typed today
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('email', 'text', (c) => c.notNull().unique())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('accounts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('balance', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('transfers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('debit_account', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('credit_account', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('amount', 'bigint', (c) => c.notNull().check(sql`amount > 0`))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('task_id', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('transfers_task').on('transfers').column('task_id').execute();

  await db.schema
    .createTable('agents')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('operator_id', 'text', (c) => c.references('users.id'))
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('skills', 'text', (c) => c.notNull())
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('system_prompt', 'text')
    .addColumn('ask_per_unit', 'bigint', (c) => c.notNull())
    .addColumn('max_concurrency', 'integer', (c) => c.notNull())
    .addColumn('reputation', 'double precision', (c) => c.notNull())
    .addColumn('tasks_completed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('tasks_failed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('active_tasks', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('earnings', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('agents_operator').on('agents').column('operator_id').execute();

  await db.schema
    .createTable('tasks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('buyer_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('agent_id', 'text', (c) => c.references('agents.id'))
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('prompt', 'text', (c) => c.notNull())
    .addColumn('skills', 'text', (c) => c.notNull())
    .addColumn('complexity', 'integer', (c) => c.notNull())
    .addColumn('max_price', 'bigint', (c) => c.notNull())
    .addColumn('price', 'bigint')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('result', 'text')
    .addColumn('error', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('idempotency_key', 'text')
    .addColumn('lease_token', 'text')
    .addColumn('lease_expires_at', 'bigint')
    // The agent that last let this task's lease run out: not picked again for it while others fit.
    .addColumn('skip_agent_id', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('completed_at', 'bigint')
    .execute();
  // Task ids are time-ordered, so "newest first" is an index scan on id.
  await db.schema.createIndex('tasks_buyer').on('tasks').columns(['buyer_id', 'id']).execute();
  await db.schema.createIndex('tasks_agent').on('tasks').columns(['agent_id', 'id']).execute();
  await db.schema.createIndex('tasks_status').on('tasks').columns(['status', 'id']).execute();
  await db.schema.createIndex('tasks_lease').on('tasks').column('lease_expires_at').execute();
  await db.schema
    .createIndex('tasks_idempotency')
    .on('tasks')
    .columns(['buyer_id', 'idempotency_key'])
    .unique()
    .execute();

  await db.schema
    .createTable('task_events')
    .addColumn('sequence', 'bigint', (c) => c.primaryKey())
    .addColumn('task_id', 'text', (c) => c.notNull().references('tasks.id'))
    .addColumn('buyer_id', 'text', (c) => c.notNull())
    .addColumn('agent_id', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('message', 'text')
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('task_events_task').on('task_events').columns(['task_id', 'sequence']).execute();

  await db.schema
    .createTable('counters')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('value', 'bigint', (c) => c.notNull())
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['counters', 'task_events', 'tasks', 'agents', 'transfers', 'accounts', 'users']) {
    await db.schema.dropTable(table).execute();
  }
}
