// Headless Debian Chromium driven by playwright-core, kept on loopback: every request to a host other than
// 127.0.0.1/localhost is aborted and recorded, and the tests fail when the record is not empty.
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BrowserContext, Page, chromium } from 'playwright-core';

export const CHROMIUM = process.env.HEAT_E2E_CHROMIUM ?? '/usr/bin/chromium';

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
const LOCAL_SCHEMES = new Set(['data:', 'blob:', 'about:', 'chrome-extension:', 'vscode-webview:', 'vscode-resource:']);

export function isLoopback(url: string): boolean {
  try {
    const u = new URL(url);
    return LOCAL_SCHEMES.has(u.protocol) || LOCAL_HOSTS.has(u.hostname);
  } catch {
    return false;
  }
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** URLs the page tried to reach beyond loopback (all were aborted) */
  offLoopback: string[];
  /** console messages and page errors, for the artifacts */
  consoleLines: string[];
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<Browser> {
  // Playwright rejects --user-data-dir in args: a fresh profile goes through launchPersistentContext
  const profile = mkdtempSync(path.join(os.tmpdir(), 'heat-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1600, height: 1000 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const offLoopback: string[] = [];
  const consoleLines: string[] = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (isLoopback(url)) return route.continue();
    offLoopback.push(url);
    return route.abort('blockedbyclient');
  });
  // VS Code's webview resources use virtual https://*.vscode-resource.vscode-cdn.net URLs that its service
  // worker answers from the server on loopback: no network. Anything else off loopback that still
  // completed went around the route and is recorded too.
  context.on('requestfinished', async (request) => {
    if (isLoopback(request.url())) return;
    const response = await request.response().catch(() => null);
    if (!response?.fromServiceWorker() && !offLoopback.includes(request.url())) offLoopback.push(request.url());
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => consoleLines.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => consoleLines.push(`[pageerror] ${e.message}`));
  return {
    context,
    page,
    offLoopback,
    consoleLines,
    close: async () => {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
