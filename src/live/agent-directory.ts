import type { Kysely } from 'kysely';
import type { Database } from '../db/types.ts';

/**
 * agent id -> operator's user id, for deciding who may see an event as it streams past. An agent's
 * operator never changes, so entries never go stale and each agent costs one lookup per process.
 */
export class AgentDirectory {
  readonly #operators = new Map<string, string | null>();
  constructor(private readonly db: Kysely<Database>) {}

  operatorOf(agentId: string): string | null | undefined {
    return this.#operators.get(agentId);
  }

  async load(agentId: string): Promise<string | null> {
    const known = this.#operators.get(agentId);
    if (known !== undefined) return known;
    const row = await this.db.selectFrom('agents').select('operator_id').where('id', '=', agentId).executeTakeFirst();
    const operator = row?.operator_id ?? null;
    this.#operators.set(agentId, operator);
    return operator;
  }
}
