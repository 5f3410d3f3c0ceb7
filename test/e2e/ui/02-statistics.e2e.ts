// Compute Class Statistics from the palette: cancelled from its progress notification it leaves no file;
// run to the end it writes the statistics the viewer's Mahalanobis map needs.
import * as assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { applyEdits, modify } from 'jsonc-parser';
import { env, feature, logErrorsSince, logMark, logSince, runFromPalette, screenshot, waitForLog, workbench, workspaceFiles } from './workbench';

const TITLE = 'HEAT: Compute Class Statistics';

const COPIES = 12;

/** Sets keys in the workspace's .vscode/settings.json, keeping its comments; returns the old text. */
function editSettings(values: Record<string, unknown>): string {
  const file = path.join(env.workspace, '.vscode', 'settings.json');
  const old = readFileSync(file, 'utf8');
  let text = old;
  for (const [key, value] of Object.entries(values)) text = applyEdits(text, modify(text, [key], value, { formattingOptions: { insertSpaces: true, tabSize: 2 } }));
  writeFileSync(file, text);
  return old;
}

/**
 * The sample's 64 training scenes take about a second, too short to cancel by hand: a training set of
 * COPIES copies of them keeps the job running long enough to press Cancel on its notification.
 */
function makeLargeTrainingSet(): string {
  const dir = path.join(env.workspace, 'train-large');
  for (const kind of ['images', 'labels']) {
    mkdirSync(path.join(dir, kind), { recursive: true });
    for (const name of readdirSync(path.join(env.workspace, 'train', kind))) {
      for (let i = 0; i < COPIES; i++) copyFileSync(path.join(env.workspace, 'train', kind, name), path.join(dir, kind, `c${i}_${name}`));
    }
  }
  return dir;
}

describe('class statistics from the palette', () => {
  let restoreSettings: string | undefined;
  let largeSet: string | undefined;

  after(() => {
    if (restoreSettings !== undefined) writeFileSync(path.join(env.workspace, '.vscode', 'settings.json'), restoreSettings);
    if (largeSet) rmSync(largeSet, { recursive: true, force: true });
  });

  feature('cancelling from the progress notification stops the job and leaves no file', async () => {
    const { page } = await workbench();
    largeSet = makeLargeTrainingSet();
    restoreSettings = editSettings({ 'heat.data.train.images': 'train-large/images/*.png', 'heat.data.train.labels': 'train-large/labels/{stem}.png' });
    await page.waitForTimeout(1500);
    const before = new Set(workspaceFiles());
    const mark = logMark();
    await runFromPalette(page, TITLE);
    await waitForLog(page, mark, /Compute Class Statistics: started/, 30_000);
    // headless, the window may not have focus and VS Code then keeps progress out of the toasts:
    // the notification centre lists it either way
    const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'Compute Class Statistics' }).first();
    if (!(await toast.isVisible().catch(() => false))) await runFromPalette(page, 'Notifications: Show Notifications');
    const item = page.locator('.notification-list-item', { hasText: 'Compute Class Statistics' }).first();
    await item.waitFor({ timeout: 30_000 });
    await item.hover();
    await item.locator('.monaco-button', { hasText: /^Cancel$/ }).first().click({ timeout: 10_000 });
    await waitForLog(page, mark, /Compute Class Statistics: cancel/i, 30_000);
    await waitForLog(page, mark, /Compute Class Statistics: (cancelled|finished)/, 60_000);

    const log = logSince(mark);
    assert.ok(!/Compute Class Statistics: finished/.test(log), 'the job finished before the cancel reached it');
    await page.waitForTimeout(1000);
    const added = workspaceFiles().filter((f) => !before.has(f));
    assert.deepEqual(added, [], 'cancelled statistics left files behind');
    assert.deepEqual(logErrorsSince(mark), []);
  });

  feature('running to the end writes the statistics file', async () => {
    const { page } = await workbench();
    if (restoreSettings !== undefined) {
      writeFileSync(path.join(env.workspace, '.vscode', 'settings.json'), restoreSettings);
      restoreSettings = undefined;
      await page.waitForTimeout(1500);
    }
    const mark = logMark();
    await runFromPalette(page, TITLE);
    await waitForLog(page, mark, /Compute Class Statistics: (finished|cancelled)/, 300_000);
    assert.deepEqual(logErrorsSince(mark), []);
    // the sample's heat.statistics.path
    const file = path.join(env.workspace, 'statistics.safetensors');
    assert.ok(existsSync(file), `no statistics file at ${file}`);
    await screenshot(page, 'ui-02-statistics');
  });
});
