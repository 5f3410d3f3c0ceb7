import { strict as assert } from 'node:assert';
import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeConfig, withOverrides } from '../../src/core/config';
import { SessionCache } from '../../src/engine/handlers';

describe('engine session cache key', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'heat-session-key-'));
  const statistics = path.join(dir, 'statistics.safetensors');
  writeFileSync(statistics, 'first');
  const config = makeConfig({ 'heat.statistics.path': statistics }, dir);

  it('fingerprint: display and checklist settings keep the session', async () => {
    const before = await SessionCache.fingerprint(config);
    const after = await SessionCache.fingerprint(withOverrides(config, { 'heat.viewer.colorMap': 'turbo', 'heat.checklist.showPassed': false }));
    assert.equal(after, before);
  });

  it('fingerprint: a scoring setting opens a new session', async () => {
    const before = await SessionCache.fingerprint(config);
    const after = await SessionCache.fingerprint(withOverrides(config, { 'heat.score.temperature': 2 }));
    assert.notEqual(after, before);
  });

  it('fingerprint: a rewritten statistics file opens a new session', async () => {
    const before = await SessionCache.fingerprint(config);
    utimesSync(statistics, new Date(2030, 0, 1), new Date(2030, 0, 1));
    const after = await SessionCache.fingerprint(config);
    assert.notEqual(after, before);
  });
});
