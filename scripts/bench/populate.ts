/**
 * Child process for figure 7's setup, run before the server under test starts: a database holding N
 * finished tasks. Users, agents and credits go through the market layer (the app's own start, signUp,
 * creditAccount). The N tasks are then written in bulk, in one transaction, as exactly the rows their
 * lifecycle leaves behind (the task COMPLETED with its agent and price, its escrow account, the escrow,
 * payout and refund transfers, four events, the counters, the agents' and accounts' totals): the
 * engine's own pace on this machine (a few hundred tasks a second) would take minutes for 100,000.
 * The ledger is checked to still sum to zero.
 */
import BetterSqlite3 from 'better-sqlite3';
import { pino } from 'pino';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { allAgents } from '../../src/market/agents.ts';
import { newId } from '../../src/market/ids.ts';
import { priceFor } from '../../src/market/matching.ts';
import { creditAccount, signUp } from '../../src/market/users.ts';
import { serve } from './child.ts';

export interface PopulateJob {
  databaseFile: string;
  tasks: number;
  buyers: number;
}

export interface PopulateResult {
  tasks: number;
  seconds: number;
  /** A buyer's email, to sign in as for the latency test. */
  buyerEmail: string;
  buyerPassword: string;
}

const PASSWORD = 'archive-password';
const MAX_PRICE = 1_000_000;
const FUNDS = 1_000_000_000_000;

serve<PopulateJob, PopulateResult>(async (job) => {
  const started = performance.now();
  const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: job.databaseFile, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent' });
  const app = await buildApp(config, { logger: pino({ level: 'silent' }) });
  await app.start();
  const { store } = app.services;
  const agents = await allAgents(store.db);
  const buyers: string[] = [];
  for (let i = 0; i < job.buyers; i++) {
    const user = await signUp(store, { email: `archive-buyer-${i}@aicp.test`, password: PASSWORD, role: 'BUYER' });
    await creditAccount(store, { userId: user.id, amount: FUNDS, reference: `archive-${i}` });
    buyers.push(user.id);
  }
  await app.stop({ graceMs: 0 });

  const db = new BetterSqlite3(job.databaseFile);
  db.pragma('journal_mode = WAL');
  const insertTask = db.prepare(
    `INSERT INTO tasks (id, buyer_id, agent_id, title, prompt, skills, complexity, max_price, price, status, result, error, attempts,
       idempotency_key, lease_token, lease_expires_at, skip_agent_id, created_at, updated_at, completed_at)
     VALUES (?, ?, ?, ?, ?, '[]', ?, ?, ?, 'COMPLETED', ?, NULL, 1, NULL, NULL, NULL, NULL, ?, ?, ?)`,
  );
  const insertAccount = db.prepare(`INSERT INTO accounts (id, kind, balance, created_at) VALUES (?, 'escrow', 0, ?)`);
  const insertTransfer = db.prepare(`INSERT INTO transfers (id, debit_account, credit_account, amount, kind, task_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`);
  const insertEvent = db.prepare(`INSERT INTO task_events (sequence, task_id, buyer_id, agent_id, status, message, at) VALUES (?, ?, ?, ?, ?, ?, ?)`);
  const addBalance = db.prepare(`UPDATE accounts SET balance = balance + ? WHERE id = ?`);
  const addAgent = db.prepare(`UPDATE agents SET tasks_completed = tasks_completed + ?, earnings = earnings + ? WHERE id = ?`);
  const addCounter = db.prepare(`UPDATE counters SET value = value + ? WHERE name = ?`);
  const sequenceRow = db.prepare(`SELECT value FROM counters WHERE name = 'event.sequence'`);

  db.transaction(() => {
    let sequence = (sequenceRow.get() as { value: number }).value;
    const spent = new Map<string, number>();
    const earned = new Map<string, { count: number; sum: number }>();
    let paid = 0;
    const t0 = Date.now() - job.tasks * 10;
    for (let n = 0; n < job.tasks; n++) {
      const at = t0 + n * 10;
      const id = newId(at);
      const buyer = buyers[n % buyers.length]!;
      const agent = agents[n % agents.length]!;
      const complexity = 1 + (n % 3);
      const price = Math.min(MAX_PRICE, priceFor(agent, complexity));
      insertTask.run(id, buyer, agent.id, `Archived task ${n}`, `Summarise item ${n} of the archive.`, complexity, MAX_PRICE, price, `Answer to: item ${n}`, at, at + 5, at + 5);
      insertAccount.run(`escrow:${id}`, at);
      insertTransfer.run(`escrow:${id}`, `user:${buyer}`, `escrow:${id}`, MAX_PRICE, 'escrow', id, at);
      insertTransfer.run(`payout:${id}`, `escrow:${id}`, `agent:${agent.id}`, price, 'payout', id, at + 5);
      insertTransfer.run(`refund:${id}`, `escrow:${id}`, `user:${buyer}`, MAX_PRICE - price, 'refund', id, at + 5);
      insertEvent.run(++sequence, id, buyer, null, 'PENDING', 'Posted; maxPrice held in escrow', at);
      insertEvent.run(++sequence, id, buyer, agent.id, 'ASSIGNED', `Assigned to ${agent.name}`, at + 1);
      insertEvent.run(++sequence, id, buyer, agent.id, 'PROCESSING', 'Started', at + 2);
      insertEvent.run(++sequence, id, buyer, agent.id, 'COMPLETED', 'Completed; the agent was paid', at + 5);
      spent.set(buyer, (spent.get(buyer) ?? 0) + price);
      const e = earned.get(agent.id) ?? { count: 0, sum: 0 };
      earned.set(agent.id, { count: e.count + 1, sum: e.sum + price });
      paid += price;
    }
    for (const [buyer, amount] of spent) addBalance.run(-amount, `user:${buyer}`);
    for (const [agentId, { count, sum }] of earned) {
      addBalance.run(sum, `agent:${agentId}`);
      addAgent.run(count, sum, agentId);
    }
    addCounter.run(sequence - (sequenceRow.get() as { value: number }).value, 'event.sequence');
    addCounter.run(job.tasks, 'tasks.total');
    addCounter.run(job.tasks, 'tasks.COMPLETED');
    addCounter.run(paid, 'paid.total');
  })();
  const { total } = db.prepare('SELECT sum(balance) AS total FROM accounts').get() as { total: number };
  if (total !== 0) throw new Error(`populate: the ledger sums to ${total}, not 0`);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return { tasks: job.tasks, seconds: (performance.now() - started) / 1000, buyerEmail: 'archive-buyer-0@aicp.test', buyerPassword: PASSWORD };
});
