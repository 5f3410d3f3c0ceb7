// Compute Class Statistics from the palette: cancelled from its progress notification it leaves no file;
// run to the end it writes the statistics the viewer's Mahalanobis map needs.
import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { env, heatLogText, logErrorsSince, runFromPalette, screenshot, waitForLog, workbench, workspaceFiles } from './workbench';

const TITLE = 'HEAT: Compute Class Statistics';

describe('class statistics from the palette', () => {
  it('cancelling from the progress notification stops the job and leaves no file', async () => {
    const { page } = await workbench();
    const before = new Set(workspaceFiles());
    const mark = heatLogText().length;
    await runFromPalette(page, TITLE);
    const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'Compute Class Statistics' }).first();
    await toast.waitFor({ timeout: 60_000 });
    await toast.hover();
    const cancel = toast.locator('.monaco-button', { hasText: /^Cancel$/ }).first();
    await cancel.click({ timeout: 10_000 });
    await waitForLog(page, mark, /Compute Class Statistics: cancel/i, 30_000);
    await waitForLog(page, mark, /Compute Class Statistics: (cancelled|finished)/, 60_000);

    const log = heatLogText().slice(mark);
    assert.ok(!/Compute Class Statistics: finished/.test(log), 'the job finished before the cancel reached it');
    await page.waitForTimeout(1000);
    const added = workspaceFiles().filter((f) => !before.has(f));
    assert.deepEqual(added, [], 'cancelled statistics left files behind');
    assert.deepEqual(logErrorsSince(mark), []);
  });

  it('running to the end writes the statistics file', async () => {
    const { page } = await workbench();
    const mark = heatLogText().length;
    await runFromPalette(page, TITLE);
    await waitForLog(page, mark, /Compute Class Statistics: (finished|cancelled)/, 300_000);
    assert.deepEqual(logErrorsSince(mark), []);
    // the sample's heat.statistics.path
    const file = path.join(env.workspace, 'statistics.safetensors');
    assert.ok(existsSync(file), `no statistics file at ${file}`);
    await screenshot(page, 'ui-02-statistics');
  });
});
