// Open Sample Workspace copies the bundled sample to a folder picked in VS Code's own folder dialog and
// reopens the window on the copy. It runs last among the feature suites because the window reloads.
import * as assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runFromPalette, screenshot, workbench } from './workbench';

describe('sample workspace', () => {
  it('Open Sample Workspace copies the sample into the picked folder and opens it', async () => {
    const { page } = await workbench();
    // inside the run's temporary folder, which run.sh removes
    const parent = mkdtempSync(path.join(process.env.HEAT_E2E_STATE ?? os.tmpdir(), 'sample-parent-'));
    await runFromPalette(page, 'HEAT: Open Sample Workspace');
    const input = page.locator('.quick-input-widget input').first();
    await input.waitFor({ timeout: 30_000 });
    // the dialog fills in its starting folder a moment after it opens: type only after that, or it overwrites us
    await page.waitForFunction((el) => (el as HTMLInputElement).value.length > 0, await input.elementHandle(), { timeout: 15_000 });
    for (let attempt = 0; attempt < 6 && (await input.inputValue()) !== `${parent}/`; attempt++) {
      await page.waitForTimeout(700);
      await input.fill(`${parent}/`);
      await page.waitForTimeout(700);
    }
    assert.equal(await input.inputValue(), `${parent}/`, 'the folder dialog kept replacing the typed path');
    await page.keyboard.press('Enter');
    const copy = path.join(parent, 'heat-sample');
    const reopened = (url: URL) => decodeURIComponent(url.toString()).includes(copy);
    // Enter on a folder path usually accepts it; when the dialog only moved into the folder, press its button
    const moved = await page.waitForURL(reopened, { timeout: 8_000 }).then(() => true, () => false);
    if (!moved) {
      await page.locator('.quick-input-widget .monaco-button', { hasText: 'Copy Sample Here' }).first().click({ timeout: 10_000 });
    }

    const end = Date.now() + 60_000;
    while (!existsSync(path.join(copy, '.vscode', 'settings.json')) && Date.now() < end) await page.waitForTimeout(500);
    assert.ok(existsSync(path.join(copy, 'model.onnx')), `the sample was not copied to ${copy}`);
    assert.ok(existsSync(path.join(copy, '.vscode', 'settings.json')), 'the copy lacks its settings');
    assert.ok(!existsSync(path.join(copy, 'tools')) && !existsSync(path.join(parent, 'tools')), 'the sample tools were copied');

    await page.waitForURL(reopened, { timeout: 60_000 });
    await page.locator('.explorer-folders-view .monaco-list-row[aria-level="1"]', { hasText: 'train' }).first().waitFor({ timeout: 60_000 });
    await screenshot(page, 'ui-07-sample-workspace');
  });
});
