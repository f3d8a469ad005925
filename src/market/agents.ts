import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/types.ts';
import { ConflictError, NotFoundError } from './errors.ts';
import { newId } from './ids.ts';
import { Accounts, openAccount } from './ledger.ts';
import { DEFAULT_ASK_PER_UNIT } from './matching.ts';
import { type Agent, type AgentMode, type AgentStatus, toAgent } from './model.ts';
import { type Store, transact } from './store.ts';

export interface RegisterAgent {
  operatorId: string | null;
  name: string;
  skills: string[];
  model: string;
  mode: AgentMode;
  askPerUnit?: number | null;
  maxConcurrency?: number | null;
  systemPrompt?: string | null;
  /** Seeded agents arrive with a track record; new ones start at 1.00x with none. */
  reputation?: number;
  history?: { completed: number; failed: number };
}

export async function registerAgent(store: Store, input: RegisterAgent): Promise<Agent> {
  return transact(store, async (tx) => {
    const taken = await tx.db.selectFrom('agents').select('id').where('name', '=', input.name).executeTakeFirst();
    if (taken) throw new ConflictError('An agent with this name already exists');
    const row = agentRow(input, newId(tx.now), tx.now);
    await tx.db.insertInto('agents').values(row).execute();
    await openAccount(tx, Accounts.agent(row.id), 'agent');
    tx.capacityFreed = true;
    return toAgent(row);
  });
}

function agentRow(input: RegisterAgent, id: string, now: number) {
  return {
    id,
    operator_id: input.operatorId,
    name: input.name,
    skills: JSON.stringify(input.skills),
    model: input.model,
    mode: input.mode,
    status: 'ONLINE' as const,
    system_prompt: input.systemPrompt ?? null,
    ask_per_unit: input.askPerUnit ?? DEFAULT_ASK_PER_UNIT,
    max_concurrency: input.maxConcurrency ?? 4,
    reputation: input.reputation ?? 1,
    tasks_completed: input.history?.completed ?? 0,
    tasks_failed: input.history?.failed ?? 0,
    active_tasks: 0,
    earnings: 0,
    created_at: now,
  };
}

export interface UpdateAgent {
  id: string;
  status?: AgentStatus | null;
  skills?: string[] | null;
  askPerUnit?: number | null;
  maxConcurrency?: number | null;
  systemPrompt?: string | null;
}

/** Change what the operator controls; pending tasks are matched again since the agent may now fit them. */
export async function updateAgent(store: Store, input: UpdateAgent): Promise<Agent> {
  return transact(store, async (tx) => {
    const changes = {
      ...(input.status != null && { status: input.status }),
      ...(input.skills != null && { skills: JSON.stringify(input.skills) }),
      ...(input.askPerUnit != null && { ask_per_unit: input.askPerUnit }),
      ...(input.maxConcurrency != null && { max_concurrency: input.maxConcurrency }),
      ...(input.systemPrompt !== undefined && { system_prompt: input.systemPrompt }),
    };
    if (Object.keys(changes).length > 0) {
      await tx.db.updateTable('agents').set(changes).where('id', '=', input.id).execute();
    }
    const row = await tx.db.selectFrom('agents').selectAll().where('id', '=', input.id).executeTakeFirst();
    if (!row) throw new NotFoundError('No agent with this id');
    tx.capacityFreed = true;
    return toAgent(row);
  });
}

export async function agentsByIds(db: Kysely<Database>, ids: readonly string[]): Promise<Agent[]> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom('agents').selectAll().where('id', 'in', ids).execute();
  return rows.map(toAgent);
}

export async function agentsOfOperators(db: Kysely<Database>, operatorIds: readonly string[]): Promise<Agent[]> {
  if (operatorIds.length === 0) return [];
  const rows = await db.selectFrom('agents').selectAll().where('operator_id', 'in', operatorIds).orderBy('id').execute();
  return rows.map(toAgent);
}

export async function allAgents(db: Kysely<Database>): Promise<Agent[]> {
  const rows = await db.selectFrom('agents').selectAll().execute();
  return rows.map(toAgent);
}

export type AgentOrder = 'REPUTATION' | 'EARNINGS' | 'SUCCESS_RATE' | 'NEWEST';

const successRateSql = 'CASE WHEN tasks_completed + tasks_failed = 0 THEN 0.0 ELSE 1.0 * tasks_completed / (tasks_completed + tasks_failed) END';

/**
 * A page of agents in the given order, using offset cursors: agents are few and their order (reputation,
 * earnings) shifts constantly, so a key-set cursor would be no more stable than an offset here.
 */
export async function pageOfAgents(db: Kysely<Database>, order: AgentOrder, offset: number, limit: number): Promise<Agent[]> {
  let query = db.selectFrom('agents').selectAll();
  query =
    order === 'REPUTATION'
      ? query.orderBy('reputation', 'desc')
      : order === 'EARNINGS'
        ? query.orderBy('earnings', 'desc')
        : order === 'SUCCESS_RATE'
          ? query.orderBy(sql.raw(successRateSql), 'desc')
          : query;
  const rows = await query.orderBy('id', 'desc').limit(limit).offset(offset).execute();
  return rows.map(toAgent);
}

/** All agents, counted only when a caller asks for `totalCount` (most lists do not). */
export async function countAgents(db: Kysely<Database>): Promise<number> {
  const row = await db.selectFrom('agents').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * The original system's three agents, so an empty marketplace can be tried at once. Several instances
 * may start together on one fresh database: all three are inserted in one transaction, each `ON CONFLICT
 * (name) DO NOTHING` (on PostgreSQL the insert waits for the instance that got there first, then does
 * nothing), so exactly three exist, whoever wins.
 */
export async function seedAgents(store: Store, model: string): Promise<void> {
  const originals = [
    { name: 'agent-1', reputation: 2.0, history: { completed: 19, failed: 1 } },
    { name: 'agent-2', reputation: 1.8, history: { completed: 9, failed: 1 } },
    { name: 'agent-3', reputation: 1.2, history: { completed: 7, failed: 3 } },
  ];
  await transact(store, async (tx) => {
    const existing = await tx.db.selectFrom('agents').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    if (Number(existing.n) > 0) return;
    for (const agent of originals) {
      const row = agentRow({ ...agent, operatorId: null, skills: [], model, mode: 'MANAGED', maxConcurrency: 8 }, newId(tx.now), tx.now);
      const inserted = await tx.db.insertInto('agents').values(row).onConflict((oc) => oc.column('name').doNothing()).returning('id').executeTakeFirst();
      if (!inserted) continue;
      await openAccount(tx, Accounts.agent(row.id), 'agent');
      tx.capacityFreed = true;
    }
  });
}
