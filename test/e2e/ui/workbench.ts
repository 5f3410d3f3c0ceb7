// Driving code-server's workbench in Chromium: one browser for the whole UI suite, the palette, explorer
// context menus, webview frames and the Problems count. Selectors are VS Code's own DOM classes.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { FrameLocator, Locator, Page } from 'playwright-core';
import { Browser, launchBrowser } from '../browser';

export const env = {
  url: process.env.HEAT_E2E_URL ?? '',
  workspace: process.env.HEAT_E2E_WORKSPACE ?? '',
  extension: process.env.HEAT_E2E_EXTENSION ?? '',
  artifacts: process.env.HEAT_E2E_ARTIFACTS ?? path.resolve('e2e-artifacts'),
  /** code-server's logs folder, where the extension's log channel lands */
  logs: process.env.HEAT_E2E_LOGS ?? '',
};

let session: Browser | undefined;

/** The suite's browser, with the workbench open on the UI workspace. */
export async function workbench(): Promise<Browser> {
  if (session) return session;
  if (!env.url || !env.workspace) throw new Error('HEAT_E2E_URL and HEAT_E2E_WORKSPACE are not set; scripts/e2e/run.sh sets them.');
  session = await launchBrowser();
  await session.page.goto(`${env.url}/?folder=${encodeURIComponent(env.workspace)}`);
  await session.page.locator('.monaco-workbench').waitFor({ timeout: 90_000 });
  await session.page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: 90_000 });
  return session;
}

export async function closeWorkbench(): Promise<void> {
  await session?.close();
  session = undefined;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  const file = path.join(env.artifacts, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

interface Manifest {
  contributes?: {
    commands?: { command: string; title: string; category?: string }[];
    viewsContainers?: { activitybar?: { id: string; title: string }[] };
    views?: Record<string, { id: string; name: string; type?: string }[]>;
  };
}

/** The installed extension's package.json: UI tests for a feature wait until it is contributed. */
export function manifest(): Manifest {
  return JSON.parse(readFileSync(path.join(env.extension, 'package.json'), 'utf8')) as Manifest;
}

export function commandTitle(id: string): string | undefined {
  const command = manifest().contributes?.commands?.find((c) => c.command === id);
  return command ? `${command.category ? `${command.category}: ` : ''}${command.title}` : undefined;
}

/**
 * Runs a command from the palette by its full title. The palette snapshots the command list when it opens,
 * so a command registered a moment later is missing: close, wait and reopen.
 */
export async function runFromPalette(page: Page, title: string, attempts = 8): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor();
    await input.fill(`>${title}`);
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
    try {
      await row.waitFor({ timeout: 4000 });
      await page.keyboard.press('Enter');
      return;
    } catch (error) {
      await page.keyboard.press('Escape');
      if (attempt >= attempts) throw new Error(`"${title}" never showed in the command palette: ${(error as Error).message}`);
      await page.waitForTimeout(1500);
    }
  }
}

/** Picks a quick-pick item by its label text, for commands that ask. */
export async function pickQuickItem(page: Page, text: string | RegExp, timeout = 30_000): Promise<void> {
  const row = page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: text }).first();
  await row.waitFor({ timeout });
  await row.click();
}

/** The explorer row of a workspace-relative path, expanding its folders first. */
export async function explorerRow(page: Page, relativePath: string): Promise<Locator> {
  const parts = relativePath.split('/');
  for (let i = 0; i < parts.length; i++) {
    const row = page.locator(`.explorer-folders-view .monaco-list-row[aria-level="${i + 1}"]`, { hasText: parts[i] }).first();
    await row.waitFor({ timeout: 30_000 });
    const isFolder = i < parts.length - 1;
    if (isFolder && (await row.getAttribute('aria-expanded')) === 'false') await row.click();
    if (!isFolder) return row;
  }
  throw new Error(`empty path "${relativePath}"`);
}

/**
 * Right-clicks an explorer row and chooses a context-menu item. A plain click() on VS Code's menu can
 * leave it open (the menu acts on mouse-up after a hover): hover, pause, then press and release.
 */
export async function contextMenu(page: Page, row: Locator, item: string): Promise<void> {
  await row.click({ button: 'right' });
  const entry = page.locator('.context-view .monaco-menu .action-item', { hasText: item }).first();
  await entry.waitFor({ timeout: 15_000 });
  await entry.hover();
  await page.waitForTimeout(300);
  await page.mouse.down();
  await page.mouse.up();
}

/** Webview content frames: outer iframe.webview (VS Code's host page), inner #active-frame (the extension's HTML). */
export function webviewFrames(page: Page, count: number): FrameLocator[] {
  return Array.from({ length: count }, (_, i) => page.frameLocator('iframe.webview.ready').nth(i).frameLocator('#active-frame'));
}

/** The first webview frame in which `selector` exists, polling until `timeout`. */
export async function findWebview(page: Page, selector: string, timeout = 60_000): Promise<FrameLocator> {
  const end = Date.now() + timeout;
  for (;;) {
    const count = await page.locator('iframe.webview.ready').count();
    for (const frame of webviewFrames(page, count)) {
      if ((await frame.locator(selector).count().catch(() => 0)) > 0) return frame;
    }
    if (Date.now() > end) throw new Error(`no webview holds "${selector}" after ${timeout} ms (${count} webviews ready)`);
    await page.waitForTimeout(500);
  }
}

/** Errors and warnings shown by the Problems status-bar item, read from its accessible label. */
export async function problemCounts(page: Page): Promise<{ errors: number; warnings: number; infos: number; label: string }> {
  const item = page.locator('#status\\.problems');
  await item.waitFor({ timeout: 30_000 });
  const label = (await item.getAttribute('aria-label')) ?? (await item.innerText());
  // the label reads "Errors: 2, Warnings: 3, Infos: 5" (older builds: "2 errors, 3 warnings")
  const count = (word: string) => Number(label.match(new RegExp(`${word}s?:\\s*(\\d+)`, 'i'))?.[1] ?? label.match(new RegExp(`(\\d+)\\s+${word}s?`, 'i'))?.[1] ?? 0);
  return { errors: count('error'), warnings: count('warning'), infos: count('info'), label };
}

/** Text of the notifications currently shown (toasts), for error checks. */
export async function notifications(page: Page): Promise<string[]> {
  return page.locator('.notifications-toasts .notification-list-item-message').allInnerTexts();
}

/** The extension's log channel file ("HEAT Lens.log") under code-server's logs folder, newest first. */
function heatLogFile(dir = env.logs): string | undefined {
  const found: string[] = [];
  const walk = (d: string) => {
    let names: string[] = [];
    try { names = readdirSync(d); } catch { return; }
    for (const name of names) {
      const full = path.join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (/HEAT Lens\.log$/.test(name)) found.push(full);
    }
  };
  walk(dir);
  return found.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
}

export function heatLogText(): string {
  const file = heatLogFile();
  return file ? readFileSync(file, 'utf8') : '';
}

/** A position in the log: the file and its length. A window that activates the extension later starts a new file. */
export interface LogMark { file?: string; length: number }

export function logMark(): LogMark {
  const file = heatLogFile();
  return { file, length: file ? readFileSync(file, 'utf8').length : 0 };
}

/** What the extension logged after `mark`. */
export function logSince(mark: LogMark): string {
  const file = heatLogFile();
  if (!file) return '';
  const text = readFileSync(file, 'utf8');
  return file === mark.file ? text.slice(mark.length) : text;
}

/** An engine reply that the job's core module is not in this build yet; see feature(). */
export class FeatureMissing extends Error {}

/**
 * Waits for a log line written after `mark` that matches `pattern`. An error
 * logged meanwhile ends the wait at once: FeatureMissing when the engine lacks the job, a failure otherwise.
 */
export async function waitForLog(page: Page, mark: LogMark, pattern: RegExp, timeout = 120_000): Promise<string> {
  const end = Date.now() + timeout;
  for (;;) {
    const lines = logSince(mark).split('\n');
    const line = lines.find((l) => pattern.test(l));
    if (line) return line;
    const error = lines.find((l) => /\[error\]/.test(l));
    if (error && /is not available in this engine build/.test(error)) throw new FeatureMissing(error.replace(/^.*\[error\]\s*/, ''));
    if (error) throw new Error(`the extension logged an error while waiting for ${pattern}: ${error}`);
    if (Date.now() > end) throw new Error(`no log line matching ${pattern} within ${timeout} ms; last lines: ${logSince(mark).split('\n').slice(-5).join(' | ')}`);
    await page.waitForTimeout(300);
  }
}

/** Error lines the extension logged after `mark`. */
export function logErrorsSince(mark: LogMark): string[] {
  return logSince(mark).split('\n').filter((l) => /\[error\]/.test(l));
}

/** Files under the UI workspace, relative, leaving out .vscode (settings are expected to change). */
export function workspaceFiles(dir = env.workspace, prefix = ''): string[] {
  const files: string[] = [];
  for (const name of readdirSync(path.join(dir, prefix))) {
    const relative = prefix ? `${prefix}/${name}` : name;
    if (relative === '.vscode') continue;
    if (statSync(path.join(dir, relative)).isDirectory()) files.push(...workspaceFiles(dir, relative));
    else files.push(relative);
  }
  return files;
}

/** A UI test of an engine feature: skipped with a NOTE while the engine lacks the feature. */
export function feature(title: string, body: () => Promise<void>): Mocha.Test {
  return it(title, async function () {
    try {
      await body();
    } catch (error) {
      if (!(error instanceof FeatureMissing)) throw error;
      console.log(`      NOTE skipped, waiting for the engine: ${error.message}`);
      this.skip();
    }
  });
}
