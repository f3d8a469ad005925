/**
 * Presence of EXTERNAL agents, kept in the database so every instance sees the same answer: an instance
 * holding an operator's `agentAssignments` listener writes a row for that agent and renews it by
 * heartbeat; the row lapses on its own when the instance dies. Work is offered only to connected agents,
 * and a task in the hands of an agent whose listener went away gets a short lease (the grace), which the
 * ordinary lease sweep then turns back into PENDING.
 */
import type { ExpressionBuilder, Kysely } from 'kysely';
import type { Database } from '../db/types.ts';

/** The agent may be offered work at `now`: MANAGED (run here), or EXTERNAL with a live listener somewhere. */
export function connectedAt(eb: ExpressionBuilder<Database, 'agents'>, now: number) {
  return eb.or([
    eb('agents.mode', '=', 'MANAGED'),
    eb.exists(eb.selectFrom('agent_presence').select('agent_presence.agent_id').whereRef('agent_presence.agent_id', '=', 'agents.id').where('agent_presence.until', '>', now)),
  ]);
}

/** Which of these (EXTERNAL) agents have a live listener on some instance. */
export async function presentAgents(db: Kysely<Database>, agentIds: readonly string[], now: number): Promise<Set<string>> {
  if (agentIds.length === 0) return new Set();
  const rows = await db.selectFrom('agent_presence').select('agent_id').distinct().where('agent_id', 'in', agentIds).where('until', '>', now).execute();
  return new Set(rows.map((row) => row.agent_id));
}

/** This instance listens for these agents until `until` (a heartbeat renews it). */
export async function markPresent(db: Kysely<Database>, instance: string, agentIds: readonly string[], until: number): Promise<void> {
  if (agentIds.length === 0) return;
  await db
    .insertInto('agent_presence')
    .values(agentIds.map((agent_id) => ({ agent_id, instance, until })))
    .onConflict((oc) => oc.columns(['agent_id', 'instance']).doUpdateSet((eb) => ({ until: eb.ref('excluded.until') })))
    .execute();
}

/** This instance no longer listens for these agents (others may still). */
export async function markAbsent(db: Kysely<Database>, instance: string, agentIds: readonly string[]): Promise<void> {
  if (agentIds.length === 0) return;
  await db.deleteFrom('agent_presence').where('instance', '=', instance).where('agent_id', 'in', agentIds).execute();
}

/** Rows of instances that died long ago: they mean nothing any more and only take space. */
export async function forgetLapsed(db: Kysely<Database>, before: number): Promise<void> {
  await db.deleteFrom('agent_presence').where('until', '<', before).execute();
}

/**
 * While its operator listens, an agent's running attempts stay alive: a lease with less than half its
 * length left is pushed to now + leaseMs (like the engine's renewal, not a write every heartbeat). Only
 * leases that have not run out (a lapsed one belongs to the sweep), and only forward.
 */
export async function keepLeasesAlive(db: Kysely<Database>, agentIds: readonly string[], now: number, leaseMs: number): Promise<void> {
  if (agentIds.length === 0) return;
  await db
    .updateTable('tasks')
    .set({ lease_expires_at: now + leaseMs })
    .where('agent_id', 'in', agentIds)
    .where('lease_token', 'is not', null)
    .where('lease_expires_at', '>=', now)
    .where('lease_expires_at', '<', now + leaseMs / 2)
    .execute();
}

/**
 * Running attempts of EXTERNAL agents nobody listens for get at most `graceMs` more: each lease is cut to
 * now + grace with a compare-and-set on its token (an attempt that just finished or was requeued is left
 * alone). Returns how many were cut.
 */
export async function shortenLeasesOfAbsent(db: Kysely<Database>, now: number, graceMs: number, limit = 100): Promise<number> {
  const cut = now + graceMs;
  const rows = await db
    .selectFrom('tasks')
    .innerJoin('agents', 'agents.id', 'tasks.agent_id')
    .select(['tasks.id', 'tasks.lease_token'])
    .where('tasks.lease_expires_at', '>', cut)
    .where('tasks.lease_token', 'is not', null)
    .where('agents.mode', '=', 'EXTERNAL')
    .where((eb) => eb.not(connectedAt(eb, now)))
    .limit(limit)
    .execute();
  let cutCount = 0;
  for (const row of rows) {
    if (!row.lease_token) continue;
    const result = await db
      .updateTable('tasks')
      .set({ lease_expires_at: cut })
      .where('id', '=', row.id)
      .where('lease_token', '=', row.lease_token)
      .where('lease_expires_at', '>', cut)
      .executeTakeFirst();
    cutCount += Number(result.numUpdatedRows);
  }
  return cutCount;
}
