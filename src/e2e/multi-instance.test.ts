/**
 * Three instances (real child processes, `src/main.ts`) on one PostgreSQL database and one Redis, a
 * provider answering in 300-800 ms, a few hundred tasks posted across the instances, and one instance
 * SIGKILLed mid-run and started again. Then, from the database itself: every task ended once; every
 * completed task paid once, its price, to the agent named on the task; the books balance; every agent's
 * capacity count matches the tasks it holds; and every subscriber (one per instance, plus one that moves
 * to another instance with afterSequence, plus the one whose instance was killed, resuming elsewhere)
 * received every event once, in sequence order, with no gap. Needs PostgreSQL and Redis (skipped with a
 * message without them, failing in CI); the Redis channel is unique to the run (REDIS_PREFIX).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FakeLlm, startFakeLlm } from '../../scripts/fake-llm/server.ts';
import { baseChildEnv, type ChildServer, exitOf, freePort, killAll, spawnServer } from './child-server.ts';
import { waitFor } from './harness.ts';
import { expectLedgerInvariants, queryRows } from './ledger-db.ts';
import { type LiveStream, subscribeWs } from './live-clients.ts';
import { marketOps } from './market-ops.ts';
import { createTestDatabase, dialectAvailable, type TestDatabase } from './test-database.ts';
import { redisAvailable, redisUrl, uniqueName } from './test-services.ts';

const TASKS = Number(process.env.TEST_MULTI_TASKS ?? 300);
const BUYERS = 10;
const MAX_PRICE = 300_000;
const LEASE_SECONDS = 5;
const EVENTS = 'subscription ($after: Int) { taskEvents(afterSequence: $after) { sequence status task { id } } }';
type EventsData = { taskEvents: { sequence: number; status: string; task: { id: string } } };

const ready = dialectAvailable.postgres && (await redisAvailable());

describe.skipIf(!ready)('three instances on one PostgreSQL and one Redis, one SIGKILLed mid-run', () => {
  let fake: FakeLlm;
  let database: TestDatabase;
  const children: ChildServer[] = [];
  const streams: LiveStream<EventsData>[] = [];

  beforeAll(async () => {
    fake = await startFakeLlm({ latencyMs: { min: 300, max: 800 } });
    database = await createTestDatabase('postgres');
  });
  afterEach(async () => {
    await Promise.all(streams.splice(0).map((s) => s.close()));
    await killAll(children);
  });
  afterAll(async () => {
    await fake?.close();
    await database?.drop();
  });

  it(`${TASKS} tasks: each ends once, paid once to its agent, books balanced, capacity exact, every subscriber gap-free`, async () => {
    const prefix = uniqueName('aicp_multi');
    const ports = await Promise.all([freePort(), freePort(), freePort()]);
    const envOf = (port: number) => ({
      ...baseChildEnv(database.url, port),
      REDIS_URL: redisUrl,
      REDIS_PREFIX: prefix,
      OPENAI_BASE_URL: fake.baseUrl,
      OPENAI_API_KEY: 'sk-e2e-multi',
      AI_CONCURRENCY: '8',
      AI_RETRY_BASE_MS: '10',
      TASK_LEASE_SECONDS: String(LEASE_SECONDS),
    });
    const start = async (port: number) => {
      const child = await spawnServer(envOf(port), 120_000);
      children.push(child);
      return child;
    };
    // All three at once on the fresh database, as an operator starts them.
    const nodes = await Promise.all(ports.map(start));
    const [a, b, c] = nodes as [ChildServer, ChildServer, ChildServer];

    const market = marketOps(a.gql);
    const admin = await market.adminToken();
    // Capacity is not what this test is about: the agents can hold every task in flight at once.
    for (const agent of await market.agents()) await market.updateAgent({ id: agent.id, maxConcurrency: 100 }, admin);
    const buyers = await Promise.all(Array.from({ length: BUYERS }, () => market.fundedBuyer(TASKS * MAX_PRICE)));

    const watch = (node: ChildServer, after: number) => {
      const stream = subscribeWs<EventsData>(node, EVENTS, { after }, admin);
      streams.push(stream);
      return stream;
    };
    const sequencesOf = (...parts: LiveStream<EventsData>[]) => parts.flatMap((s) => s.data.map((d) => d.taskEvents.sequence));
    const lastSeen = (stream: LiveStream<EventsData>) => sequencesOf(stream).at(-1) ?? 0;
    // One admin subscriber per instance from the very first event, and one that will move.
    const onA = watch(a, 0);
    const onB = watch(b, 0);
    const onC = watch(c, 0);
    const moverOnA = watch(a, 0);

    const post = async (targets: ChildServer[], from: number, count: number) => {
      const ids: string[] = [];
      const errors: string[] = [];
      let next = from;
      await Promise.all(
        Array.from({ length: 10 }, async () => {
          while (next < from + count) {
            const n = next++;
            const node = targets[n % targets.length] as ChildServer;
            const buyer = buyers[n % BUYERS] as (typeof buyers)[number];
            try {
              ids.push(await marketOps(node.gql).createTask(buyer.token, { prompt: `Multi ${n} ${prefix}`, maxPrice: MAX_PRICE }));
            } catch (error) {
              errors.push(String(error));
            }
          }
        }),
      );
      return { ids, errors };
    };
    const completed = async () => Number((await queryRows<{ n: number }>(database.url, "SELECT count(*) AS n FROM tasks WHERE status = 'COMPLETED'"))[0]?.n);

    const first = await post(nodes, 0, TASKS / 2);
    expect(first.errors, 'createTask answered every client').toEqual([]);

    // Mid-run: kill one instance while it holds running tasks.
    await waitFor(async () => (await completed()) >= TASKS / 6, 120_000, 'a sixth of the tasks to complete');
    c.signal('SIGKILL');
    expect(await exitOf(c, 10_000)).toMatchObject({ signal: 'SIGKILL' });
    await onC.ending(10_000);
    // Its subscriber, and the one moving, resume on other instances from the last event they saw.
    const cResumed = watch(a, lastSeen(onC));
    await moverOnA.close();
    const moverOnB = watch(b, lastSeen(moverOnA));

    const second = await post([a, b], TASKS / 2, TASKS / 2);
    expect(second.errors, 'createTask answered every client').toEqual([]);
    const restarted = await start(ports[2] as number);
    const ids = [...first.ids, ...second.ids];
    expect(new Set(ids).size).toBe(TASKS);

    await waitFor(
      async () => Number((await queryRows<{ n: number }>(database.url, "SELECT count(*) AS n FROM tasks WHERE status IN ('PENDING', 'ASSIGNED', 'PROCESSING')"))[0]?.n) === 0,
      300_000,
      'every task to end',
    );

    // Every task ended once.
    const tasks = await queryRows<{ id: string; status: string; agent_id: string | null; price: number | null; finals: number }>(
      database.url,
      `SELECT t.id, t.status, t.agent_id, t.price,
              (SELECT count(*) FROM task_events e WHERE e.task_id = t.id AND e.status IN ('COMPLETED', 'FAILED', 'CANCELLED')) AS finals
         FROM tasks t`,
    );
    expect(tasks).toHaveLength(TASKS);
    expect(tasks.filter((t) => t.finals !== 1 || !['COMPLETED', 'FAILED', 'CANCELLED'].includes(t.status))).toEqual([]);
    expect(tasks.filter((t) => t.status === 'COMPLETED').length, 'the provider always answers: every task completes').toBe(TASKS);

    // One payout per completed task, of its price, to the agent named on the task.
    const payouts = await queryRows<{ task_id: string; n: number; to_named: number; amount: number }>(
      database.url,
      `SELECT t.id AS task_id, count(p.id) AS n,
              count(p.id) FILTER (WHERE p.credit_account = 'agent:' || t.agent_id) AS to_named,
              coalesce(sum(p.amount), 0) AS amount
         FROM tasks t LEFT JOIN transfers p ON p.task_id = t.id AND p.kind = 'payout'
        WHERE t.status = 'COMPLETED' GROUP BY t.id`,
    );
    const byTask = new Map(tasks.map((t) => [t.id, t]));
    expect(payouts.filter((p) => p.n !== 1 || p.to_named !== 1 || p.amount !== byTask.get(p.task_id)?.price)).toEqual([]);
    await expectLedgerInvariants(database.url);

    // Capacity counts match the tasks held (none, now that every task ended).
    const capacity = await queryRows<{ id: string; active_tasks: number; held: number }>(
      database.url,
      `SELECT a.id, a.active_tasks,
              (SELECT count(*) FROM tasks t WHERE t.agent_id = a.id AND t.status IN ('ASSIGNED', 'PROCESSING')) AS held
         FROM agents a`,
    );
    expect(capacity.filter((row) => row.active_tasks !== row.held)).toEqual([]);

    // Every subscriber: every event once, in order, no gap, whichever instance committed it.
    const truth = (await queryRows<{ sequence: number }>(database.url, 'SELECT sequence FROM task_events ORDER BY sequence')).map((r) => r.sequence);
    const newest = truth.at(-1);
    const reached = (stream: LiveStream<EventsData>) => stream.until((data) => data.some((d) => d.taskEvents.sequence === newest), 'the newest event', 60_000);
    await Promise.all([onA, onB, cResumed, moverOnB].map(reached));
    expect(sequencesOf(onA), 'the subscriber on A').toEqual(truth);
    expect(sequencesOf(onB), 'the subscriber on B').toEqual(truth);
    expect(sequencesOf(onC, cResumed), 'the subscriber on the killed instance, resumed on A').toEqual(truth);
    expect(sequencesOf(moverOnA, moverOnB), 'the subscriber that moved from A to B').toEqual(truth);
    // And the restarted instance serves the whole history to a new subscriber.
    const late = watch(restarted, 0);
    await reached(late);
    expect(sequencesOf(late)).toEqual(truth);
  }, 900_000);
});
