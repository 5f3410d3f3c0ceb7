// The HEAT side panel: its "Latest Image" view shows the image the viewer suite just scored.
import * as assert from 'node:assert/strict';
import { feature, findWebview, screenshot, workbench } from './workbench';

describe('side panel', () => {
  feature('shows the latest scored image with its weights bar', async () => {
    const { page } = await workbench();
    const icon = page.locator('.activitybar .action-item .action-label[aria-label^="HEAT"]').first();
    await icon.waitFor({ timeout: 30_000 });
    // the icon toggles the side bar: open it only when HEAT's container is not already shown
    if ((await page.locator('.sidebar .composite.title', { hasText: 'HEAT' }).count()) === 0) await icon.click();
    const view = await findWebview(page, '#latest-name', 60_000);
    const name = (await view.locator('#latest-name').innerText()).trim();
    const scored = (await page.locator('.tab', { hasText: /^HEAT: .*\.png/ }).first().innerText()).replace(/^HEAT: /, '').trim();
    assert.ok(scored.length > 0, 'no viewer tab to compare with');
    assert.ok(name.endsWith(scored.split(/\s/)[0]), `side panel shows "${name}", the viewer "${scored}"`);
    assert.equal(await view.locator('#weights-bar [data-weight]').count(), 3, 'the weights bar needs three components');
    assert.ok(await view.locator('#latest-heat').isVisible(), 'no HEAT thumbnail');
    await screenshot(page, 'ui-04-side-panel');
  });
});
