import DataLoader from 'dataloader';
import { agentsByIds, agentsOfOperators, allAgents } from '../market/agents.ts';
import { presentAgents } from '../market/presence.ts';
import { eventsOfTasks } from '../market/events.ts';
import { balancesOf } from '../market/ledger.ts';
import type { Agent, Task, TaskEvent, User } from '../market/model.ts';
import type { Store } from '../market/store.ts';
import { tasksByIds } from '../market/tasks.ts';
import { escrowedByBuyer } from '../market/task/settlement.ts';
import { usersByIds } from '../market/users.ts';

/**
 * One loader per relation, per request, so a page of tasks with their agents, buyers and balances costs
 * one query per relation rather than one per row. Each loader is made on first use: most requests use one
 * or two, and a subscription holds its context (and so its loaders) for as long as it lives, so ten
 * thousand subscribers would otherwise keep seventy thousand idle loaders (about 2.9 KB per context).
 */
export class Loaders {
  #user?: DataLoader<string, User | null>;
  #agent?: DataLoader<string, Agent | null>;
  #task?: DataLoader<string, Task | null>;
  #balance?: DataLoader<string, number>;
  #escrowed?: DataLoader<string, number>;
  #eventsOfTask?: DataLoader<string, TaskEvent[]>;
  #agentsOfOperator?: DataLoader<string, Agent[]>;
  #connected?: DataLoader<string, boolean>;
  #market?: Promise<{ agents: Agent[]; connected: Set<string> }>;

  constructor(private readonly store: Store) {}

  get user() {
    return (this.#user ??= new DataLoader(async (ids) => byId(ids, await usersByIds(this.store, ids))));
  }

  get agent() {
    return (this.#agent ??= new DataLoader(async (ids) => byId(ids, await agentsByIds(this.store.db, ids))));
  }

  get task() {
    return (this.#task ??= new DataLoader(async (ids) => byId(ids, await tasksByIds(this.store.db, ids))));
  }

  /** Ledger balance by account id. */
  get balance() {
    return (this.#balance ??= new DataLoader(async (accountIds) => {
      const balances = await balancesOf(this.store.db, accountIds);
      return accountIds.map((id) => balances.get(id) ?? 0);
    }));
  }

  get escrowed() {
    return (this.#escrowed ??= new DataLoader(async (buyerIds) => {
      const escrowed = await escrowedByBuyer(this.store.db, buyerIds);
      return buyerIds.map((id) => escrowed.get(id) ?? 0);
    }));
  }

  get eventsOfTask() {
    return (this.#eventsOfTask ??= new DataLoader(async (taskIds) => {
      const events = await eventsOfTasks(this.store.db, taskIds);
      return taskIds.map((id) => events.filter((e) => e.taskId === id));
    }));
  }

  /** Whether an EXTERNAL agent's operator listens now, on any instance (MANAGED agents: always). */
  get connected() {
    return (this.#connected ??= new DataLoader(async (agentIds) => {
      const present = await presentAgents(this.store.db, agentIds, this.store.now());
      return agentIds.map((id) => present.has(id));
    }));
  }

  /** Every agent and which EXTERNAL ones are connected, read once per request: what matching sees. */
  market(): Promise<{ agents: Agent[]; connected: Set<string> }> {
    return (this.#market ??= (async () => {
      const agents = await allAgents(this.store.db);
      const external = agents.filter((a) => a.mode === 'EXTERNAL').map((a) => a.id);
      return { agents, connected: await presentAgents(this.store.db, external, this.store.now()) };
    })());
  }

  get agentsOfOperator() {
    return (this.#agentsOfOperator ??= new DataLoader(async (operatorIds) => {
      const agents = await agentsOfOperators(this.store.db, operatorIds);
      return operatorIds.map((id) => agents.filter((a) => a.operatorId === id));
    }));
  }
}

export function createLoaders(store: Store): Loaders {
  return new Loaders(store);
}

/**
 * A subscription's context lives as long as the subscription; loaders cache forever. Each delivered event
 * starts from fresh loaders so it shows the data as it is now, still batched within the event.
 *
 * Those fresh loaders are shared by every subscriber delivering the same event: with ten thousand
 * subscribers, one event reads its task (and agent) once instead of ten thousand times. Loaders hold data
 * only (what a viewer may see is decided by the resolvers, from `ctx.viewer`), so sharing them across
 * viewers is safe. Only the latest event's loaders are kept.
 */
export function refreshLoaders(ctx: { loaders: Loaders; services: { store: Store } }, sequence: number): void {
  const store = ctx.services.store;
  let shared = eventLoaders.get(store);
  if (shared?.sequence !== sequence) {
    shared = { sequence, loaders: createLoaders(store) };
    eventLoaders.set(store, shared);
  }
  ctx.loaders = shared.loaders;
}

const eventLoaders = new WeakMap<Store, { sequence: number; loaders: Loaders }>();

function byId<T extends { id: string }>(ids: readonly string[], items: T[]): (T | null)[] {
  const map = new Map(items.map((item) => [item.id, item]));
  return ids.map((id) => map.get(id) ?? null);
}
