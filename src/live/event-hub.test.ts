/**
 * TaskEventHub.stream at the seam between replay and live, with the interleavings a real server only
 * produces by chance: an event committed while the replay reads (seen by both halves: sent once) and one
 * committed just after the read (seen by neither unless the live half was already listening: sent).
 * The replay's reads are held open by the test, so each interleaving happens every run.
 */
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TaskEvent } from '../market/model.ts';
import { type AppPubSub, createAppPubSub, toMessage } from '../pubsub.ts';
import { TaskEventHub } from './event-hub.ts';

/** The replay's reads, each waiting for the test to answer it (the hub's event source is a parameter). */
const reads: { after: number; answer: (events: TaskEvent[]) => void }[] = [];
/** The newest sequence committed before the hub started: live news starts after it. */
let committedBefore = 0;
const source = {
  after: (after: number) => new Promise<TaskEvent[]>((answer) => reads.push({ after, answer })),
  latest: async () => committedBefore,
};

const event = (sequence: number): TaskEvent => ({ sequence, taskId: 't', buyerId: 'b', agentId: null, status: 'PENDING', kind: 'CREATED', message: null, at: new Date(0) });
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => event(from + i));

let pubsub: AppPubSub;
let hub: TaskEventHub;
beforeEach(async () => {
  reads.length = 0;
  pubsub = (await createAppPubSub(undefined)).pubsub;
});

async function startHub(lastCommitted: number): Promise<void> {
  committedBefore = lastCommitted;
  // No gap fills or tail checks in these tests: every event's news arrives, in order.
  hub = new TaskEventHub(pubsub, pino({ level: 'silent' }), source, { gapWaitMs: 60_000, tailCheckMs: 60_000 });
  await hub.start();
}
afterEach(() => hub.stop());

/** Publish as a commit does, and return once the hub has handed the event to its listeners. */
async function commit(sequence: number): Promise<void> {
  const probe = hub.listen();
  pubsub.publish('task:event', toMessage(event(sequence)));
  await probe.next();
  probe.close();
}

async function nextRead(): Promise<(typeof reads)[number]> {
  await vi.waitFor(() => expect(reads.length).toBeGreaterThan(0));
  const read = reads.shift();
  if (!read) throw new Error('no read');
  return read;
}

async function take(stream: AsyncGenerator<TaskEvent>, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const next = await stream.next();
    if (next.done) break;
    out.push(next.value.sequence);
  }
  return out;
}

describe('TaskEventHub.stream', () => {
  it('sends once an event committed while the replay reads (it is in the read and in the live queue)', async () => {
    await startHub(3);
    const stream = hub.stream(0);
    const first = stream.next();
    const read = await nextRead();
    await commit(4); // committed before the read returns, so the read includes it too
    read.answer(range(1, 4));
    expect([(await first).value?.sequence, ...(await take(stream, 3))]).toEqual([1, 2, 3, 4]);
    await commit(5);
    expect(await take(stream, 1)).toEqual([5]);
    await stream.return(undefined);
  });

  it('sends an event committed just after the replay read (in neither the read nor, if listening late, the live queue)', async () => {
    await startHub(3);
    const stream = hub.stream(0);
    const first = stream.next();
    const read = await nextRead();
    read.answer(range(1, 3));
    await commit(4); // after the read, before the replayed events are even consumed
    expect([(await first).value?.sequence, ...(await take(stream, 3))]).toEqual([1, 2, 3, 4]);
    await commit(5);
    expect(await take(stream, 1)).toEqual([5]);
    await stream.return(undefined);
  });

  it('replays page after page from the last sequence sent, then goes live', async () => {
    await startHub(511);
    const stream = hub.stream(10);
    const first = stream.next();
    const page1 = await nextRead();
    expect(page1.after).toBe(10);
    page1.answer(range(11, 510)); // a full page: there may be more
    expect((await first).value?.sequence).toBe(11);
    const rest = take(stream, 500);
    const page2 = await nextRead();
    expect(page2.after).toBe(510);
    page2.answer(range(511, 511));
    expect(await rest).toEqual(range(12, 511).map((e) => e.sequence));
    await commit(512);
    expect(await take(stream, 1)).toEqual([512]);
    await stream.return(undefined);
  });

  it('without afterSequence: live events only, no replay', async () => {
    await startHub(6);
    const stream = hub.stream(undefined);
    const first = stream.next();
    await vi.waitFor(() => expect(hub.subscriberCount).toBe(1));
    await commit(7);
    expect((await first).value?.sequence).toBe(7);
    expect(reads).toHaveLength(0);
    await stream.return(undefined);
    expect(hub.subscriberCount).toBe(0);
  });

  it('hands live events on in sequence order whatever order their news arrives in', async () => {
    await startHub(3);
    const stream = hub.stream(undefined);
    const first = stream.next();
    await vi.waitFor(() => expect(hub.subscriberCount).toBe(1));
    pubsub.publish('task:event', toMessage(event(6)));
    pubsub.publish('task:event', toMessage(event(5)));
    pubsub.publish('task:event', toMessage(event(4)));
    expect([(await first).value?.sequence, ...(await take(stream, 2))]).toEqual([4, 5, 6]);
    await stream.return(undefined);
  });
});
