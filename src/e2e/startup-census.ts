/** What starting on a fresh database must leave behind, however many instances started at once. */
import { migrationNames } from '../db/create-db.ts';

/** What start-up leaves behind, counted in the database itself. */
export const CENSUS = {
  migrations: 'SELECT COUNT(*) AS n FROM kysely_migration',
  agents: "SELECT COUNT(*) AS n FROM agents WHERE name IN ('agent-1', 'agent-2', 'agent-3')",
  allAgents: 'SELECT COUNT(*) AS n FROM agents',
  agentWallets: "SELECT COUNT(*) AS n FROM accounts WHERE kind = 'agent'",
  admins: "SELECT COUNT(*) AS n FROM users WHERE role = 'ADMIN'",
  adminWallets: `SELECT COUNT(*) AS n FROM accounts a JOIN users u ON a.id = 'user:' || u.id WHERE u.role = 'ADMIN'`,
  systemAccounts: "SELECT COUNT(*) AS n FROM accounts WHERE id IN ('world', 'platform')",
} as const;

export type Census = Record<keyof typeof CENSUS, number>;

export const expectedCensus: Census = { migrations: migrationNames.length, agents: 3, allAgents: 3, agentWallets: 3, admins: 1, adminWallets: 1, systemAccounts: 2 };

/** The census of a PostgreSQL database. */
export async function postgresCensus(url: string): Promise<Census> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const census: Record<string, number> = {};
    for (const [key, query] of Object.entries(CENSUS)) census[key] = Number((await client.query<{ n: string }>(query)).rows[0]?.n);
    return census as Census;
  } finally {
    await client.end();
  }
}
