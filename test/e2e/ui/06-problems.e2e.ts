// Run Validation Checklist from the palette: the Problems panel then counts exactly the diagnostics the
// extension placed (settings keys, the checklist fixture and, when copied, the guide).
import * as assert from 'node:assert/strict';
import { feature, logErrorsSince, logMark, logSince, problemCounts, runFromPalette, screenshot, waitForLog, workbench } from './workbench';

describe('Problems panel', () => {
  feature('counts the checklist diagnostics the extension placed', async () => {
    const { page } = await workbench();
    const mark = logMark();
    await runFromPalette(page, 'HEAT: Run Validation Checklist');
    const summary = await waitForLog(page, mark, /Checklist: \d+ passed, \d+ warnings, \d+ failed/, 300_000);
    // placement follows the results; a settings change before them may have logged a placement of older results
    const placedAfterSummary = () => {
      const text = logSince(mark);
      return text.slice(text.indexOf(summary)).match(/^.*Placed \d+ checklist diagnostics in \d+ files.*$/m)?.[0];
    };
    let placed = placedAfterSummary();
    for (let i = 0; i < 120 && !placed; i++) {
      await page.waitForTimeout(500);
      placed = placedAfterSummary();
    }
    assert.ok(placed, 'no placement was logged after the checklist results');
    assert.deepEqual(logErrorsSince(mark), []);
    const total = Number(placed.match(/Placed (\d+)/)![1]);
    const [, passed, warnings, failed] = summary.match(/Checklist: (\d+) passed, (\d+) warnings, (\d+) failed/)!.map(Number);
    console.log(`      ${summary.replace(/^.*Checklist/, 'Checklist')} / ${placed.replace(/^.*Placed/, 'Placed')}`);
    assert.ok(total > 0, 'no diagnostics were placed');

    await runFromPalette(page, 'View: Focus Problems');
    const badge = page.locator('.part.panel .composite-bar .action-item', { hasText: /problems/i }).locator('.badge-content').first();
    const readBadge = async () => Number((await badge.innerText({ timeout: 10_000 }).catch(() => '')).trim() || 'NaN');
    let shown = await readBadge();
    for (let i = 0; i < 20 && shown !== total; i++) {
      await page.waitForTimeout(500);
      shown = await readBadge();
    }
    const status = await problemCounts(page);
    console.log(`      Problems badge ${shown}; status bar "${status.label}"`);
    assert.equal(shown, total, 'the Problems panel badge counts every placed diagnostic');
    assert.equal(status.errors + status.warnings + status.infos, total, 'the status bar adds up to the placed diagnostics');
    assert.equal(status.errors > 0, failed > 0, 'errors shown exactly when checks failed');
    assert.equal(status.warnings > 0, warnings > 0, 'warnings shown exactly when checks warned');
    assert.ok(passed + warnings + failed > 0);
    await screenshot(page, 'ui-06-problems');
  });
});
