/**
 * The dashboard as new users meet it, in a real browser against the real server: the overview's charts
 * from the server's history (a fresh profile, after a restart), the admin finding a new buyer by email and
 * crediting them, every error of an empty form at once, why a task waits, and the phone width.
 * Screenshots of each page land in test-artifacts/ (UPDATE_SCREENSHOTS=1 refreshes the README's).
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserUnavailable, ensureDashboardBuilt, launchBrowser, screenshot, textOf, watchConsole } from './dashboard-browser.ts';
import { ADMIN, startServer, type TestServer, waitFor } from './harness.ts';
import { marketOps, type MarketOps } from './market-ops.ts';

describe.skipIf(browserUnavailable())('the dashboard for new users', () => {
  let server: TestServer;
  let market: MarketOps;
  let browser: Browser;
  const problems: string[] = [];

  beforeAll(async () => {
    ensureDashboardBuilt();
    server = await startServer();
    market = marketOps(server.gql);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (problems.length) console.warn(`[dashboard-users] browser console:\n${problems.join('\n')}`);
  });

  /** A fresh profile (no localStorage, no cache) at the given size. */
  async function freshPage(width = 1280, height = 900): Promise<Page> {
    const context = await browser.newContext({ viewport: { width, height }, colorScheme: 'light' });
    const page = await context.newPage();
    problems.push(...watchConsole(page));
    return page;
  }

  async function signIn(page: Page, email: string, password: string): Promise<void> {
    await page.goto(`${server.url}/#/signin`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByTestId('auth-submit').click();
  }

  it('a fresh profile sees earlier completions in the charts, after a server restart too', async () => {
    const buyer = await market.fundedBuyer();
    const ids = [];
    for (const title of ['Chart one', 'Chart two']) ids.push(await market.createTask(buyer.token, { title, maxPrice: 300_000 }));
    for (const id of ids) await market.waitForTask(buyer.token, id, (t) => t.status === 'COMPLETED');
    await server.restart();

    const page = await freshPage();
    await page.goto(`${server.url}/`);
    const chart = page.getByTestId('chart-completed');
    await waitFor(async () => Number(await chart.getAttribute('data-total')) >= 2, 15_000, 'the completions in the chart');
    expect(Number(await page.getByTestId('chart-sats').getAttribute('data-total'))).toBeGreaterThan(0);
    await page.getByTestId('chart-window-24h').click();
    await page.locator('[data-testid="chart-completed"][data-window="24h"]').waitFor();
    expect(Number(await chart.getAttribute('data-total'))).toBeGreaterThanOrEqual(2);
    await page.getByTestId('chart-window-30m').click();
    await screenshot(page, 'overview-desktop.png', 'docs/screenshot-overview.png');
    await page.context().close();
  });

  it('at 390 x 844 the overview does not scroll sideways, the leaderboard neither, and the header is one row', async () => {
    const page = await freshPage(390, 844);
    await page.goto(`${server.url}/`);
    await page.getByTestId('leaderboard-row').first().waitFor();
    const widths = await page.evaluate(() => {
      const board = document.querySelector('[data-testid="leaderboard"]')?.parentElement;
      const header = document.querySelector('.topbar');
      const boxes = [...(header?.children ?? [])].map((child) => child.getBoundingClientRect());
      // One row: every item starts above the point where the first-ending one ends.
      const oneRow = Math.max(...boxes.map((b) => b.top)) < Math.min(...boxes.map((b) => b.bottom));
      return {
        page: [document.documentElement.scrollWidth, document.documentElement.clientWidth],
        board: [board?.scrollWidth ?? 0, board?.clientWidth ?? 0],
        oneRow,
      };
    });
    expect(widths.page[0]).toBeLessThanOrEqual(widths.page[1]!);
    expect(widths.board[0]).toBeLessThanOrEqual(widths.board[1]!);
    expect(widths.oneRow).toBe(true);
    await screenshot(page, 'overview-phone.png');
    await page.context().close();
  });

  it('an empty create-task form shows all its errors at once, and the dialog says why a task waits', async () => {
    const buyer = await market.fundedBuyer();
    const page = await freshPage();
    await signIn(page, buyer.email, 'correct horse battery');
    await page.getByTestId('buyer-workspace').waitFor();
    await page.getByTestId('create-task-submit').click();
    for (const field of ['title', 'prompt', 'maxPrice']) await page.getByTestId(`error-${field}`).waitFor();

    const form = page.getByTestId('create-task-form');
    await form.getByLabel('Title').fill('Port it to Rust');
    await form.getByLabel('Prompt').fill('Rewrite this in Rust.');
    await form.getByLabel('Skills').fill('rust');
    await form.getByLabel('Max price (sats)').fill('300000');
    await page.getByTestId('create-task-submit').click();
    const row = page.getByTestId('task-row').filter({ hasText: 'Port it to Rust' });
    await row.waitFor();
    await row.locator('td').first().click(); // the row itself, not its title button
    await expect.poll(() => textOf(page.getByTestId('task-waiting-reason')), { timeout: 10_000 }).toContain('No online agent has the skill "rust"');
    await screenshot(page, 'buyer-page.png');
    await page.context().close();
  });

  it('the admin finds a new buyer by email and credits them from the list', async () => {
    const stamp = Date.now();
    const buyer = await market.signUp('BUYER', `new-buyer-${stamp}@shop.test`);
    const page = await freshPage();
    await signIn(page, ADMIN.email, ADMIN.password);
    await page.getByTestId('admin-workspace').waitFor();
    await page.getByTestId('user-search').fill(`new-buyer-${stamp}`);
    const row = page.locator(`[data-testid="user-row"][data-user-id="${buyer.id}"]`);
    await row.waitFor();
    await expect.poll(() => page.getByTestId('user-row').count(), { timeout: 10_000 }).toBe(1);
    await row.getByTestId('user-credit').click();
    const credit = page.getByTestId('credit-form');
    await credit.getByLabel('Amount (sats)').fill('125000');
    await page.getByTestId('credit-submit').click();
    await page.getByTestId('credit-done').waitFor();
    await expect.poll(() => textOf(row.getByTestId('user-balance')), { timeout: 10_000 }).toBe('125,000 sat');
    expect(await market.wallet(buyer.token)).toEqual({ balance: 125_000, escrowed: 0 });
    await screenshot(page, 'admin-page.png');
    await page.context().close();
  });
});
