/**
 * The review window in a real browser against the real server: the buyer opens a delivered task by its
 * row, watches the countdown to the automatic payout, sends the result back with feedback (a blank one is
 * refused next to its box), accepts the rework and sees the money move; a second task is disputed, shows
 * up live in the admin's open disputes and is resolved at 50 %, and the split is checked to the sat
 * through the API. Then the buyer's task list: search by title, the status filter, Load more, a row
 * opened by keyboard, and the dialog at phone width. Screenshots land in test-artifacts/.
 */
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserUnavailable, ensureDashboardBuilt, launchBrowser, screenshot, signedInPage, textOf } from './dashboard-browser.ts';
import { ADMIN, startServer, type TestServer } from './harness.ts';
import { type AgentView, marketOps, type MarketOps } from './market-ops.ts';
import { reviewOps } from './review-ops.ts';

const FEE_BPS = 1_000;
const REVIEW_WINDOW_SECONDS = 120;
const FUNDS = 10_000_000;
const MAX_PRICE = 300_000;
const ACCEPTED = 'Accept me in the browser';
const DISPUTED = 'Dispute me in the browser';

const sats = (n: number) => `${n.toLocaleString('en-US')} sat`;
const feeOf = (paid: number) => Math.floor((paid * FEE_BPS) / 10_000);

describe.skipIf(browserUnavailable())('review and disputes in the dashboard', () => {
  let server: TestServer;
  let market: MarketOps;
  let browser: Browser;
  let buyerPage: Page;
  let agent: AgentView;
  let buyer: { token: string; id: string; email: string };
  const problems: string[] = [];
  /** What each test leaves for the next: the buyer's and the agent's money so far. */
  const spent = { buyer: 0, agent: 0, platform: 0 };

  const review = () => reviewOps(server.gql);
  const dialogOf = (page: Page) => page.getByTestId('task-dialog');
  const statusIn = (dialog: Locator) => dialog.locator('.dialog-header [data-testid="task-status"]');
  const rowOf = (page: Page, title: string) => page.getByTestId('task-row').filter({ hasText: title });
  const visibleTitles = (page: Page) => page.getByTestId('task-row').locator('th').allTextContents();

  async function deliveredTask(title: string): Promise<{ id: string; price: number }> {
    const id = await market.createTask(buyer.token, { title, maxPrice: MAX_PRICE, prompt: `${title}: say something useful.` });
    const task = await market.waitForTask(buyer.token, id, (t) => t.status === 'DELIVERED', 20_000, `${title} delivered`);
    return { id, price: task.price ?? 0 };
  }

  beforeAll(async () => {
    ensureDashboardBuilt();
    server = await startServer({ REVIEW_WINDOW_SECONDS: String(REVIEW_WINDOW_SECONDS), PLATFORM_FEE_BPS: String(FEE_BPS), MAX_CHANGE_REQUESTS: '2' });
    market = marketOps(server.gql);
    // One agent does every task, so its wallet can be followed to the sat.
    for (const a of await market.agents()) if (a.name !== 'agent-1') await market.updateAgent({ id: a.id, status: 'PAUSED' });
    const one = (await market.agents()).find((a) => a.name === 'agent-1');
    if (!one) throw new Error('agent-1 is not seeded');
    agent = await market.readAgent(one.id); // its wallet as the admin sees it
    buyer = await market.fundedBuyer(FUNDS);
    browser = await launchBrowser();
    buyerPage = await signedInPage(browser, server.url, { ...buyer, role: 'BUYER' }, problems);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (problems.length) console.warn(`[dashboard-review] browser console:\n${problems.join('\n')}`);
  });

  it('the buyer opens a delivered task by its row, sees the countdown, sends it back with feedback and accepts the rework', async () => {
    const revenueBefore = await review().platformRevenue();
    const { id, price } = await deliveredTask(ACCEPTED);
    const page = buyerPage;
    const row = rowOf(page, ACCEPTED).and(page.locator('[data-status="DELIVERED"]'));
    await row.waitFor();
    await row.locator('td').first().click(); // the row itself, not its title button
    const dialog = dialogOf(page);
    await dialog.getByTestId('review-panel').waitFor();
    expect(await textOf(dialog.getByTestId('task-dialog-title'))).toBe(ACCEPTED);

    // The countdown says when silence pays, and ticks.
    const countdown = dialog.getByTestId('review-countdown');
    expect(await textOf(countdown)).toMatch(/^Pays the agent automatically in [12]:\d\d$/);
    const left = Number(await countdown.getAttribute('data-seconds-left'));
    expect(left).toBeGreaterThan(REVIEW_WINDOW_SECONDS - 30);
    expect(left).toBeLessThanOrEqual(REVIEW_WINDOW_SECONDS);
    await expect.poll(async () => Number(await countdown.getAttribute('data-seconds-left')), { timeout: 5_000 }).toBeLessThan(left);
    await screenshot(dialog, 'review-buyer-dialog.png');

    // Blank feedback: the server's ValidationError stands next to the box, and nothing moves.
    const changes = dialog.getByTestId('request-changes-form');
    await changes.getByTestId('request-changes-submit').click();
    await changes.getByTestId('error-feedback').waitFor();
    expect((await review().task(buyer.token, id)).status).toBe('DELIVERED');

    await changes.getByLabel('What should change').fill('Shorter, please.');
    await changes.getByTestId('request-changes-submit').click();
    await expect.poll(() => textOf(page.getByTestId('review-done')), { timeout: 10_000 }).toBe('Sent back to the agent with your feedback.');
    // The same agent reworks it and it comes back DELIVERED, with the request in the dialog.
    await dialog.locator('[data-testid="change-request"]', { hasText: 'Shorter, please.' }).waitFor();
    await expect.poll(() => textOf(statusIn(dialog)), { timeout: 20_000 }).toBe('DELIVERED');
    await dialog.getByTestId('review-panel').waitFor();
    expect(await textOf(dialog.getByTestId('request-changes-form').locator('.field-hint'))).toContain('You have asked for changes 1 time.');
    const reworked = await review().task(buyer.token, id);
    expect(reworked).toMatchObject({ status: 'DELIVERED', price, changeRequests: [{ feedback: 'Shorter, please.' }] });
    expect(reworked.events.map((e) => e.kind)).toEqual(['CREATED', 'ASSIGNED', 'STARTED', 'DELIVERED', 'CHANGES_REQUESTED', 'DELIVERED']);

    await dialog.getByTestId('review-accept').click();
    await expect.poll(() => textOf(statusIn(dialog)), { timeout: 10_000 }).toBe('COMPLETED');
    await expect.poll(() => textOf(page.getByTestId('review-done')), { timeout: 10_000 }).toBe('Accepted: the agent is paid.');
    expect(await dialog.getByTestId('review-panel').count()).toBe(0);
    const fee = feeOf(price);
    expect(await textOf(dialog.getByTestId('task-fee'))).toBe(sats(fee));

    spent.buyer += price;
    spent.agent += price - fee;
    spent.platform += fee;
    expect(await market.wallet(buyer.token)).toEqual({ balance: FUNDS - spent.buyer, escrowed: 0 });
    expect((await market.readAgent(agent.id)).balance).toBe(agent.balance + spent.agent);
    expect(await review().platformRevenue()).toBe(revenueBefore + fee);
    // The open page follows the payout without a reload.
    await page.keyboard.press('Escape');
    await expect.poll(() => textOf(page.getByTestId('buyer-balance')), { timeout: 10_000 }).toBe(sats(FUNDS - spent.buyer));
    expect(await textOf(page.getByTestId('buyer-escrow'))).toBe('0 sat');
  });

  it("a disputed task appears live in the admin's open disputes; resolved at 50 % it pays exactly half, less the fee", async () => {
    const revenueBefore = await review().platformRevenue();
    // The admin's page is open before the dispute exists: it must arrive by itself.
    const adminToken = await server.adminToken();
    const adminId = (await server.gql('{ me { id } }', {}, adminToken)).data?.me.id as string;
    const admin = await signedInPage(browser, server.url, { token: adminToken, id: adminId, email: ADMIN.email, role: 'ADMIN' }, problems);
    const disputes = admin.getByTestId('admin-disputes');
    await disputes.getByText('No open disputes.').waitFor();

    const { id, price } = await deliveredTask(DISPUTED);
    const page = buyerPage;
    await rowOf(page, DISPUTED).and(page.locator('[data-status="DELIVERED"]')).locator('td').first().click();
    const dialog = dialogOf(page);
    const dispute = dialog.getByTestId('open-dispute-form');
    await dispute.getByLabel('Why you dispute it').fill('This is not what I asked for.');
    await dispute.getByTestId('open-dispute-submit').click();
    await expect.poll(() => textOf(statusIn(dialog)), { timeout: 10_000 }).toBe('DISPUTED');
    expect(await textOf(dialog.getByTestId('dispute-reason'))).toBe('This is not what I asked for.');
    expect(await textOf(dialog.getByTestId('dispute-share'))).toBe('Waiting for an admin');
    expect(await market.wallet(buyer.token)).toEqual({ balance: FUNDS - spent.buyer - MAX_PRICE, escrowed: MAX_PRICE });

    const item = disputes.locator(`[data-testid="dispute-item"][data-task-id="${id}"]`);
    await item.waitFor({ timeout: 10_000 });
    expect(await textOf(item.getByTestId('dispute-reason'))).toBe('This is not what I asked for.');
    expect(await textOf(item.getByTestId('dispute-buyer'))).toBe(buyer.email);
    expect(await textOf(item.getByTestId('dispute-agent'))).toBe('agent-1');
    expect(await textOf(item.getByTestId('dispute-price'))).toBe(sats(price));
    expect(await item.getByRole('button', { name: DISPUTED }).count()).toBe(1);

    // Out of range and no note: both refused at once, next to their fields, and nothing is sent.
    await item.getByLabel("Agent's share (%)").fill('150');
    await item.getByTestId('resolve-submit').click();
    await item.getByTestId('error-agentShareBps').waitFor();
    await item.getByTestId('error-note').waitFor();
    expect((await review().task(adminToken, id)).status).toBe('DISPUTED');

    await item.getByLabel("Agent's share (%)").fill('50');
    expect(await item.getByTestId('error-agentShareBps').count()).toBe(0); // gone with the value it spoke of
    const share = Math.floor(price / 2);
    expect(await textOf(item.locator('.field-hint'))).toBe(`Agent ${sats(share)} (fee taken from it), buyer back ${sats(MAX_PRICE - share)}.`);
    await item.getByLabel('Note').fill('Half of it was useful.');
    await screenshot(disputes, 'review-admin-disputes.png');
    await item.getByTestId('resolve-submit').click();
    await item.waitFor({ state: 'detached', timeout: 10_000 });
    await disputes.getByText('No open disputes.').waitFor();

    const fee = feeOf(share);
    const resolved = await review().task(buyer.token, id);
    expect(resolved).toMatchObject({ status: 'COMPLETED', fee, dispute: { agentShareBps: 5_000, resolutionNote: 'Half of it was useful.' } });
    spent.buyer += share;
    spent.agent += share - fee;
    expect(await market.wallet(buyer.token)).toEqual({ balance: FUNDS - spent.buyer, escrowed: 0 });
    expect((await market.readAgent(agent.id)).balance).toBe(agent.balance + spent.agent);
    expect(await review().platformRevenue()).toBe(revenueBefore + fee);

    // The buyer's open dialog follows: the decision and the admin's note.
    await expect.poll(() => textOf(statusIn(dialog)), { timeout: 10_000 }).toBe('COMPLETED');
    expect(await textOf(dialog.getByTestId('dispute-share'))).toBe('50% to the agent');
    expect(await textOf(dialog.getByTestId('dispute-note'))).toBe('Half of it was useful.');
    expect(await textOf(dialog.getByTestId('task-fee'))).toBe(sats(fee));
    await page.keyboard.press('Escape');
    await admin.context().close();
  });

  it("the buyer's list: search by title, a status filter, Load more, and a row opened with the keyboard", async () => {
    const page = buyerPage;
    // Pay on delivery: these only fill the list past its first page.
    const bulk = Array.from({ length: 21 }, (_, n) => `Bulk ${String(n + 1).padStart(2, '0')}`);
    const ids = [];
    for (const title of bulk) ids.push(await market.createTask(buyer.token, { title, maxPrice: MAX_PRICE, reviewWindowSeconds: 0 }));
    for (const id of ids) await market.waitForTask(buyer.token, id, (t) => t.status === 'COMPLETED', 60_000, 'the bulk tasks');
    // A fresh load: tasks that arrived live while the page was open would all show, past any page size.
    await page.reload();
    await page.getByTestId('task-row').filter({ hasText: 'Bulk 21' }).waitFor();

    const search = page.getByTestId('task-search');
    await search.fill('DISPUTE me');
    await expect.poll(() => visibleTitles(page), { timeout: 10_000 }).toEqual([DISPUTED]);
    await expect.poll(() => textOf(page.getByTestId('task-count')), { timeout: 10_000 }).toBe('1 of 1');

    // Load more: a page is 20 rows; the 21st bulk task comes with the next one.
    await search.fill('bulk');
    await expect.poll(async () => (await visibleTitles(page)).length, { timeout: 10_000 }).toBe(20);
    await expect.poll(() => textOf(page.getByTestId('task-count')), { timeout: 10_000 }).toBe('20 of 21');
    await page.getByTestId('task-load-more').click();
    await expect.poll(async () => (await visibleTitles(page)).sort(), { timeout: 10_000 }).toEqual(bulk);
    expect(await page.getByTestId('task-load-more').count()).toBe(0);

    // The status filter, asked of the server: a fresh DELIVERED task is the only one of its kind.
    await search.fill('');
    const { id: fresh } = await deliveredTask('Still in review');
    await page.getByTestId('status-filter').selectOption('DELIVERED');
    await expect.poll(() => visibleTitles(page), { timeout: 10_000 }).toEqual(['Still in review']);
    await page.getByTestId('status-filter').selectOption('COMPLETED');
    await expect.poll(async () => (await visibleTitles(page)).length, { timeout: 10_000 }).toBe(20);
    expect(await visibleTitles(page)).not.toContain('Still in review');
    await expect.poll(() => textOf(page.getByTestId('task-count')), { timeout: 10_000 }).toBe(`20 of ${bulk.length + 2}`);
    await page.getByTestId('status-filter').selectOption('');

    // Keyboard: Tab from the filter reaches the first row (one stop per row), Enter opens it, Esc closes.
    await page.getByTestId('status-filter').focus();
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => ({ id: document.activeElement?.getAttribute('data-task-id'), visible: document.activeElement?.matches(':focus-visible') }));
    expect(focused).toEqual({ id: fresh, visible: true });
    await page.keyboard.press('Enter');
    const dialog = dialogOf(page);
    await dialog.getByTestId('review-panel').waitFor();
    expect(await textOf(dialog.getByTestId('task-dialog-title'))).toBe('Still in review');

    // At phone width the dialog with its review controls fits: nothing scrolls sideways.
    await page.setViewportSize({ width: 390, height: 844 });
    await dialog.getByTestId('review-panel').scrollIntoViewIfNeeded();
    const widths = await page.evaluate(() => {
      const inner = document.querySelector('.dialog-inner');
      return { page: document.documentElement.scrollWidth - document.documentElement.clientWidth, dialog: (inner?.scrollWidth ?? 1) - (inner?.clientWidth ?? 0) };
    });
    expect(widths).toEqual({ page: 0, dialog: 0 });
    await screenshot(page, 'review-buyer-dialog-phone.png');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-task-id'))).toBe(fresh);
  });
});
