/**
 * Money on screen, in a real browser against the real server: the buyer's balance, escrow and wallet
 * history follow an admin's credit and a task's escrow and payout the moment they happen (accountUpdated),
 * without a reload, a focus event or a poll; the operator sees their agent's payout in its wallet.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserAccount, browserUnavailable, ensureDashboardBuilt, launchBrowser, screenshot, signedInPage, textOf } from './dashboard-browser.ts';
import { ADMIN, startServer, type TestServer, waitFor } from './harness.ts';
import { type LiveStream, listenForAssignments } from './live-clients.ts';
import { marketOps, type MarketOps } from './market-ops.ts';

type Account = { token: string; id: string; email: string };

describe.skipIf(browserUnavailable())('live wallet in the dashboard', () => {
  let server: TestServer;
  let ops: MarketOps;
  let browser: Browser;
  const problems: string[] = [];
  const listeners: LiveStream<unknown>[] = [];

  const signedIn = (account: Account, role: BrowserAccount['role']): Promise<Page> => signedInPage(browser, server.url, { ...account, role }, problems);

  beforeAll(async () => {
    ensureDashboardBuilt();
    server = await startServer({ SEED_AGENTS: 'false' });
    ops = marketOps(server.gql);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await Promise.all(listeners.map((l) => l.close()));
    await browser?.close();
    await server?.stop();
    if (problems.length) console.warn(`[dashboard wallet tests] browser console:\n${problems.join('\n')}`);
  });

  it("shows a buyer the admin's credit, a task's escrow and its payout the moment they happen, with the wallet history", async () => {
    const buyer = await ops.signUp('BUYER');
    const operator = await ops.signUp('AGENT');
    const skill = `wallet-skill-${Date.now()}`;
    const agent = await ops.registerAgent(operator.token, { name: `wallet-browser-agent-${Date.now()}`, mode: 'EXTERNAL', skills: [skill], askPerUnit: 40_000 });
    // Its program listens for work (here, this test): only a connected EXTERNAL agent is offered tasks.
    listeners.push(listenForAssignments(server, agent.id, operator.token));

    const page = await signedIn(buyer, 'BUYER');
    await page.getByTestId('buyer-workspace').waitFor();
    await waitFor(async () => (await textOf(page.getByTestId('buyer-balance'))) === '0 sat', 10_000, 'the first balance');
    await page.evaluate(() => Object.assign(window, { __sameDocument: true }));

    // The admin credits the buyer from the admin page, in another browser.
    const adminToken = await server.adminToken();
    const adminId = (await server.gql('{ me { id } }', {}, adminToken)).data?.me.id as string;
    const admin = await signedIn({ token: adminToken, id: adminId, email: ADMIN.email }, 'ADMIN');
    const credit = admin.getByTestId('credit-form');
    await credit.getByLabel('User ID').fill(buyer.id);
    await credit.getByLabel('Amount (sats)').fill('250000');
    await admin.getByTestId('credit-submit').click();
    await admin.getByTestId('credit-done').waitFor();
    // The admin sees the credit in that user's wallet history too.
    await admin.getByTestId('wallet-card').getByTestId('wallet-row').first().waitFor();
    expect(await textOf(admin.getByTestId('wallet-card').getByTestId('wallet-amount').first())).toBe('+250,000 sat');
    await screenshot(admin, 'wallet-admin.png');

    // No reload, no focus event, no poll: the buyer's open page moves by itself.
    await waitFor(async () => (await textOf(page.getByTestId('buyer-balance'))) === '250,000 sat', 10_000, 'the credited balance on the open page');
    const history = page.getByTestId('wallet-card');
    await history.locator('[data-testid="wallet-row"][data-kind="CREDIT"]').waitFor();
    expect(await textOf(history.getByTestId('wallet-balance-after').first())).toBe('250,000 sat');

    // A task: its escrow shows at once, then its payout and refund when the operator answers.
    const taskId = await ops.createTask(buyer.token, { title: 'Paid on screen', skills: [skill], maxPrice: 100_000 });
    await waitFor(async () => (await textOf(page.getByTestId('buyer-escrow'))) === '100,000 sat', 10_000, 'the escrow on screen');
    expect(await textOf(page.getByTestId('buyer-balance'))).toBe('150,000 sat');
    const { price } = await ops.waitForTask(buyer.token, taskId, (t) => t.status === 'PROCESSING', 15_000, 'assignment');
    expect(price).toBe(40_000);
    await ops.submitResult(operator.token, taskId, { result: 'Done, and paid.' });
    await waitFor(async () => (await textOf(page.getByTestId('buyer-escrow'))) === '0 sat', 10_000, 'the escrow released');
    await waitFor(async () => (await textOf(page.getByTestId('buyer-balance'))) === '210,000 sat', 10_000, 'the refund of the unused maximum');
    await history.locator('[data-testid="wallet-row"][data-kind="REFUND"]').waitFor();
    const kinds = await history.getByTestId('wallet-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-kind')));
    expect(kinds).toEqual(['REFUND', 'ESCROW', 'CREDIT']);
    expect(await textOf(history.getByTestId('wallet-balance-after').first())).toBe('210,000 sat');
    expect(await page.evaluate(() => (window as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
    await screenshot(page, 'wallet-buyer.png');
    await screenshot(history, 'wallet-buyer-history.png');

    // The operator's page shows the agent's wallet with the payout.
    const operatorPage = await signedIn(operator, 'AGENT');
    const wallet = operatorPage.getByTestId('wallet-card');
    await wallet.locator('[data-testid="wallet-row"][data-kind="PAYOUT"]').waitFor();
    expect(await textOf(wallet.getByTestId('wallet-amount').first())).toBe('+40,000 sat');
    expect(await operatorPage.getByTestId('wallet-select').inputValue()).toBe(agent.id);
    await screenshot(wallet, 'wallet-operator-history.png');
  });
});
