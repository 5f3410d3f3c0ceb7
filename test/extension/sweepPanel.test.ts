import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { SETTINGS } from '../../src/core/config';
import { GRID_SETTINGS } from '../../src/core/sweep';

/** Reads GRID_KEY_SETTINGS from sweepPanel.ts as text, since that file imports vscode. */
function panelMapping(): Record<string, string> {
  const source = readFileSync(path.join(__dirname, '..', '..', 'src', 'extension', 'sweepPanel.ts'), 'utf8');
  const body = /GRID_KEY_SETTINGS: Record<string, string> = \{([^}]*)\}/.exec(source)?.[1] ?? '';
  return Object.fromEntries([...body.matchAll(/(\w+): '([\w.]+)'/g)].map((m) => [m[1], m[2]]));
}

describe('sweep panel apply mapping', () => {
  it('grid keys: same settings as the core sweep grid', () => {
    assert.deepEqual(panelMapping(), GRID_SETTINGS);
  });

  it('grid keys: every target is a known setting', () => {
    const keys = new Set(SETTINGS.map((s) => s.key));
    for (const setting of Object.values(panelMapping())) assert.ok(keys.has(setting), setting);
  });
});
