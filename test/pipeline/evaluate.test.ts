import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeConfig, withOverrides } from '../../src/core/config';
import { CancelledError } from '../../src/core/errors';
import { memoryLogger } from '../../src/core/log';
import { evaluate } from '../../src/core/pipeline/evaluate';

const SAMPLE = path.resolve(__dirname, '..', '..', 'samples', 'street');

/** Builds the sample configuration without statistics, on three test images and no validation split (a run takes a second). */
function sampleConfig(): ReturnType<typeof makeConfig> {
  return makeConfig({
    'heat.model.path': path.join(SAMPLE, 'model.onnx'),
    'heat.model.inputSize': [128, 256],
    'heat.labels.anomaly': [13],
    'heat.labels.ignore': [255],
    'heat.data.test.images': 'test/images/test_00[0-2].png',
    'heat.data.test.labels': 'test/labels/{stem}.png',
  }, SAMPLE);
}

describe('evaluate output folder', () => {
  let dir: string;
  before(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'heat-eval-')); });

  it('cancel leaves no saved scores', async () => {
    const out = path.join(dir, 'cancelled');
    const controller = new AbortController();
    // Progress is reported before each image, so aborting at 2 stops after two of three images have saved scores.
    const progress = { report: (done: number) => { if (done === 2) controller.abort(); } };
    await assert.rejects(evaluate(sampleConfig(), { outDir: out, saveScores: true, signal: controller.signal, progress }),
      (e: Error) => e instanceof CancelledError);
    const left = existsSync(out) ? readdirSync(out) : [];
    assert.deepEqual(left, [], `left behind: ${left.join(', ')}`);
  });

  it('saved scores appear when it finishes', async () => {
    const out = path.join(dir, 'finished');
    await evaluate(sampleConfig(), { outDir: out, saveScores: true });
    const scores = readdirSync(path.join(out, 'scores')).sort();
    assert.deepEqual(scores, ['test_000.heat.npy', 'test_000.label.npy', 'test_001.heat.npy', 'test_001.label.npy', 'test_002.heat.npy', 'test_002.label.npy']);
    assert.deepEqual(readdirSync(out).filter((f) => f.includes('.tmp-')), []);
  });

  it('stale plots are removed', async () => {
    const out = path.join(dir, 'reused');
    mkdirSync(path.join(out, 'plots'), { recursive: true });
    writeFileSync(path.join(out, 'plots', 'histogram-mahalanobis.svg'), '<svg/>');
    const result = await evaluate(sampleConfig(), { outDir: out });
    const plots = readdirSync(path.join(out, 'plots')).sort();
    assert.ok(!plots.includes('histogram-mahalanobis.svg'), `plots: ${plots.join(', ')}`);
    assert.deepEqual(plots, (result.files?.plots ?? []).map((f) => path.basename(f)).sort());
  });

  it('val split: no false warning', async () => {
    const config = withOverrides(sampleConfig(), {
      'heat.data.val.images': path.join(SAMPLE, 'val/images/val_00[0-2].png'), 'heat.data.val.labels': path.join(SAMPLE, 'val/labels/{stem}.png'),
    });
    const log = memoryLogger();
    const out = path.join(dir, 'val');
    await evaluate(config, { outDir: out, split: 'val', log });
    assert.deepEqual(log.lines.filter((l) => /No validation split is configured/.test(l)), []);
    assert.ok(log.lines.some((l) => /validation split is the split evaluated/.test(l)), log.lines.join('\n'));
    assert.match(readFileSync(path.join(out, 'report.md'), 'utf8'), /The validation split is the split evaluated here, so no threshold is reported/);
  });
});
