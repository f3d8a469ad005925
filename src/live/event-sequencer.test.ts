/**
 * EventSequencer: news of committed events arrives out of order, twice or never (several connections
 * committing at once, several instances over Redis, a Redis reconnect); what it hands on is every
 * committed event once, in sequence order. The database here is an array the test commits to; news is
 * what the test says arrived.
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TaskEvent } from '../market/model.ts';
import { type EventSource, EventSequencer } from './event-sequencer.ts';

const event = (sequence: number): TaskEvent => ({ sequence, taskId: `t${sequence}`, buyerId: 'b', agentId: null, status: 'PENDING', kind: 'CREATED', message: null, at: new Date(0) });

/** The committed events, and a count of the database reads made to fill gaps. */
function database(sequences: number[] = []) {
  const committed = sequences.map(event);
  let failNext = 0;
  const reads: number[] = [];
  const source: EventSource = {
    after: async (afterSequence, limit) => {
      reads.push(afterSequence);
      if (failNext > 0) {
        failNext--;
        throw new Error('connection lost');
      }
      return committed.filter((e) => e.sequence > afterSequence).slice(0, limit);
    },
    latest: async () => committed.reduce((max, e) => Math.max(max, e.sequence), 0),
  };
  return {
    source,
    reads,
    commit: (...seqs: number[]) => committed.push(...seqs.map(event)),
    failReads: (n: number) => (failNext = n),
  };
}

let sequencer: EventSequencer | undefined;
afterEach(() => sequencer?.stop());

async function started(db: ReturnType<typeof database>, options = { gapWaitMs: 5, tailCheckMs: 20 }) {
  const delivered: number[] = [];
  sequencer = new EventSequencer(db.source, (e) => delivered.push(e.sequence), pino({ level: 'silent' }), options);
  await sequencer.start();
  return { delivered, news: (...seqs: number[]) => seqs.forEach((s) => sequencer?.receive(event(s))) };
}

describe('EventSequencer', () => {
  it('starts after the newest committed event: older news is not passed on again', async () => {
    const db = database([1, 2, 3]);
    const { delivered, news } = await started(db);
    news(2, 3);
    db.commit(4);
    news(4);
    expect(delivered).toEqual([4]);
  });

  it('holds news that arrives ahead of a missing event until it comes, then passes all in order', async () => {
    const db = database();
    const { delivered, news } = await started(db, { gapWaitMs: 60_000, tailCheckMs: 60_000 });
    db.commit(1, 2, 3);
    news(3, 2);
    expect(delivered).toEqual([]);
    news(1);
    expect(delivered).toEqual([1, 2, 3]);
    expect(db.reads).toEqual([]);
  });

  it('passes duplicates once', async () => {
    const db = database();
    const { delivered, news } = await started(db);
    db.commit(1, 2);
    news(1, 1, 2, 1, 2);
    expect(delivered).toEqual([1, 2]);
  });

  it('reads a lost event from the database rather than dropping it or what follows', async () => {
    const db = database();
    const { delivered, news } = await started(db);
    db.commit(1, 2, 3, 4);
    news(1, 3, 4); // 2 was committed, its news lost
    await vi.waitFor(() => expect(delivered).toEqual([1, 2, 3, 4]));
    news(2); // the lost news turning up late changes nothing
    db.commit(5);
    news(5);
    expect(delivered).toEqual([1, 2, 3, 4, 5]);
  });

  it('notices the last events before a silence were lost, from the newest committed sequence', async () => {
    const db = database();
    const { delivered, news } = await started(db);
    db.commit(1, 2, 3);
    news(1);
    await vi.waitFor(() => expect(delivered).toEqual([1, 2, 3]));
  });

  it('passes over a sequence the database does not have while it has later ones (a hole), without waiting', async () => {
    const db = database();
    const { delivered, news } = await started(db);
    db.commit(1, 3);
    news(1, 3);
    await vi.waitFor(() => expect(delivered).toEqual([1, 3]));
  });

  it('retries a failed database read until it succeeds, still in order', async () => {
    const db = database();
    const { delivered, news } = await started(db);
    db.commit(1, 2, 3);
    db.failReads(1);
    news(3);
    await vi.waitFor(() => expect(delivered).toEqual([1, 2, 3]), { timeout: 5000 });
    expect(db.reads.length).toBeGreaterThanOrEqual(2);
  });

  it('fills a long gap page by page', async () => {
    const db = database();
    const { delivered, news } = await started(db);
    const many = Array.from({ length: 1234 }, (_, i) => i + 1);
    db.commit(...many);
    news(1234);
    await vi.waitFor(() => expect(delivered).toHaveLength(1234));
    expect(delivered).toEqual(many);
  });
});
