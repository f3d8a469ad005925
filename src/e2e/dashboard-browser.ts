/**
 * Browser plumbing for the dashboard tests: Debian's Chromium driven by playwright-core, the built
 * dashboard, and a place for screenshots.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';

const root = fileURLToPath(new URL('../..', import.meta.url));
export const artifactsDir = join(root, 'test-artifacts');

/** Where the browser is: Debian's package (installed by .ci/run), or CHROMIUM_PATH. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const inCi = process.env.CI === 'true';

/**
 * Without a browser the tests skip locally (saying why) but fail in CI, where a missing browser means
 * the dashboard went untested.
 */
export function browserUnavailable(): boolean {
  if (existsSync(chromiumPath)) return false;
  if (inCi) return false; // let launch() fail loudly
  console.warn(`[dashboard tests] skipped: no Chromium at ${chromiumPath} (apt-get install -y chromium, or set CHROMIUM_PATH)`);
  return true;
}

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(chromiumPath)) {
    throw new Error(`CI=true and no Chromium at ${chromiumPath}: the dashboard browser tests cannot run`);
  }
  return chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

/** The server serves web/dist: build it if missing or stale (same step as `npm start`). */
export function ensureDashboardBuilt(): void {
  const result = spawnSync(process.execPath, [join(root, 'scripts', 'ensure-web.mjs')], { cwd: root, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`dashboard build failed:\n${result.stdout}\n${result.stderr}`);
}

/** Writes test-artifacts/<name>; with `copyTo`, also that path (when missing, or UPDATE_SCREENSHOTS=1). */
export async function screenshot(target: Page | Locator, name: string, copyTo?: string): Promise<string> {
  mkdirSync(artifactsDir, { recursive: true });
  const file = join(artifactsDir, name);
  await target.screenshot({ path: file, animations: 'disabled' });
  const destination = copyTo ? join(root, copyTo) : undefined;
  // The committed copy (docs/) is refreshed only on request, so a test run leaves the work tree clean.
  if (destination && (!existsSync(destination) || process.env.UPDATE_SCREENSHOTS === '1')) {
    mkdirSync(dirname(destination), { recursive: true });
    copyFileSync(file, destination);
  }
  return file;
}

/** Who a signed-in tab belongs to: what the sign-in page would have stored in the session. */
export interface BrowserAccount {
  token: string;
  id: string;
  email: string;
  role: 'BUYER' | 'AGENT' | 'ADMIN';
}

/**
 * A new tab already signed in as `account` on the workspace page, once its WebSocket is live; what it logs
 * as errors goes into `problems`.
 */
export async function signedInPage(browser: Browser, baseUrl: string, account: BrowserAccount, problems: string[], viewport = { width: 1280, height: 900 }): Promise<Page> {
  const context = await browser.newContext({ viewport, colorScheme: 'light' });
  const { token, id, email, role } = account;
  const session = JSON.stringify({ token, expiresAt: new Date(Date.now() + 3_600_000).toISOString(), userId: id, email, role });
  await context.addInitScript((value) => {
    if (!localStorage.getItem('aicp.session')) localStorage.setItem('aicp.session', value);
  }, session);
  const page = await context.newPage();
  problems.push(...watchConsole(page));
  await page.goto(`${baseUrl}/#/workspace`);
  await page.locator('[data-testid="connection-status"][data-status="live"]').waitFor();
  return page;
}

/** Collects what the page logs as errors, to show when a test fails. */
export function watchConsole(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console.error: ${message.text()}`);
  });
  return problems;
}

/** Holds new WebSocket connections of a page closed while `blocked` is true; others pass through. */
export async function gateWebSockets(page: Page): Promise<{ block(): void; release(): void }> {
  let blocked = false;
  await page.routeWebSocket(/\/graphql$/, (ws) => {
    if (blocked) ws.close({ code: 1013, reason: 'held by the test' });
    else ws.connectToServer();
  });
  return {
    block: () => void (blocked = true),
    release: () => void (blocked = false),
  };
}

export async function textOf(locator: Locator): Promise<string> {
  return (await locator.textContent())?.trim() ?? '';
}
