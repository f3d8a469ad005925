/**
 * Live updates through the whole system, over both transports the contract names (graphql-ws and SSE):
 * lifecycles in order, `taskEvents(afterSequence)` resuming with no gap and no duplicate, nothing about a
 * task reaching anyone who may not read it, and marketStats' current value then its updates.
 *
 * Tasks either run on the seeded MANAGED agents (offline executor: fast, unattended) or, where a test must
 * decide when a task moves, on an EXTERNAL agent this file operates itself (priced out of ordinary tasks).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventsAfter } from '../market/events.ts';
import { startServer, type TestServer, waitFor } from './harness.ts';
import { describeEachDialect } from './test-database.ts';
import { closeAfterEach, listenForAssignments, type LiveStream, subscribeSse, subscribeWs } from './live-clients.ts';
import { EVENT_FIELDS, type EventView, marketOps, type MarketOps, type TaskView } from './market-ops.ts';

const TASK_EVENTS = `subscription ($after: Int) { taskEvents(afterSequence: $after) { ${EVENT_FIELDS} } }`;
const TASK_UPDATED = 'subscription ($id: ID!) { taskUpdated(id: $id) { id status result agent { id } events { status } } }';
const MARKET_STATS = 'subscription { marketStats { totalTasks tasksByStatus { status count } } }';

interface EventsData {
  taskEvents: EventView;
}
interface UpdatedData {
  taskUpdated: { id: string; status: string; result: string | null; agent: { id: string } | null; events: { status: string }[] };
}
interface StatsData {
  marketStats: { totalTasks: number; tasksByStatus: { status: string; count: number }[] };
}

describeEachDialect('subscriptions', (dialect) => {
  let server: TestServer;
  let market: MarketOps;
  let operator: { token: string };
  /** The manual agents' operators listen all along, so the agents are connected and offered work. */
  const listeners: LiveStream<unknown>[] = [];
  const MANUAL = { skills: ['manual'], maxPrice: 5_000_000 };
  /** Ordinary tasks: complexity 1, within the seeded agents' prices, far below the manual agent's. */
  const ORDINARY = { maxPrice: 300_000 };

  beforeAll(async () => {
    server = await startServer({ TASK_LEASE_SECONDS: '120' }, { dialect });
    market = marketOps(server.gql);
    operator = await server.signUp('AGENT');
    const manual = await market.registerAgent(operator.token, { name: 'manual-agent', mode: 'EXTERNAL', skills: ['manual'], askPerUnit: 1_000_000, maxConcurrency: 50 });
    listeners.push(listenForAssignments(server, manual.id, operator.token));
  });
  afterAll(async () => {
    await Promise.all(listeners.map((listener) => listener.close()));
    await server?.stop();
  });

  const track = closeAfterEach();

  const events = (stream: LiveStream<EventsData>) => stream.data.map((d) => d.taskEvents);
  const has = (taskId: string, status: string) => (data: EventsData[]) => data.some((d) => d.taskEvents.task.id === taskId && d.taskEvents.status === status);

  async function statusOf(taskId: string, token: string, wanted: string): Promise<TaskView> {
    return market.waitForTask(token, taskId, (task) => task.status === wanted, 20_000, `task ${taskId} to be ${wanted}`);
  }

  /** Post ordinary tasks as `token`'s buyer until every stream has received an event; the tasks posted. */
  async function untilListening(streams: LiveStream<EventsData>[], token: string): Promise<string[]> {
    const posted: string[] = [];
    await waitFor(async () => {
      posted.push(await market.createTask(token, ORDINARY));
      await new Promise((resolve) => setTimeout(resolve, 100));
      return streams.every((stream) => stream.data.length > 0);
    }, 20_000, 'the live streams to be listening');
    return posted;
  }

  it('a client that leaves lets go of its subscription at once, not at the next event (taskEvents, taskUpdated, marketStats)', async () => {
    const { hub, stats } = server.app.services;
    const buyer = await market.fundedBuyer();
    const taskId = await market.createTask(buyer.token, { skills: ['left-alone'], maxPrice: 5_000_000 });
    const [hubBefore, statsBefore] = [hub.subscriberCount, stats.listenerCount];
    const streams = [
      subscribeWs<EventsData>(server, TASK_EVENTS, { after: 0 }, buyer.token),
      subscribeWs<UpdatedData>(server, TASK_UPDATED, { id: taskId }, buyer.token),
      subscribeWs<StatsData>(server, MARKET_STATS),
    ];
    // Each has sent its first result (the replayed PENDING event, the task, the stats now) and waits for news.
    for (const stream of streams) await stream.until((data) => data.length > 0, 'a first result');
    expect([hub.subscriberCount, stats.listenerCount]).toEqual([hubBefore + 2, statsBefore + 1]);
    for (const stream of streams) await stream.close();
    await waitFor(() => hub.subscriberCount <= hubBefore && stats.listenerCount <= statsBefore, 5_000, 'the subscriptions to be released');
  });

  /** Answer a manual task as its agent's operator, once it is in the agent's hands. */
  async function complete(taskId: string, buyerToken: string, result = 'done'): Promise<void> {
    await statusOf(taskId, buyerToken, 'PROCESSING');
    expect(await market.submitResult(operator.token, taskId, { result })).toMatchObject({ __typename: 'Task', status: 'COMPLETED' });
  }

  describe('lifecycle in order', () => {
    it('taskEvents: PENDING, ASSIGNED, PROCESSING, COMPLETED over WebSocket and over SSE', async () => {
      const buyer = await market.fundedBuyer();
      // A new buyer's stream holds only their own events; replaying from 0 means none is missed however fast the engine is.
      const ws = track(subscribeWs<EventsData>(server, TASK_EVENTS, { after: 0 }, buyer.token));
      const sse = track(subscribeSse<EventsData>(server, TASK_EVENTS, { after: 0 }, buyer.token));
      const taskId = await market.createTask(buyer.token, ORDINARY);
      const task = await statusOf(taskId, buyer.token, 'COMPLETED');
      for (const stream of [ws, sse]) {
        await stream.until(has(taskId, 'COMPLETED'), 'the COMPLETED event');
        expect(events(stream).map((e) => e.status)).toEqual(['PENDING', 'ASSIGNED', 'PROCESSING', 'COMPLETED']);
        expect(events(stream).map((e) => e.sequence)).toEqual(task.events.map((e) => e.sequence));
        expect(events(stream).every((e) => e.task.id === taskId)).toBe(true);
      }
    });

    it('taskUpdated: the task now, then once per change, in order, over WebSocket and over SSE', async () => {
      const buyer = await market.fundedBuyer();
      // Nobody has this skill yet: the task waits in PENDING until an agent that has it is registered.
      const taskId = await market.createTask(buyer.token, { skills: ['updated-later'], maxPrice: 5_000_000 });
      const ws = track(subscribeWs<UpdatedData>(server, TASK_UPDATED, { id: taskId }, buyer.token));
      const sse = track(subscribeSse<UpdatedData>(server, TASK_UPDATED, { id: taskId }, buyer.token));
      for (const stream of [ws, sse]) {
        const [now] = await stream.until((data) => data.length >= 1, 'the task now');
        expect(now?.taskUpdated).toMatchObject({ id: taskId, status: 'PENDING', agent: null, events: [{ status: 'PENDING' }] });
      }

      const laterOperator = await server.signUp('AGENT');
      const agentId = (await market.registerAgent(laterOperator.token, { name: 'updated-later-agent', mode: 'EXTERNAL', skills: ['updated-later'], askPerUnit: 1_000_000 })).id;
      listeners.push(listenForAssignments(server, agentId, laterOperator.token));
      for (const stream of [ws, sse]) await stream.until((data) => data.some((d) => d.taskUpdated.status === 'PROCESSING'), 'PROCESSING');
      expect(await market.submitResult(laterOperator.token, taskId, { result: 'the answer' })).toMatchObject({ status: 'COMPLETED' });

      for (const stream of [ws, sse]) {
        const seen = (await stream.until((data) => data.some((d) => d.taskUpdated.status === 'COMPLETED'), 'COMPLETED')).map((d) => d.taskUpdated);
        // An EXTERNAL agent's task is assigned and started in one transaction, so ASSIGNED is never the
        // task's state between changes; its events still record it. Each change is sent once.
        expect(seen.map((t) => t.status)).toEqual(['PENDING', 'PROCESSING', 'COMPLETED']);
        expect(seen[1]).toMatchObject({ agent: { id: agentId }, events: [{ status: 'PENDING' }, { status: 'ASSIGNED' }, { status: 'PROCESSING' }] });
        expect(seen[2]).toMatchObject({ result: 'the answer', events: ['PENDING', 'ASSIGNED', 'PROCESSING', 'COMPLETED'].map((status) => ({ status })) });
      }
    });
  });

  describe('taskEvents(afterSequence): resuming', () => {
    it('after a disconnect, yields exactly the missed events, then live ones', async () => {
      const buyer = await market.fundedBuyer(50_000_000);
      const first = track(subscribeWs<EventsData>(server, TASK_EVENTS, { after: 0 }, buyer.token));
      const one = await market.createTask(buyer.token, MANUAL);
      await first.until(has(one, 'PROCESSING'), 'the first task to start');
      await first.close();
      const seenBefore = events(first);
      const lastSeen = seenBefore.at(-1)?.sequence ?? 0;

      // While away: the first task completes, a second is posted and started.
      await complete(one, buyer.token);
      const two = await market.createTask(buyer.token, MANUAL);
      await statusOf(two, buyer.token, 'PROCESSING');

      const ws = track(subscribeWs<EventsData>(server, TASK_EVENTS, { after: lastSeen }, buyer.token));
      const sse = track(subscribeSse<EventsData>(server, TASK_EVENTS, { after: lastSeen }, buyer.token));
      for (const stream of [ws, sse]) await stream.until(has(two, 'PROCESSING'), 'the missed events');
      // Live from here on.
      await complete(two, buyer.token);
      for (const stream of [ws, sse]) await stream.until(has(two, 'COMPLETED'), 'the live COMPLETED event');

      const truth = [...(await market.readTask(buyer.token, one))!.events, ...(await market.readTask(buyer.token, two))!.events].map((e) => e.sequence).sort((a, b) => a - b);
      expect(truth).toHaveLength(8);
      expect(seenBefore.map((e) => e.sequence)).toEqual(truth.filter((s) => s <= lastSeen));
      for (const stream of [ws, sse]) {
        expect(events(stream).map((e) => e.sequence)).toEqual(truth.filter((s) => s > lastSeen));
        expect(events(stream).map((e) => e.status)).toEqual(['COMPLETED', 'PENDING', 'ASSIGNED', 'PROCESSING', 'COMPLETED']);
      }
    });

    it('resuming while events keep coming: no gap and no duplicate at the seam', async () => {
      const buyer = await market.fundedBuyer(50_000_000);
      const count = 20;
      const whole = track(subscribeWs<EventsData>(server, TASK_EVENTS, { after: 0 }, buyer.token));
      const posting = Promise.all(Array.from({ length: count }, () => market.createTask(buyer.token, ORDINARY)));
      // Resume from a point in the middle of the burst, while tasks are still being posted and run.
      const [, , , , fifth] = await whole.until((data) => data.length >= 5, 'the first events of the burst');
      const from = fifth?.taskEvents.sequence ?? 0;
      const resumedWs = track(subscribeWs<EventsData>(server, TASK_EVENTS, { after: from }, buyer.token));
      const resumedSse = track(subscribeSse<EventsData>(server, TASK_EVENTS, { after: from }, buyer.token));
      const ids = await posting;

      await whole.until((data) => data.filter((d) => d.taskEvents.status === 'COMPLETED').length === count, `all ${count} tasks to complete`, 30_000);
      const truth = (await Promise.all(ids.map((id) => market.readTask(buyer.token, id))))
        .flatMap((task) => task?.events ?? [])
        .map((e) => e.sequence)
        .sort((a, b) => a - b);
      expect(truth).toHaveLength(4 * count);
      const last = truth.at(-1);
      for (const stream of [resumedWs, resumedSse]) await stream.until((data) => data.some((d) => d.taskEvents.sequence === last), 'the last event');
      expect(events(whole).map((e) => e.sequence)).toEqual(truth);
      for (const stream of [resumedWs, resumedSse]) expect(events(stream).map((e) => e.sequence)).toEqual(truth.filter((s) => s > from));
    });

    it('eventSequence, read with an empty list, is a start that misses nothing: events committed after the read are replayed', async () => {
      const buyer = await market.fundedBuyer();
      const before = await server.gql('{ eventSequence tasks(first: 5) { edges { node { id } } } }', {}, buyer.token);
      const start = before.data?.eventSequence as number;
      expect(before.data?.tasks.edges).toEqual([]);
      expect(Number.isInteger(start)).toBe(true);
      // The task lives and finishes before anyone listens.
      const taskId = await market.createTask(buyer.token, ORDINARY);
      const done = await statusOf(taskId, buyer.token, 'COMPLETED');
      const stream = track(subscribeWs<EventsData>(server, TASK_EVENTS, { after: start }, buyer.token));
      await stream.until(has(taskId, 'COMPLETED'), 'the replayed COMPLETED');
      expect(events(stream).map((e) => e.sequence)).toEqual(done.events.map((e) => e.sequence));
      expect(events(stream).every((e) => e.sequence > start)).toBe(true);
      // Read again now, it has moved past every event of that task.
      await waitFor(async () => ((await server.gql('{ eventSequence }')).data?.eventSequence ?? 0) >= (done.events.at(-1)?.sequence ?? Infinity), 10_000, 'eventSequence to pass the task');
    });
  });

  describe('who receives what', () => {
    it("a stranger's live stream receives nothing about my task, while it receives their own", async () => {
      const me = await market.fundedBuyer();
      const stranger = await market.fundedBuyer();
      const strangerWs = track(subscribeWs<EventsData>(server, TASK_EVENTS, {}, stranger.token));
      const strangerSse = track(subscribeSse<EventsData>(server, TASK_EVENTS, {}, stranger.token));
      // Live-only streams start listening at a moment the client cannot see: the stranger posts tasks until
      // both streams show one, which proves they are listening.
      const warmUps = await untilListening([strangerWs, strangerSse], stranger.token);

      const mine = track(subscribeWs<EventsData>(server, TASK_EVENTS, { after: 0 }, me.token));
      const myTask = await market.createTask(me.token, ORDINARY);
      await mine.until(has(myTask, 'COMPLETED'), 'my task to complete');
      // Posted after my task ended: its events come after all of mine in the (ordered) stream.
      const later = await market.createTask(stranger.token, ORDINARY);
      for (const stream of [strangerWs, strangerSse]) {
        await stream.until(has(later, 'COMPLETED'), "the stranger's second task");
        expect(events(stream).every((e) => e.task.id === later || warmUps.includes(e.task.id))).toBe(true);
        expect(events(stream).filter((e) => e.task.id === later).map((e) => e.status)).toEqual(['PENDING', 'ASSIGNED', 'PROCESSING', 'COMPLETED']);
      }
      expect(new Set(events(mine).map((e) => e.task.id))).toEqual(new Set([myTask]));

      // Nor can the stranger (or anyone anonymous) follow my task directly.
      const refused = [
        track(subscribeWs<UpdatedData>(server, TASK_UPDATED, { id: myTask }, stranger.token)),
        track(subscribeSse<UpdatedData>(server, TASK_UPDATED, { id: myTask }, stranger.token)),
      ];
      const anonymous = [
        track(subscribeWs<UpdatedData>(server, TASK_UPDATED, { id: myTask })),
        track(subscribeWs<EventsData>(server, TASK_EVENTS, { after: 0 })),
        track(subscribeSse<EventsData>(server, TASK_EVENTS, { after: 0 })),
      ];
      for (const stream of [...refused, ...anonymous]) await stream.ending();
      for (const stream of refused) expect({ codes: stream.errorCodes, data: stream.data }).toEqual({ codes: ['NOT_FOUND'], data: [] });
      for (const stream of anonymous) expect({ codes: stream.errorCodes, data: stream.data }).toEqual({ codes: ['UNAUTHENTICATED'], data: [] });
    });

    it("an admin's taskEvents sees every buyer's events", async () => {
      const admin = await server.adminToken();
      const stream = track(subscribeWs<EventsData>(server, TASK_EVENTS, { after: 0 }, admin));
      const a = await market.fundedBuyer();
      const b = await market.fundedBuyer();
      const [taskA, taskB] = await Promise.all([market.createTask(a.token, ORDINARY), market.createTask(b.token, ORDINARY)]);
      await stream.until((data) => has(taskA, 'COMPLETED')(data) && has(taskB, 'COMPLETED')(data), 'both tasks to complete');

      const received = events(stream).map((e) => e.sequence);
      const last = Math.max(...events(stream).filter((e) => e.task.id === taskA || e.task.id === taskB).map((e) => e.sequence));
      const everything = (await eventsAfter(server.app.services.store.db, 0, 100_000)).map((e) => e.sequence).filter((s) => s <= last);
      expect(received.filter((s) => s <= last)).toEqual(everything);
    });
  });

  describe('marketStats', () => {
    it('yields the current stats first, then an update after a task is created, over WebSocket and SSE (GET)', async () => {
      const buyer = await market.fundedBuyer();
      const now = await server.gql<StatsData>('{ marketStats { totalTasks tasksByStatus { status count } } }');
      const total = now.data?.marketStats.totalTasks ?? Number.NaN;
      const ws = track(subscribeWs<StatsData>(server, MARKET_STATS));
      const sse = track(subscribeSse<StatsData>(server, MARKET_STATS, {}, undefined, 'GET'));
      for (const stream of [ws, sse]) {
        const [first] = await stream.until((data) => data.length >= 1, 'the current stats');
        expect(first?.marketStats).toEqual(now.data?.marketStats);
      }
      await market.createTask(buyer.token, ORDINARY);
      for (const stream of [ws, sse]) {
        const updates = await stream.until((data) => data.some((d) => d.marketStats.totalTasks === total + 1), 'the stats after one more task');
        expect(updates.map((d) => d.marketStats.totalTasks).every((n, i, all) => i === 0 || n >= (all[i - 1] ?? n))).toBe(true);
      }
    });
  });
});
