import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { makeConfig } from '../../src/core/config';
import { checkSplitLabels } from '../../src/core/data/check';
import { labelMappingFromConfig } from '../../src/core/data/labels';
import { listSplit } from '../../src/core/data/splits';
import { memoryLogger } from '../../src/core/log';
import { REAL_DIR, tempDir, writeGreyPng, writeImage } from './helpers';

describe('split label check', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir: root, cleanup } = await tempDir('heat-check-')));
  afterEach(async () => cleanup());

  async function split(labels: Record<string, { size: [number, number]; values: number[] }>): Promise<void> {
    for (const [name, { size, values }] of Object.entries(labels)) {
      await writeImage(path.join(root, 'images', `${name}.png`), 3, 2);
      await writeGreyPng(path.join(root, 'labels', `${name}.png`), size[0], size[1], values);
    }
  }

  it('every bad file reported in one error', async () => {
    await split({
      a: { size: [3, 2], values: [0, 0, 1, 1, 2, 2] },
      b: { size: [2, 2], values: [0, 0, 0, 0] },
      c: { size: [3, 2], values: [0, 9, 9, 0, 0, 0] },
    });
    const config = makeConfig({ 'heat.data.test.images': 'images/*.png', 'heat.data.test.labels': 'labels/{stem}.png', 'heat.labels.anomaly': [2] }, root);
    const samples = await listSplit(config, 'test');
    await assert.rejects(checkSplitLabels(samples, labelMappingFromConfig(config, 2)), (error: Error) => {
      assert.match(error.message, /^2 of 3 label files failed the check\. First: Label file .*b\.png is 2x2 but its image .*b\.png is 3x2/);
      assert.match(error.message, /Also failed: .*c\.png\./);
      return true;
    });
  });

  it('summary logged; remapped void values warned with counts', async () => {
    await split({ a: { size: [3, 2], values: [0, 7, 7, 1, 2, 255] } });
    const config = makeConfig({ 'heat.data.test.images': 'images/*.png', 'heat.data.test.labels': 'labels/{stem}.png',
      'heat.labels.anomaly': [2], 'heat.labels.map': { 7: 255 } }, root);
    const log = memoryLogger();
    const audit = await checkSplitLabels(await listSplit(config, 'test'), labelMappingFromConfig(config, 2), { log, expectAnomaly: true });
    assert.equal(audit.total.ignored, 3);
    assert.deepEqual(log.lines, [
      'info: 1 label files: 2 known, 1 anomaly, 3 void pixels.',
      'warn: Label value 7 was left out as void (mapped to 255 by heat.labels.map): 2 pixels in 1 of 1 label files.',
    ]);
  });

  it('camvid train on real data: preset void 11 is not warned about', async function () {
    if (!(await fs.access(REAL_DIR).then(() => true, () => false))) {
      console.log(`    skipped: ${REAL_DIR} is absent`);
      this.skip();
    }
    const config = makeConfig({ 'heat.data.preset': 'camvid', 'heat.data.train.images': path.join(REAL_DIR, 'camvid/train') }, '/');
    const log = memoryLogger();
    const audit = await checkSplitLabels(await listSplit(config, 'train'), labelMappingFromConfig(config), { log });
    assert.equal(audit.files, 60);
    assert.equal(log.lines.length, 1);
    assert.match(log.lines[0], /^info: 60 label files: \d+ known, 0 anomaly, \d+ void pixels\.$/);
  });
});
