/**
 * The claim: one statement per dialect that takes a PENDING task for an agent only if the agent still has
 * a free slot, records the instance and the attempt's lease token, and (PostgreSQL) takes the agent's slot
 * in the same statement. Modelled on graphile-worker's getJob and pg-boss's fetchNextJob: the task row is
 * locked with `FOR UPDATE SKIP LOCKED`, so instances claiming at once pass over each other's rows instead
 * of queueing on them, and the task is locked before the agent, as in every other move.
 */
import { sql } from 'kysely';
import type { TaskRow } from '../../db/types.ts';
import type { Tx } from '../store.ts';

export interface Claim {
  agentId: string;
  price: number;
  leaseToken: string;
  leaseExpiresAt: number;
}

/** The claimed row, or undefined when the task was no longer PENDING (or is held by another claim) or the agent had no room. */
export async function claimRow(tx: Tx, taskId: string, claim: Claim): Promise<TaskRow | undefined> {
  const set = sql`status = 'PROCESSING', agent_id = ${claim.agentId}, price = ${claim.price}, lease_token = ${claim.leaseToken},
    lease_expires_at = ${claim.leaseExpiresAt}, claimed_by = ${tx.instanceId}, review_deadline = NULL, updated_at = ${tx.now}`;
  if (tx.dialect === 'postgres') {
    const { rows } = await sql<TaskRow>`
      WITH task AS (
        SELECT id FROM tasks WHERE id = ${taskId} AND status = 'PENDING' FOR UPDATE SKIP LOCKED
      ), agent AS (
        UPDATE agents SET active_tasks = active_tasks + 1
        WHERE id = ${claim.agentId} AND status = 'ONLINE' AND active_tasks < max_concurrency AND EXISTS (SELECT 1 FROM task)
        RETURNING id
      )
      UPDATE tasks SET ${set} WHERE id IN (SELECT id FROM task) AND EXISTS (SELECT 1 FROM agent) RETURNING *`.execute(tx.db);
    return rows[0];
  }
  // SQLite: BEGIN IMMEDIATE holds the only write lock, so the slot taken right after cannot be lost to anyone.
  const { rows } = await sql<TaskRow>`
    UPDATE tasks SET ${set}
    WHERE id = ${taskId} AND status = 'PENDING'
      AND EXISTS (SELECT 1 FROM agents WHERE id = ${claim.agentId} AND status = 'ONLINE' AND active_tasks < max_concurrency)
    RETURNING *`.execute(tx.db);
  if (rows[0]) await sql`UPDATE agents SET active_tasks = active_tasks + 1 WHERE id = ${claim.agentId}`.execute(tx.db);
  return rows[0];
}
