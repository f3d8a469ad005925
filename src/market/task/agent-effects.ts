/**
 * A move's effect on its agent's row: a maxConcurrency slot held or given back, and the outcome that moves
 * reputation, success rate and earnings (only when money moves: at payout, or at a failure's refund).
 */
import { sql } from 'kysely';
import { PreparedStatement } from '../../db/prepared.ts';
import { MAX_REPUTATION, MIN_REPUTATION, REPUTATION_GAIN, REPUTATION_LOSS } from '../matching.ts';
import type { Tx } from '../store.ts';

export type Outcome = 'success' | 'failure';
type Slots = -1 | 0 | 1;
type Values = { agentId: string; earned: number };

/** reputation + delta, kept within bounds, as one portable SQL expression (no read-modify-write race). */
const reputationPlus = (delta: number) =>
  sql<number>`CASE WHEN reputation + ${delta} > ${MAX_REPUTATION} THEN ${MAX_REPUTATION} WHEN reputation + ${delta} < ${MIN_REPUTATION} THEN ${MIN_REPUTATION} ELSE reputation + ${delta} END`;

const statements = new Map<string, PreparedStatement<Values>>();

function statement(slots: Slots, outcome: Outcome | undefined): PreparedStatement<Values> {
  const key = `${slots}:${outcome}`;
  let prepared = statements.get(key);
  if (!prepared) {
    prepared = new PreparedStatement<Values>((db, value) =>
      db
        .updateTable('agents')
        .set((eb) => ({
          ...(slots === 1 && { active_tasks: eb('active_tasks', '+', 1) }),
          // Never below zero, even if a row was somehow counted twice: capacity must not grow unbounded.
          ...(slots === -1 && { active_tasks: sql<number>`CASE WHEN active_tasks > 0 THEN active_tasks - 1 ELSE 0 END` }),
          ...(outcome === 'success' && {
            tasks_completed: eb('tasks_completed', '+', 1),
            earnings: eb('earnings', '+', value('earned')),
            reputation: reputationPlus(REPUTATION_GAIN),
          }),
          ...(outcome === 'failure' && { tasks_failed: eb('tasks_failed', '+', 1), reputation: reputationPlus(-REPUTATION_LOSS) }),
        }))
        .where('id', '=', value('agentId')),
    );
    statements.set(key, prepared);
  }
  return prepared;
}

/** Change the agent's slots by `slots` and record `outcome` (with `earned` sats on success), in one statement. */
export async function affectAgent(tx: Tx, agentId: string, slots: Slots, outcome?: Outcome, earned = 0): Promise<void> {
  if (slots === 0 && !outcome) return;
  await statement(slots, outcome).run(tx, { agentId, earned });
  // A freed slot, or a changed reputation, may let a pending task fit an agent now.
  tx.capacityFreed = true;
}
