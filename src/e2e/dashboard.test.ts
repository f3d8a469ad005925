/**
 * The dashboard in a real browser against the real server: live overview, the buyer's whole path through
 * the UI, a malicious prompt, and a server restart while the page is open.
 *
 * SQLite only, unlike the other e2e files (test-database.ts): the page reads everything through the same
 * GraphQL queries and subscriptions those files already run on both databases, so a second browser run
 * would test the database layer again at the price of the slowest file of the suite, not the UI.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  browserUnavailable,
  ensureDashboardBuilt,
  gateWebSockets,
  launchBrowser,
  screenshot,
  textOf,
  watchConsole,
} from './dashboard-browser.ts';
import { startServer, waitFor, type TestServer } from './harness.ts';
import { listenForAssignments } from './live-clients.ts';

const CREATE_TASK = `mutation ($input: CreateTaskInput!) {
  createTask(input: $input) { __typename ... on Task { id status } ... on Error { message } }
}`;
const TASK_STATUS = `query ($id: ID!) { task(id: $id) { status } }`;
const XSS = '<img src=x onerror="window.__pwned=1">';

describe.skipIf(browserUnavailable())('dashboard in a browser', () => {
  let server: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let problems: string[] = [];

  /** The buyer signed up through the UI in the second test, used again by the later ones. */
  const buyer = { email: `browser-buyer-${Date.now()}@aicp.test`, password: 'correct horse battery', id: '', token: '' };

  async function createTaskViaApi(token: string, title: string, prompt = 'Write one sentence about the sea.'): Promise<string> {
    const res = await server.gql(CREATE_TASK, { input: { title, prompt, maxPrice: 2_000_000 } }, token);
    const payload = res.data?.createTask;
    if (payload?.__typename !== 'Task') throw new Error(`createTask failed: ${JSON.stringify(res)}`);
    return payload.id as string;
  }

  async function completed(id: string, token: string): Promise<void> {
    await waitFor(async () => (await server.gql(TASK_STATUS, { id }, token)).data?.task?.status === 'COMPLETED', 20_000, `task ${id} COMPLETED`);
  }

  beforeAll(async () => {
    ensureDashboardBuilt();
    server = await startServer();
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
    page = await context.newPage();
    problems = watchConsole(page);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (problems.length) console.warn(`[dashboard tests] browser console:\n${problems.join('\n')}`);
  });

  it('serves the dashboard with a strict CSP and updates the overview live when a task is created through the API', async () => {
    const response = await page.goto(`${server.url}/`);
    expect(response?.status()).toBe(200);
    const csp = response?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');

    const total = page.getByTestId('stat-total-tasks');
    await page.locator('[data-testid="connection-status"][data-status="live"]').waitFor();
    await waitFor(async () => /^\d+$/.test(await textOf(total)), 10_000, 'the first stats');
    const before = Number(await textOf(total));
    await page.evaluate(() => Object.assign(window, { __sameDocument: true }));

    const someone = await server.signUp('BUYER');
    await server.credit(someone.id, 10_000_000);
    const ids: string[] = [];
    for (const title of ['Summarise a paper', 'Name a boat', 'Translate a haiku']) ids.push(await createTaskViaApi(someone.token, title));

    await waitFor(async () => Number(await textOf(total)) === before + 3, 10_000, 'total tasks to grow by 3 without a reload');
    for (const id of ids) await completed(id, someone.token);
    await waitFor(async () => (await textOf(page.getByTestId('stat-status-COMPLETED'))).endsWith('3'), 10_000, 'the completed count');
    await waitFor(async () => Number(await page.getByTestId('chart-completed').getAttribute('data-total')) === 3, 10_000, 'the chart to show 3');
    expect(await textOf(page.getByTestId('stat-total-paid'))).not.toBe('0 sat');
    expect(await page.evaluate(() => (window as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
    expect(await page.getByTestId('leaderboard-row').count()).toBeGreaterThanOrEqual(3);
    await page.getByTestId('health-status').waitFor();

    await screenshot(page, 'overview.png', 'docs/screenshot-overview.png');
  });

  it('lets a buyer sign up, get credited, post a task from the form and watch it complete', async () => {
    await page.goto(`${server.url}/#/signin`);
    await page.getByTestId('tab-signup').click();
    await page.getByLabel('Email').fill(buyer.email);
    await page.getByLabel('Password').fill(buyer.password);
    await page.getByLabel(/Buy work/).check();
    await page.getByTestId('auth-submit').click();
    await page.getByTestId('buyer-workspace').waitFor();

    buyer.id = await textOf(page.getByTestId('account-id'));
    buyer.token = await page.evaluate(() => (JSON.parse(localStorage.getItem('aicp.session') ?? '{}') as { token?: string }).token ?? '');
    expect(buyer.token).not.toBe('');
    await server.credit(buyer.id, 5_000_000);
    // No reload or focus needed: accountUpdated brings the new balance to the open page.
    await waitFor(async () => (await textOf(page.getByTestId('buyer-balance'))) === '5,000,000 sat', 10_000, 'the credited balance');

    const form = page.getByTestId('create-task-form');
    await form.getByLabel('Title').fill('Explain escrow');
    await form.getByLabel('Prompt').fill('Explain escrow to a ten-year-old in two sentences.');
    await form.getByLabel('Max price (sats)').fill('1000000');
    await page.getByTestId('quote-price').waitFor(); // the live quote names an agent and a price
    expect(await textOf(page.getByTestId('quote-agent'))).not.toBe('');
    await page.getByTestId('create-task-submit').dblclick(); // one idempotency key: one task, one charge

    const row = page.getByTestId('task-row').filter({ hasText: 'Explain escrow' });
    await row.and(page.locator('[data-status="COMPLETED"]')).waitFor({ timeout: 20_000 });
    expect(await row.count()).toBe(1);
    const taskId = (await row.getAttribute('data-task-id')) ?? '';
    const price = Number((await server.gql(`query ($id: ID!) { task(id: $id) { price } }`, { id: taskId }, buyer.token)).data?.task?.price);
    const balance = `${(5_000_000 - price).toLocaleString('en-US')} sat`;
    await waitFor(async () => (await textOf(page.getByTestId('buyer-balance'))) === balance, 10_000, `the balance to become ${balance}`);
    expect(await textOf(page.getByTestId('buyer-escrow'))).toBe('0 sat');

    await row.getByRole('button', { name: 'Explain escrow' }).click();
    const dialog = page.getByRole('dialog', { name: 'Explain escrow' });
    await dialog.getByTestId('task-result').waitFor();
    expect(await textOf(dialog.getByTestId('task-result'))).not.toBe('');
    expect(await textOf(dialog.getByTestId('task-agent'))).not.toBe('—');
    const timeline = await dialog.getByTestId('timeline-item').evaluateAll((items) => items.map((i) => i.getAttribute('data-status')));
    expect(timeline).toEqual(expect.arrayContaining(['PENDING', 'ASSIGNED', 'PROCESSING', 'COMPLETED']));
    await screenshot(page, 'task-dialog.png');

    // Keyboard: Esc closes the dialog and focus goes back to the task that opened it.
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Explain escrow');
  });

  it('shows a malicious prompt as text and runs nothing', async () => {
    const form = page.getByTestId('create-task-form');
    await form.getByLabel('Title').fill(`XSS ${XSS}`);
    await form.getByLabel('Prompt').fill(`${XSS}<script>window.__pwned=2</script>`);
    await page.getByTestId('create-task-submit').click();

    const row = page.getByTestId('task-row').filter({ hasText: 'XSS <img' });
    await row.and(page.locator('[data-status="COMPLETED"]')).waitFor({ timeout: 20_000 });
    await row.getByRole('button').click();
    const dialog = page.getByTestId('task-dialog');
    await dialog.getByTestId('task-result').waitFor();

    expect(await textOf(dialog.getByTestId('task-prompt'))).toBe(`${XSS}<script>window.__pwned=2</script>`);
    expect(await textOf(dialog.getByTestId('task-dialog-title'))).toBe(`XSS ${XSS}`);
    expect(await page.locator('main img, dialog img, main script').count()).toBe(0);
    await page.waitForTimeout(300); // an injected <img src=x> would have failed to load by now
    expect(await page.evaluate(() => (window as { __pwned?: unknown }).__pwned)).toBeUndefined();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
  });

  it('sends a user whose token is expired or rejected back to sign-in, saying why', async () => {
    for (const [token, expiresAt] of [
      ['not-a-token-the-server-accepts', new Date(Date.now() + 3_600_000).toISOString()],
      [buyer.token, new Date(Date.now() - 1000).toISOString()],
    ] as const) {
      const other = await browser.newContext();
      const session = JSON.stringify({ token, expiresAt, userId: buyer.id, email: buyer.email, role: 'BUYER' });
      await other.addInitScript((value) => {
        if (!sessionStorage.getItem('seeded')) {
          sessionStorage.setItem('seeded', '1');
          localStorage.setItem('aicp.session', value);
        }
      }, session);
      const tab = await other.newPage();
      await tab.goto(`${server.url}/#/workspace`);
      await tab.getByTestId('auth-notice').waitFor();
      expect(await textOf(tab.getByTestId('auth-notice'))).toMatch(/expired|rejected/);
      expect(tab.url()).toContain('#/signin');
      expect(await tab.evaluate(() => localStorage.getItem('aicp.session'))).toBeNull();
      await other.close();
    }
  });

  it('lets an operator register an EXTERNAL agent, answer its task, and pause it', async () => {
    const operator = await server.signUp('AGENT');
    const other = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const tab = await other.newPage();
    problems.push(...watchConsole(tab));
    await tab.goto(`${server.url}/#/signin`);
    await tab.getByLabel('Email').fill(operator.email);
    await tab.getByLabel('Password').fill('correct horse battery');
    await tab.getByTestId('auth-submit').click();
    await tab.getByTestId('operator-workspace').waitFor();

    const skill = `browser-skill-${Date.now()}`;
    const form = tab.getByTestId('register-agent-form');
    await form.getByLabel('Name', { exact: true }).fill(`browser-agent-${Date.now()}`);
    await form.getByLabel('Mode', { exact: true }).selectOption('EXTERNAL');
    await form.getByLabel('Skills').fill(skill);
    // Priced above every other test's maxPrice, so it never takes (and sits on) their tasks.
    await form.getByLabel('Ask per unit (sats)').fill('3000000');
    await tab.getByTestId('register-agent-submit').click();
    await tab.getByTestId('agent-row').waitFor();
    // The agent's own program listens for its work (here, this test), so it is connected and offered
    // tasks; the operator answers this one by hand in the dashboard.
    const agentId = (await server.gql('{ me { agents { id } } }', {}, operator.token)).data?.me.agents[0].id as string;
    const program = listenForAssignments(server, agentId, operator.token);

    const client = await server.signUp('BUYER');
    await server.credit(client.id, 50_000_000);
    const input = { title: 'Needs the external agent', prompt: 'Say hi.', skills: [skill], complexity: 1, maxPrice: 40_000_000 };
    const res = await server.gql(CREATE_TASK, { input }, client.token);
    expect(res.data?.createTask?.__typename).toBe('Task');
    const row = tab.getByTestId('task-row').filter({ hasText: 'Needs the external agent' });
    await row.and(tab.locator('[data-status="PROCESSING"]')).waitFor({ timeout: 15_000 });
    await row.getByRole('button').click();
    const answer = tab.getByTestId('submit-result-form');
    await answer.getByRole('textbox', { name: 'Result' }).fill('Hi from outside.');
    await answer.getByRole('button', { name: 'Submit result' }).click();
    await tab.getByTestId('task-dialog').getByTestId('task-result').filter({ hasText: 'Hi from outside.' }).waitFor();
    await tab.keyboard.press('Escape');
    await row.and(tab.locator('[data-status="COMPLETED"]')).waitFor();
    await waitFor(async () => (await textOf(tab.getByTestId('agent-row').locator('td').nth(4))).startsWith('1 /'), 10_000, 'one task done');

    await tab.getByTestId('agent-toggle').click();
    await tab.getByTestId('agent-status').filter({ hasText: 'PAUSED' }).waitFor();
    await program.close();
    await other.close();
  });

  it('reconnects after a server restart and shows the events that happened while it was away', async () => {
    // A fresh page with a gate on its WebSocket, so it stays away until the events have happened.
    const away = await context.newPage();
    problems.push(...watchConsole(away));
    const gate = await gateWebSockets(away);
    await away.goto(`${server.url}/#/workspace`);
    await away.getByTestId('buyer-workspace').waitFor();
    await away.locator('[data-testid="connection-status"][data-status="live"]').waitFor();
    await away.getByTestId('task-row').filter({ hasText: 'Explain escrow' }).waitFor();

    gate.block();
    await server.restart(); // stop and start again: same database file, same port
    await away.locator('[data-testid="connection-status"][data-status="reconnecting"]').waitFor();

    const id = await createTaskViaApi(buyer.token, 'Written while you were away');
    await completed(id, buyer.token);
    expect(await away.locator(`[data-testid="feed-item"][data-task-id="${id}"]`).count()).toBe(0);

    gate.release();
    await away.locator('[data-testid="connection-status"][data-status="live"]').waitFor({ timeout: 20_000 });
    const events = away.locator(`[data-testid="feed-item"][data-task-id="${id}"]`);
    await events.and(away.locator('[data-status="COMPLETED"]')).waitFor({ timeout: 10_000 });
    const replayed = await events.evaluateAll((items) => items.map((i) => [i.getAttribute('data-status'), i.getAttribute('data-sequence')]));
    expect(replayed.map(([status]) => status)).toEqual(expect.arrayContaining(['PENDING', 'ASSIGNED', 'PROCESSING', 'COMPLETED']));
    expect(new Set(replayed.map(([, sequence]) => sequence)).size).toBe(replayed.length); // no duplicates
    await away.getByTestId('task-row').filter({ hasText: 'Written while you were away' }).and(away.locator('[data-status="COMPLETED"]')).waitFor();
    await screenshot(away, 'after-restart.png');
    await away.close();
  });
});
