// A sweep from the palette over the sample's grid: the table fills, the best row is marked, and "Apply"
// writes that row's values to .vscode/settings.json.
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'jsonc-parser';
import { env, feature, findWebview, logErrorsSince, logMark, pickQuickItem, runFromPalette, screenshot, waitForLog, workbench } from './workbench';

/** The setting each grid key varies (the sweep panel's Apply writes these). */
const GRID_SETTINGS: Record<string, string> = {
  temperature: 'heat.score.temperature', alpha: 'heat.score.alpha', kernelSize: 'heat.score.kernelSize',
  covariance: 'heat.statistics.covariance', featureLayer: 'heat.model.featureLayer', spatialMethod: 'heat.score.spatialMethod',
  padding: 'heat.score.padding', combination: 'heat.score.combination', normalization: 'heat.score.normalization',
};

const settingsFile = () => path.join(env.workspace, '.vscode', 'settings.json');
const readSettings = () => parse(readFileSync(settingsFile(), 'utf8')) as Record<string, unknown>;

describe('sweep panel', () => {
  feature('Run Sweep fills the table, marks the best row, and Apply writes its values to the settings', async () => {
    const { page } = await workbench();
    const grid = readSettings()['heat.sweep.grid'] as Record<string, unknown[]>;
    const expectedRows = Object.values(grid).reduce((n, values) => n * values.length, 1);
    const mark = logMark();
    await runFromPalette(page, 'HEAT: Run Sweep');
    const sweep = await findWebview(page, '#sweep-state', 60_000);
    await waitForLog(page, mark, /Run Sweep: (finished|cancelled)/, 900_000);
    assert.deepEqual(logErrorsSince(mark), []);
    await sweep.locator('#sweep-state', { hasText: 'finished' }).waitFor({ timeout: 30_000 });
    assert.equal(await sweep.locator('#sweep-table tbody tr[data-row]').count(), expectedRows, 'one row per grid configuration');

    const best = sweep.locator('#sweep-table tbody tr.best');
    assert.equal(await best.count(), 1, 'exactly one best row');
    const headers = (await sweep.locator('#sweep-table thead th').allInnerTexts()).map((t) => t.replace(/[▲▼]/g, '').trim());
    const cells = await best.locator('td').allInnerTexts();
    const chosen: Record<string, unknown> = {};
    // Cells show strings without JSON quotes (classwise) and other values as JSON (1.5, ["energy","spatial"]).
    const cellValue = (text: string): unknown => { try { return JSON.parse(text); } catch { return text; } };
    for (const key of Object.keys(grid)) chosen[key] = cellValue(cells[headers.indexOf(key)]);
    await screenshot(page, 'ui-05-sweep');

    await best.locator('[data-apply]').click();
    const end = Date.now() + 20_000;
    let settings = readSettings();
    const mismatched = () => Object.entries(chosen).filter(([k, v]) => JSON.stringify(settings[GRID_SETTINGS[k]]) !== JSON.stringify(v));
    while (mismatched().length > 0 && Date.now() < end) {
      await page.waitForTimeout(500);
      settings = readSettings();
    }
    assert.deepEqual(mismatched().map(([k, v]) => `${GRID_SETTINGS[k]}: have ${JSON.stringify(settings[GRID_SETTINGS[k]])}, applied ${JSON.stringify(v)}`), []);
  });

  feature('Apply on a layer ablation row also points heat.statistics.path at that layer\'s statistics', async () => {
    const { page } = await workbench();
    const before = readFileSync(settingsFile(), 'utf8');
    try {
      const mark = logMark();
      await runFromPalette(page, 'HEAT: Run Ablation');
      await pickQuickItem(page, /^layers/);
      const table = await findWebview(page, 'h1:has-text("Ablation: layers")', 120_000);
      await waitForLog(page, mark, /Ablation: layers: (finished|cancelled)/, 900_000);
      assert.deepEqual(logErrorsSince(mark), []);
      await table.locator('#sweep-state', { hasText: 'finished' }).waitFor({ timeout: 30_000 });
      // layer2 is not the configured layer, so its statistics come from a file of its own.
      const row = table.locator('#sweep-table tbody tr[data-row]', { hasText: 'layer2' }).first();
      await row.locator('[data-apply]').click();
      const end = Date.now() + 20_000;
      let settings = readSettings();
      while ((settings['heat.model.featureLayer'] !== 'layer2' || typeof settings['heat.statistics.path'] !== 'string' || !/layer2/.test(settings['heat.statistics.path'] as string)) && Date.now() < end) {
        await page.waitForTimeout(500);
        settings = readSettings();
      }
      assert.equal(settings['heat.model.featureLayer'], 'layer2');
      const statistics = settings['heat.statistics.path'] as string;
      assert.match(statistics, /layer2/, `heat.statistics.path is ${statistics}`);
      assert.ok(existsSync(path.resolve(env.workspace, statistics)), `no statistics file at ${statistics}`);
    } finally {
      // Later tests expect the sample's own layer and statistics.
      writeFileSync(settingsFile(), before);
      await page.waitForTimeout(1500);
    }
  });
});
