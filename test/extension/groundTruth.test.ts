import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, copyFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ScoredImage } from '../../src/core/api';
import { makeConfig } from '../../src/core/config';
import { memoryLogger } from '../../src/core/log';
import { attachGroundTruth } from '../../src/engine/groundTruth';

const SAMPLE = path.resolve(__dirname, '..', '..', 'samples', 'street');

describe('viewer ground truth', () => {
  it('unlistable split does not hide others', async () => {
    // A training split without label files, as prediction-labelled statistics use, beside a labelled test split.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'heat-gt-'));
    mkdirSync(path.join(dir, 'train'));
    copyFileSync(path.join(SAMPLE, 'train', 'images', 'train_000.png'), path.join(dir, 'train', 'a.png'));
    const config = makeConfig({
      'heat.labels.anomaly': [13], 'heat.labels.ignore': [255],
      'heat.data.train.images': 'train/*.png', 'heat.data.train.labels': 'train/{stem}.labels.png',
      'heat.data.test.images': path.join(SAMPLE, 'test', 'images', '*.png'), 'heat.data.test.labels': path.join(SAMPLE, 'test', 'labels', '{stem}.png'),
    }, dir);
    const image = path.join(SAMPLE, 'test', 'images', 'test_000.png');
    const scored = { image, maps: { heat: { width: 64, height: 32, data: new Float32Array(64 * 32) } } } as unknown as ScoredImage;
    const log = memoryLogger();
    await attachGroundTruth(config, [scored], log);
    assert.ok(scored.groundTruth, `no ground truth attached; log: ${log.lines.join(' | ')}`);
    assert.equal(scored.groundTruth.length, 64 * 32);
    assert.ok(scored.groundTruth.some((v) => v === 1), 'test_000 has anomaly pixels');
  });
});
