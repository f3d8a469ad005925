import DataLoader from 'dataloader';
import { agentsByIds, agentsOfOperators } from '../market/agents.ts';
import { eventsOfTasks } from '../market/events.ts';
import { balancesOf } from '../market/ledger.ts';
import type { Agent, Task, TaskEvent, User } from '../market/model.ts';
import type { Store } from '../market/store.ts';
import { tasksByIds } from '../market/tasks.ts';
import { escrowedByBuyer, usersByIds } from '../market/users.ts';

/**
 * One loader per relation, created per request, so a page of tasks with their agents, buyers and
 * balances costs one query per relation rather than one per row.
 */
export function createLoaders(store: Store) {
  const db = store.db;
  return {
    user: new DataLoader<string, User | null>(async (ids) => byId(ids, await usersByIds(store, ids))),
    agent: new DataLoader<string, Agent | null>(async (ids) => byId(ids, await agentsByIds(db, ids))),
    task: new DataLoader<string, Task | null>(async (ids) => byId(ids, await tasksByIds(db, ids))),
    /** Ledger balance by account id. */
    balance: new DataLoader<string, number>(async (accountIds) => {
      const balances = await balancesOf(db, accountIds);
      return accountIds.map((id) => balances.get(id) ?? 0);
    }),
    escrowed: new DataLoader<string, number>(async (buyerIds) => {
      const escrowed = await escrowedByBuyer(store, buyerIds);
      return buyerIds.map((id) => escrowed.get(id) ?? 0);
    }),
    eventsOfTask: new DataLoader<string, TaskEvent[]>(async (taskIds) => {
      const events = await eventsOfTasks(db, taskIds);
      return taskIds.map((id) => events.filter((e) => e.taskId === id));
    }),
    agentsOfOperator: new DataLoader<string, Agent[]>(async (operatorIds) => {
      const agents = await agentsOfOperators(db, operatorIds);
      return operatorIds.map((id) => agents.filter((a) => a.operatorId === id));
    }),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;

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
