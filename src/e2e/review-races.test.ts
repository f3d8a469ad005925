/**
 * Races at the review deadline, 20 times each: the buyer's accept (or dispute) arrives at the moment the
 * sweep auto-releases. Exactly one wins, visibly (one ACCEPTED or AUTO_RELEASED, or one DISPUTE_OPENED),
 * the loser is refused with InvalidStateError, and the agent is paid at most once.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServer, type TestServer } from './harness.ts';
import { expectLedgerInvariants, transfersOf } from './ledger-db.ts';
import { marketOps } from './market-ops.ts';
import { type ReviewAnswer, reviewOps } from './review-ops.ts';
import { describeEachDialect } from './test-database.ts';

const RACES = 20;
const MAX_PRICE = 300_000;

describeEachDialect('review deadline races', (dialect) => {
  let server: TestServer;
  let admin: string;
  const market = () => marketOps(server.gql);
  const review = () => reviewOps(server.gql);

  beforeAll(async () => {
    // A short lease makes the sweep (which also releases due reviews) run every quarter lease: 100 ms on
    // SQLite; on PostgreSQL a loaded machine needs longer leases for the renewals to keep up (every 1.25 s).
    server = await startServer({ PLATFORM_FEE_BPS: '500', TASK_LEASE_SECONDS: dialect === 'sqlite' ? '0.4' : '5' }, { dialect });
    admin = await server.adminToken();
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** RACES tasks with a 1 s review window, each raced by `move` fired at its own review deadline. */
  async function raceAtDeadlines(move: (token: string, taskId: string) => Promise<ReviewAnswer>) {
    const buyer = await market().fundedBuyer(RACES * MAX_PRICE);
    const ids = await Promise.all(Array.from({ length: RACES }, (_, i) => market().createTask(buyer.token, { maxPrice: MAX_PRICE, reviewWindowSeconds: 1, prompt: `race ${i} ${Date.now()}` })));
    return Promise.all(
      ids.map(async (id) => {
        const delivered = await market().waitForTask(buyer.token, id, (t) => t.status !== 'PENDING' && t.status !== 'PROCESSING', 30_000, 'delivery');
        const task = await review().task(buyer.token, delivered.id);
        const deadline = Date.parse(task.reviewDeadline ?? '');
        if (Number.isFinite(deadline)) await sleep(Math.max(0, deadline - Date.now()));
        const answer = await move(buyer.token, id);
        const after = await market().waitForTask(buyer.token, id, (t) => t.status !== 'DELIVERED', 10_000, 'the race to be decided');
        const final = await review().task(buyer.token, after.id);
        const payouts = (await transfersOf(server.databaseUrl, id)).filter((t) => t.kind === 'payout').length;
        return { answer, final, payouts };
      }),
    );
  }

  it(`accept vs auto-release at the deadline (${RACES} times): one outcome, one payout`, async () => {
    const results = await raceAtDeadlines((token, id) => review().accept(token, id));
    for (const { answer, final, payouts } of results) {
      const kinds = final.events.map((e) => e.kind);
      const won = kinds.filter((k) => k === 'ACCEPTED' || k === 'AUTO_RELEASED');
      expect(won, 'exactly one of ACCEPTED and AUTO_RELEASED').toHaveLength(1);
      expect(final.status).toBe('COMPLETED');
      expect(payouts).toBe(1);
      if (won[0] === 'ACCEPTED') expect(answer).toEqual({ __typename: 'Task', status: 'COMPLETED' });
      else expect(answer).toMatchObject({ __typename: 'InvalidStateError', status: 'COMPLETED' });
    }
    console.log(`accept vs auto-release: ${results.filter((r) => r.answer.__typename === 'Task').length} accepted, ${results.filter((r) => r.answer.__typename !== 'Task').length} auto-released`);
    await expectLedgerInvariants(server.databaseUrl);
  }, 120_000);

  it(`dispute vs auto-release at the deadline (${RACES} times): one outcome, no payout to a disputed task`, async () => {
    const results = await raceAtDeadlines((token, id) => review().openDispute(token, id, 'late objection'));
    for (const { answer, final, payouts } of results) {
      const kinds = final.events.map((e) => e.kind);
      const opened = kinds.includes('DISPUTE_OPENED');
      const released = kinds.includes('AUTO_RELEASED');
      expect(opened !== released, 'either the dispute or the auto-release, never both').toBe(true);
      if (opened) {
        expect(answer).toEqual({ __typename: 'Task', status: 'DISPUTED' });
        expect(final.status).toBe('DISPUTED');
        expect(payouts).toBe(0);
        expect(await review().resolveDispute(admin, final.id, 10_000, 'settled after the race')).toEqual({ __typename: 'Task', status: 'COMPLETED' });
      } else {
        expect(answer).toMatchObject({ __typename: 'InvalidStateError', status: 'COMPLETED' });
        expect(final.status).toBe('COMPLETED');
        expect(payouts).toBe(1);
      }
    }
    console.log(`dispute vs auto-release: ${results.filter((r) => r.answer.__typename === 'Task').length} disputed, ${results.filter((r) => r.answer.__typename !== 'Task').length} auto-released`);
    await expectLedgerInvariants(server.databaseUrl);
  }, 120_000);
});
