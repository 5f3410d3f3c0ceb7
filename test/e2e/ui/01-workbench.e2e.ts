// The installed VSIX in the workbench: the sample workspace opens and HEAT's commands reach the palette.
import * as assert from 'node:assert/strict';
import { manifest, screenshot, workbench } from './workbench';

interface PaletteMenu { command: string; when?: string }

describe('workbench', () => {
  it('opens the sample workspace with its splits in the explorer', async () => {
    const { page } = await workbench();
    for (const split of ['train', 'val', 'test']) {
      await page.locator('.explorer-folders-view .monaco-list-row[aria-level="1"]', { hasText: split }).first().waitFor({ timeout: 30_000 });
    }
    await screenshot(page, 'ui-01-workbench');
  });

  it('lists every HEAT command in the command palette', async () => {
    const { page } = await workbench();
    const contributes = manifest().contributes as { commands?: { command: string; title: string; category?: string }[]; menus?: { commandPalette?: PaletteMenu[] } } | undefined;
    const hidden = new Set((contributes?.menus?.commandPalette ?? []).filter((m) => m.when === 'false').map((m) => m.command));
    const titles = (contributes?.commands ?? []).filter((c) => !hidden.has(c.command)).map((c) => `${c.category ?? ''}: ${c.title}`);
    const missing: string[] = [];
    for (const title of titles) {
      await page.keyboard.press('F1');
      const input = page.locator('.quick-input-widget input');
      await input.fill(`>${title}`);
      const found = await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first()
        .waitFor({ timeout: 8000 }).then(() => true, () => false);
      await page.keyboard.press('Escape');
      if (!found) missing.push(title);
    }
    assert.deepEqual(missing, []);
  });
});
