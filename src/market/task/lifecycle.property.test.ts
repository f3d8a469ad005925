/**
 * The move table under fire: random sequences of moves, allowed and not, from concurrent callers, on a real
 * SQLite file and a fresh PostgreSQL database. Stale lease tokens are replayed on purpose; time is moved
 * past review deadlines. Whatever happens, the money must add up: balances sum to zero, no wallet or
 * escrow is negative, every final task's escrow is empty, no task is paid twice, payout + fee + refund =
 * maxPrice for every settled task, the counters equal the ledger, and agents hold exactly the tasks they
 * count. A failure prints the seed that reproduces it (PROPERTY_SEED).
 */
import { sql } from 'kysely';
import { afterAll, expect, it } from 'vitest';
import { createDb, type Db } from '../../db/create-db.ts';
import { createTestDatabase, describeEachDialect, type TestDatabase } from '../../e2e/test-database.ts';
import { seedAgents } from '../agents.ts';
import { ensureCounters } from '../counters.ts';
import { InsufficientFundsError, InvalidStateError, NotFoundError } from '../errors.ts';
import { ensureSystemAccounts } from '../ledger.ts';
import { toTask } from '../model.ts';
import { GroupCommit, type Store } from '../store.ts';
import { creditAccount, signUp } from '../users.ts';
import { finishAttempt, releaseLease, renewLease, requeueExpired } from './attempts.ts';
import { assignPending } from './claims.ts';
import { cancelTask, createTask } from './create.ts';
import { acceptResult, openDispute, releaseDue, requestChanges, resolveDispute } from './review.ts';

const ROUNDS = Number(process.env.PROPERTY_ROUNDS ?? 40);
const CALLERS = 8;
const LEASE_MS = 60_000;
const FEE_BPS = 700;

/** mulberry32: a small seeded generator, so a failing run can be replayed. */
function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describeEachDialect('the move table', (dialect) => {
  let database: TestDatabase;
  let db: Db;
  afterAll(async () => {
    await db?.close();
    await database?.drop();
  });

  it('keeps every sat in place whatever moves are tried, in whatever order, by concurrent callers', async () => {
    const seed = Number(process.env.PROPERTY_SEED ?? Date.now() % 1_000_000);
    const rand = random(seed);
    const pick = <T>(list: readonly T[]): T | undefined => list[Math.floor(rand() * list.length)];
    database = await createTestDatabase(dialect);
    db = await createDb(database.url);
    let skew = 0;
    const store: Store = {
      db: db.kysely,
      dialect: db.dialect,
      now: () => Date.now() + skew,
      rules: { platformFeeBps: FEE_BPS, reviewWindowSeconds: 0, maxChangeRequests: 2 },
      instanceId: 'property-test',
      onCommit: () => {},
      ...(db.dialect === 'sqlite' && { groupCommit: new GroupCommit() }),
    };
    await ensureCounters(db.kysely);
    await ensureSystemAccounts(db.kysely, Date.now());
    await seedAgents(store, 'test-model');
    const buyers = await Promise.all([1, 2, 3].map((n) => signUp(store, { email: `buyer${n}-${seed}@aicp.test`, password: 'password-1', role: 'BUYER' })));
    for (const buyer of buyers) await creditAccount(store, { userId: buyer.id, amount: 3_000_000, reference: `property-${buyer.id}` });

    /** Every lease token ever handed out: replaying old ones is part of the test. */
    const leases: { taskId: string; token: string }[] = [];
    const taskIds: string[] = [];
    const tasksIn = async (...statuses: string[]) =>
      (await db.kysely.selectFrom('tasks').selectAll().where('status', 'in', statuses as never[]).execute()).map(toTask);

    const moves: Record<string, () => Promise<unknown>> = {
      create: async () => {
        const buyer = pick(buyers);
        if (!buyer) return;
        const task = await createTask(store, buyer.id, {
          title: 't',
          prompt: 'p',
          skills: [],
          complexity: 1 + Math.floor(rand() * 3),
          maxPrice: 200_000 + Math.floor(rand() * 600_000),
          reviewWindowSeconds: rand() < 0.6 ? 3600 : 0,
        });
        taskIds.push(task.id);
      },
      cancel: async () => cancelTask(store, pick(taskIds) ?? 'none'),
      assign: async () => {
        for (const { task } of await assignPending(store, LEASE_MS, 4)) if (task.leaseToken) leases.push({ taskId: task.id, token: task.leaseToken });
      },
      finish: async () => {
        const lease = pick(leases);
        if (lease) await finishAttempt(store, lease.taskId, lease.token, rand() < 0.8 ? { ok: true, result: 'r' } : { ok: false, error: 'e', agentAtFault: rand() < 0.5 });
      },
      renew: async () => {
        const lease = pick(leases);
        if (lease) await renewLease(store, lease.taskId, lease.token, LEASE_MS);
      },
      expire: async () => {
        const lease = pick(leases);
        if (lease) await releaseLease(store, lease.taskId, lease.token);
        await requeueExpired(store);
      },
      accept: async () => acceptResult(store, pick(taskIds) ?? 'none'),
      requestChanges: async () => {
        const task = await requestChanges(store, pick(taskIds) ?? 'none', 'again', LEASE_MS);
        if (task.leaseToken) leases.push({ taskId: task.id, token: task.leaseToken });
      },
      dispute: async () => openDispute(store, pick(taskIds) ?? 'none', 'no'),
      resolve: async () => resolveDispute(store, pick(taskIds) ?? 'none', pick([0, 1, 2500, 5000, 9999, 10_000]) ?? 0, 'decided'),
      timePasses: async () => {
        skew += 1800_000;
        await releaseDue(store);
      },
    };
    const names = Object.keys(moves);
    const expected = (error: unknown) => error instanceof InvalidStateError || error instanceof InsufficientFundsError || error instanceof NotFoundError;

    try {
      for (let round = 0; round < ROUNDS; round++) {
        const batch = Array.from({ length: CALLERS }, () => pick(names) ?? 'create');
        const outcomes = await Promise.allSettled(batch.map((name) => moves[name]?.()));
        const unexpected = outcomes.flatMap((o, i) => (o.status === 'rejected' && !expected(o.reason) ? [`${batch[i]}: ${String(o.reason)}`] : []));
        expect(unexpected, 'only refusals the rules name').toEqual([]);
        await expectMoneyInPlace(db, dialect);
      }
      // Drain: every task to a final state, through the same moves.
      for (let pass = 0; pass < 50; pass++) {
        const open = await tasksIn('PENDING', 'PROCESSING', 'DELIVERED', 'DISPUTED');
        if (open.length === 0) break;
        // Attempts whose lease the moved clock outran go back to the queue first, as the sweep would.
        await requeueExpired(store);
        for (const { task } of await assignPending(store, LEASE_MS)) if (task.leaseToken) leases.push({ taskId: task.id, token: task.leaseToken });
        const drained = await Promise.allSettled(
          open.map((task) => {
            if (task.status === 'PROCESSING' && task.leaseToken) return finishAttempt(store, task.id, task.leaseToken, { ok: true, result: 'r' });
            if (task.status === 'DELIVERED') return acceptResult(store, task.id);
            if (task.status === 'DISPUTED') return resolveDispute(store, task.id, 5000, 'drained');
            if (task.status === 'PENDING' && pass > 2) return cancelTask(store, task.id);
            return undefined;
          }),
        );
        const failures = drained.flatMap((o) => (o.status === 'rejected' && !expected(o.reason) ? [String(o.reason)] : []));
        expect(failures, 'the drain meets only refusals the rules name').toEqual([]);
      }
      expect(await tasksIn('PENDING', 'PROCESSING', 'DELIVERED', 'DISPUTED'), 'every task ended').toEqual([]);
      await expectMoneyInPlace(db, dialect);
      expect(taskIds.length, 'the run created tasks').toBeGreaterThan(0);
    } catch (error) {
      throw new Error(`property failed with PROPERTY_SEED=${seed} on ${dialect}: ${(error as Error).message}`, { cause: error });
    }
  }, 300_000);
});

async function expectMoneyInPlace(db: Db, dialect: string): Promise<void> {
  const one = async <T>(query: ReturnType<typeof sql<T>>) => (await query.execute(db.kysely)).rows;
  const [sum] = await one<{ n: number | string }>(sql`SELECT COALESCE(SUM(balance), 0) AS n FROM accounts`);
  expect(Number(sum?.n), `balances sum to zero (${dialect})`).toBe(0);
  expect(await one(sql`SELECT id, balance FROM accounts WHERE balance < 0 AND id <> 'world'`), 'no wallet or escrow negative').toEqual([]);
  expect(
    await one(sql`SELECT t.id, t.status, a.balance FROM tasks t JOIN accounts a ON a.id = 'escrow:' || t.id WHERE t.status IN ('COMPLETED', 'FAILED', 'CANCELLED') AND a.balance <> 0`),
    "every final task's escrow is empty",
  ).toEqual([]);
  expect(
    await one(sql`SELECT task_id, COUNT(*) AS n FROM transfers WHERE kind = 'payout' GROUP BY task_id HAVING COUNT(*) > 1`),
    'each task paid at most once',
  ).toEqual([]);
  const settled = await one<{ id: string; max_price: number | string; settled: number | string }>(sql`
    SELECT t.id, t.max_price, COALESCE((SELECT SUM(amount) FROM transfers WHERE task_id = t.id AND kind IN ('payout', 'fee', 'refund')), 0) AS settled
      FROM tasks t WHERE t.status IN ('COMPLETED', 'FAILED', 'CANCELLED')`);
  expect(
    settled.filter((t) => Number(t.settled) !== Number(t.max_price)),
    'payout + fee + refund = maxPrice for every settled task',
  ).toEqual([]);
  const [money] = await one<{ paid: number | string; fees: number | string; counted_paid: number | string; counted_fees: number | string }>(sql`
    SELECT (SELECT COALESCE(SUM(amount), 0) FROM transfers WHERE kind = 'payout') AS paid,
           (SELECT COALESCE(SUM(amount), 0) FROM transfers WHERE kind = 'fee') AS fees,
           (SELECT value FROM counters WHERE name = 'paid.total') AS counted_paid,
           (SELECT value FROM counters WHERE name = 'platform.revenue') AS counted_fees`);
  expect(Number(money?.counted_paid), 'totalPaid = the payouts').toBe(Number(money?.paid));
  expect(Number(money?.counted_fees), 'platformRevenue = the fees').toBe(Number(money?.fees));
  expect(
    await one(sql`SELECT a.id, a.active_tasks, (SELECT COUNT(*) FROM tasks t WHERE t.agent_id = a.id AND t.status = 'PROCESSING') AS held
                    FROM agents a WHERE a.active_tasks <> (SELECT COUNT(*) FROM tasks t WHERE t.agent_id = a.id AND t.status = 'PROCESSING')`),
    "agents' active_tasks equal the tasks they hold",
  ).toEqual([]);
}
