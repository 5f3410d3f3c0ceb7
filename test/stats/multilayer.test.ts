/**
 * Several feature layers in one statistics pass, on the sample workspace (samples/street, 64 training images):
 * each layer's file must equal a separate single-layer run of computeStatistics, while the model runs once per
 * image. Outputs go to a temporary folder, never into the sample.
 */
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadConfig, withOverrides, type HeatConfig } from '../../src/core/config';
import { CancelledError, HeatError } from '../../src/core/errors';
import { computeStatistics, computeStatisticsForLayers, mergeStatisticsFiles, readStatistics, type StatisticsReport } from '../../src/core/stats';
import type { ClassStatistics } from '../../src/core/stats/types';
import { maxRelativeError } from './reference';

const SAMPLE = path.resolve(__dirname, '..', '..', 'samples', 'street');
const LAYERS = ['layer2', 'layer3'];

/** Largest |a − b| over all entries. */
function maxAbsoluteError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

/** Asserts two statistics files agree: means, counts and max-logit moments to 1e-9, covariances and precisions to 1e-6 relative. */
function assertSameStatistics(actual: ClassStatistics, expected: ClassStatistics, label: string): void {
  assert.equal(actual.dim, expected.dim, `${label} dim`);
  assert.equal(actual.classCount, expected.classCount, `${label} classes`);
  assert.deepEqual(actual.emptyClasses, expected.emptyClasses, `${label} empty classes`);
  assert.ok(maxAbsoluteError(actual.counts, expected.counts) <= 1e-9, `${label} counts`);
  assert.ok(maxAbsoluteError(actual.means, expected.means) <= 1e-9, `${label} means`);
  assert.ok(maxAbsoluteError(actual.maxLogit!.mean, expected.maxLogit!.mean) <= 1e-9, `${label} max-logit means`);
  assert.ok(maxAbsoluteError(actual.maxLogit!.std, expected.maxLogit!.std) <= 1e-9, `${label} max-logit stds`);
  for (const key of ['tiedCovariance', 'tiedPrecision', 'classCovariances', 'classPrecisions'] as const) {
    assert.ok(expected[key], `${label} single-layer file has ${key}`);
    assert.ok(maxRelativeError(actual[key]!, expected[key]!) <= 1e-6, `${label} ${key}: ${maxRelativeError(actual[key]!, expected[key]!)}`);
  }
  for (const key of ['featureTensor', 'dim', 'modelSha256', 'classNames', 'labelMapping', 'preprocessing', 'imageCount', 'classwise', 'split'] as const) {
    assert.deepEqual(actual.metadata[key], expected.metadata[key], `${label} metadata ${key}`);
  }
}

describe('stats: several layers in one pass (sample workspace)', function () {
  this.timeout(60_000);
  let dir: string;
  let config: HeatConfig;
  let reports: StatisticsReport[];
  let progressCalls: number[];

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'heat-stats-layers-'));
    // The sample's sweep grid lists class-wise covariances, so every file finalises them and the test compares them too.
    config = withOverrides(await loadConfig(undefined, SAMPLE), { 'heat.statistics.path': path.join(dir, 'statistics.safetensors') });
    progressCalls = [];
    reports = await computeStatisticsForLayers(config, LAYERS.map((layer) => ({ layer, out: path.join(dir, `multi.${layer}.safetensors`) })), {
      progress: { report: (done) => progressCalls.push(done) },
    });
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('layer2 + layer3: equal to separate single-layer runs', async () => {
    assert.deepEqual(reports.map((r) => r.out), LAYERS.map((layer) => path.join(dir, `multi.${layer}.safetensors`)));
    for (const [i, layer] of LAYERS.entries()) {
      const out = path.join(dir, `single.${layer}.safetensors`);
      const single = await computeStatistics(withOverrides(config, { 'heat.model.featureLayer': layer }), { out });
      assert.equal(reports[i].featureTensor, single.featureTensor, layer);
      assert.equal(reports[i].dim, single.dim, layer);
      assert.deepEqual(reports[i].cells, single.cells, `${layer} cell tally (purity per feature grid)`);
      assert.deepEqual(reports[i].counts, single.counts, layer);
      assertSameStatistics(await readStatistics(reports[i].out), await readStatistics(out), layer);
    }
    // The layers have their own grids and widths, so the files really differ.
    assert.notEqual(reports[0].dim, reports[1].dim);
  });

  it('one forward pass per training image', () => {
    assert.equal(reports[0].images, 64);
    for (const report of reports) assert.equal(report.forwardPasses, 64);
    // Progress: 0 at the start, then once per image, for the single pass.
    assert.deepEqual(progressCalls, Array.from({ length: 65 }, (_, k) => k));
  });

  it('shards per layer merge to the one-pass files', async () => {
    for (const i of [0, 1]) {
      const shards = await computeStatisticsForLayers(config, LAYERS.map((layer) => ({ layer, out: path.join(dir, `shard${i}.${layer}.safetensors`) })), { shard: [i, 2] });
      assert.deepEqual(shards.map((s) => [s.kind, s.shard, s.forwardPasses]), [['partial', `${i}/2`, 32], ['partial', `${i}/2`, 32]]);
    }
    for (const [i, layer] of LAYERS.entries()) {
      const merged = path.join(dir, `merged.${layer}.safetensors`);
      await mergeStatisticsFiles([0, 1].map((s) => path.join(dir, `shard${s}.${layer}.safetensors`)), merged);
      assertSameStatistics(await readStatistics(merged), await readStatistics(reports[i].out), `merged ${layer}`);
    }
  });

  it('per-layer class-wise flag', async () => {
    const tied = withOverrides(config, { 'heat.statistics.covariance': 'tied', 'heat.sweep.grid': {} });
    const [a, b] = await computeStatisticsForLayers(tied, [
      { layer: 'layer2', out: path.join(dir, 'flag.layer2.safetensors'), classwise: true },
      { layer: 'layer3', out: path.join(dir, 'flag.layer3.safetensors') },
    ]);
    assert.ok((await readStatistics(a.out)).classPrecisions, 'layer2 asked for class-wise covariances');
    assert.equal((await readStatistics(b.out)).classPrecisions, undefined, 'layer3 follows the tied setting');
  });

  it('aborted pass: CancelledError, no file for any layer', async () => {
    const sub = path.join(dir, 'aborted');
    mkdirSync(sub);
    const controller = new AbortController();
    const progress = { report: (done: number) => { if (done === 3) controller.abort(); } };
    await assert.rejects(computeStatisticsForLayers(config, LAYERS.map((layer) => ({ layer, out: path.join(sub, `${layer}.safetensors`) })), { signal: controller.signal, progress }),
      CancelledError);
    assert.deepEqual(readdirSync(sub), []);
  });

  it('bad input: unknown layer, shared file, no layers', async () => {
    const out = (name: string) => path.join(dir, 'bad', name);
    await assert.rejects(computeStatisticsForLayers(config, [{ layer: 'layer2', out: out('a') }, { layer: 'layer9', out: out('b') }]), /Feature layer "layer9"/);
    await assert.rejects(computeStatisticsForLayers(config, [{ layer: 'layer2', out: out('a') }, { layer: 'layer3', out: out('a') }]),
      (e: unknown) => e instanceof HeatError && /Two feature layers would write their statistics to .*a\./.test(e.message));
    await assert.rejects(computeStatisticsForLayers(config, []), /at least one layer/);
    assert.equal(existsSync(path.join(dir, 'bad')), false);
  });
});
