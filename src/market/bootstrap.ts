import type { Config } from '../config.ts';
import { seedAgents } from './agents.ts';
import { ensureCounters } from './counters.ts';
import { ensureSystemAccounts } from './ledger.ts';
import type { Store } from './store.ts';
import { ensureAdmin } from './users.ts';

/**
 * What every instance makes sure of at start, on a database that may be fresh: the counters, the system
 * accounts, the seeded agents and the configured admin. Every step is idempotent and safe to run in
 * several instances at the same moment (`ON CONFLICT DO NOTHING` throughout), so they all come up.
 */
export async function bootstrapMarket(store: Store, config: Pick<Config, 'seedAgents' | 'admin' | 'ai'>): Promise<void> {
  await ensureCounters(store.db);
  await ensureSystemAccounts(store.db, store.now());
  if (config.seedAgents) await seedAgents(store, config.ai.model);
  if (config.admin) await ensureAdmin(store, config.admin.email, config.admin.password);
}
