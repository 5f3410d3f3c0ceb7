/**
 * The one-pass sweep on the sample workspace (samples/street, 10 of its 20 validation images): forward-pass
 * count, equality with separate single-configuration evaluations, the z-scored combinations against plain
 * loops, and cancellation. Statistics are computed into a temporary folder, never into the sample.
 */
import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { SweepRow } from '../../src/core/api';
import { loadConfig, withOverrides, type HeatConfig } from '../../src/core/config';
import { labelMappingFromConfig, listSplit, loadLabel } from '../../src/core/data';
import { CancelledError, HeatError } from '../../src/core/errors';
import { MetricAccumulator } from '../../src/core/eval/metrics';
import { ScoreNormalizer, type HeatComponent } from '../../src/core/heat';
import { resizeBilinear } from '../../src/core/pipeline/resize';
import { computeStatistics } from '../../src/core/stats/compute';
import { HeatSession } from '../../src/core/pipeline/session';
import { bestConfiguration, layerStatisticsPath, runAblation, runSweep, settingsSnippet, type SweepConfiguration, type SweepResult } from '../../src/core/sweep';

const SAMPLE = path.resolve(__dirname, '..', '..', 'samples', 'street');
const GRID_24 = { temperature: [0.5, 1, 2], kernelSize: [3, 5], covariance: ['tied', 'classwise'], featureLayer: ['layer2', 'layer3'] };

interface Metrics { aupr: number | null; auroc: number | null; fpr95: number | null }

/** Independent single-configuration evaluation: HeatSession with one variant, a normaliser and one accumulator. */
async function evaluateOne(config: HeatConfig, c: SweepConfiguration, score?: (maps: Map<string, Float32Array>) => Float32Array): Promise<Metrics> {
  const single = withOverrides(config, { ...settingsSnippet(c), 'heat.statistics.path': layerStatisticsPath(config, c.featureLayer) });
  const session = await HeatSession.open(single);
  try {
    const mapping = labelMappingFromConfig(single, session.classCount);
    const normalizer = new ScoreNormalizer({ mode: c.normalization, alpha: c.alpha, mean: 0, std: 1 });
    const acc = new MetricAccumulator('single');
    for (const sample of await listSplit(single, 'val', { requireLabels: true })) {
      const run = await session.runImage(sample.image);
      const label = await loadLabel(sample.label as string, mapping, { width: run.image.width, height: run.image.height });
      const heat = score ? score(run.maps) : run.maps.get('heat') as Float32Array;
      acc.add(resizeBilinear(normalizer.normalize(heat), run.height, run.width, label.height, label.width), label.anomaly);
    }
    const m = acc.finish().metrics.pooled;
    return { aupr: m.aupr.value, auroc: m.auroc.value, fpr95: m.fpr95.value };
  } finally {
    await session.release();
  }
}

function pooled(result: SweepResult, match: Partial<SweepConfiguration>): Metrics {
  const row = result.rows.find((r) => Object.entries(match).every(([k, v]) => JSON.stringify(r.configuration[k as keyof SweepConfiguration]) === JSON.stringify(v)));
  assert.ok(row, `no row matches ${JSON.stringify(match)}`);
  const m = row.metrics.pooled;
  return { aupr: m.aupr.value, auroc: m.auroc.value, fpr95: m.fpr95.value };
}

function assertClose(actual: Metrics, expected: Metrics, tolerance: number, label: string): void {
  for (const key of ['aupr', 'auroc', 'fpr95'] as const) {
    assert.ok(Math.abs((actual[key] as number) - (expected[key] as number)) <= tolerance, `${label} ${key}: ${actual[key]} vs ${expected[key]}`);
  }
}

describe('sweep: one pass on the sample workspace', function () {
  this.timeout(120_000);
  let dir: string;
  let config: HeatConfig;
  let sweep: SweepResult;

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'heat-sweep-'));
    const base = await loadConfig(undefined, SAMPLE);
    config = withOverrides(base, {
      'heat.statistics.path': path.join(dir, 'statistics.safetensors'),
      'heat.data.val.images': path.join(SAMPLE, 'val/images/val_00*.png'),
      'heat.data.val.labels': path.join(SAMPLE, 'val/labels/{stem}.png'),
    });
    sweep = await runSweep(config, GRID_24, { outDir: path.join(dir, 'grid24') });
  });

  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('24 configurations: forward passes = validation images', async () => {
    assert.equal(sweep.configurationCount, 24);
    assert.equal(sweep.rows.length, 24);
    assert.equal(sweep.images, 10);
    assert.equal(sweep.forwardPasses, 10);
    assert.equal(sweep.complete, true);
    const written = JSON.parse(await fs.readFile(path.join(dir, 'grid24', 'results.json'), 'utf8'));
    assert.equal(written.forwardPasses, 10);
    assert.equal(written.rows.length, 24);
    // Both layers' statistics were computed once, into the temporary folder.
    assert.deepEqual(sweep.statistics.map((s) => [s.layer, s.source]).sort(), [['layer2', 'computed'], ['layer3', 'computed']]);
  });

  it('missing statistics of two layers: one training pass', async () => {
    assert.equal(sweep.statisticsPasses, 1);
    assert.deepEqual(sweep.statistics.map((s) => [s.layer, s.pass]).sort(), [['layer2', 1], ['layer3', 1]]);
    for (const layer of ['layer2', 'layer3']) assert.ok((await fs.stat(layerStatisticsPath(config, layer))).isFile(), layer);
    const written = JSON.parse(await fs.readFile(path.join(dir, 'grid24', 'results.json'), 'utf8'));
    assert.equal(written.statisticsPasses, 1);
    assert.match(await fs.readFile(path.join(dir, 'grid24', 'report.md'), 'utf8'), /Passes over the training split for statistics: 1\./);
  });

  it('sweep rows equal separate single-configuration evaluations', async () => {
    for (const c of [
      { temperature: 2, kernelSize: 5, covariance: 'classwise', featureLayer: 'layer2' },
      { temperature: 0.5, kernelSize: 3, covariance: 'tied', featureLayer: 'layer3' },
    ] as const) {
      const configuration = sweep.rows.find((r) => r.configuration.temperature === c.temperature && r.configuration.kernelSize === c.kernelSize
        && r.configuration.covariance === c.covariance && r.configuration.featureLayer === c.featureLayer)!.configuration;
      assertClose(pooled(sweep, c), await evaluateOne(config, configuration), 1e-9, JSON.stringify(c));
    }
  });

  it('alpha and normalization: host-side rows equal single evaluations', async () => {
    const result = await runSweep(config, { alpha: [0, 0.99], normalization: ['adaptive', 'none'] });
    assert.equal(result.rows.length, 3, 'alpha is dropped for "none"');
    assert.equal(result.forwardPasses, 10);
    assert.equal(result.statisticsPasses, 0, 'the statistics of the first sweep are loaded');
    for (const row of result.rows) assertClose(pooled(result, row.configuration), await evaluateOne(config, row.configuration), 1e-9, row.label);
  });

  it('standardized and equal match a plain-loop combination', async () => {
    const result = await runSweep(config, { combination: ['standardized', 'equal'] });
    assert.equal(result.forwardPasses, 10);
    const base = result.rows[0].configuration;
    const components: HeatComponent[] = ['energy', 'mahalanobis', 'spatial'];

    // z constants: mean and unbiased std over known logits pixels (label pixel at the cell centre), one global two-pass loop.
    const values: Record<string, number[]> = { energy: [], mahalanobis: [], spatial: [] };
    const single = withOverrides(config, { ...settingsSnippet({ ...base, combination: 'reliability' }), 'heat.statistics.path': layerStatisticsPath(config, base.featureLayer) });
    const session = await HeatSession.open(single);
    const mapping = labelMappingFromConfig(single, session.classCount);
    const images: { maps: Map<string, Float32Array>; h: number; w: number; label: Awaited<ReturnType<typeof loadLabel>> }[] = [];
    for (const sample of await listSplit(single, 'val', { requireLabels: true })) {
      const run = await session.runImage(sample.image);
      const label = await loadLabel(sample.label as string, mapping, { width: run.image.width, height: run.image.height });
      images.push({ maps: run.maps, h: run.height, w: run.width, label });
      for (let y = 0; y < run.height; y++) {
        for (let x = 0; x < run.width; x++) {
          const ly = Math.min(label.height - 1, Math.floor(((y + 0.5) * label.height) / run.height));
          const lx = Math.min(label.width - 1, Math.floor(((x + 0.5) * label.width) / run.width));
          if (label.anomaly[ly * label.width + lx] !== 0) continue;
          for (const c of components) values[c].push((run.maps.get(c) as Float32Array)[y * run.width + x]);
        }
      }
    }
    await session.release();
    const z: Record<string, { mean: number; std: number }> = {};
    for (const c of components) {
      const v = values[c];
      let sum = 0;
      for (const x of v) sum += x;
      const mean = sum / v.length;
      let ss = 0;
      for (const x of v) ss += (x - mean) ** 2;
      z[c] = { mean, std: Math.sqrt(ss / (v.length - 1)) };
    }

    for (const mode of ['standardized', 'equal'] as const) {
      const row = result.rows.find((r) => r.configuration.combination === mode)!;
      for (const c of components) {
        assert.ok(Math.abs(row.standardization![c]!.mean - z[c].mean) <= 1e-9 * Math.max(1, Math.abs(z[c].mean)), `${mode} ${c} mean`);
        assert.ok(Math.abs(row.standardization![c]!.std - z[c].std) <= 1e-9 * z[c].std, `${mode} ${c} std`);
      }
      // HEAT = Σ w_c·(s_c − μ_c)/σ_c with reliability weights ('standardized') or 1/3 ('equal').
      const dominance = [0, 0, 0];
      const normalizer = new ScoreNormalizer({ mode: 'adaptive', alpha: base.alpha });
      const acc = new MetricAccumulator(mode);
      for (const { maps, h, w, label } of images) {
        const heat = new Float32Array(h * w);
        for (let i = 0; i < heat.length; i++) {
          let sum = 0;
          let best = 0;
          let bestMagnitude = -1;
          components.forEach((c, k) => {
            const weight = mode === 'equal' ? 1 / 3 : (maps.get(`weight_${c}`) as Float32Array)[i];
            const term = weight * (((maps.get(c) as Float32Array)[i] - z[c].mean) / z[c].std);
            sum += term;
            if (Math.abs(term) > bestMagnitude) { bestMagnitude = Math.abs(term); best = k; }
          });
          heat[i] = sum;
          dominance[best]++;
        }
        acc.add(resizeBilinear(normalizer.normalize(heat), h, w, label.height, label.width), label.anomaly);
      }
      const m = acc.finish().metrics.pooled;
      assertClose(pooled(result, { combination: mode }), { aupr: m.aupr.value, auroc: m.auroc.value, fpr95: m.fpr95.value }, 1e-6, mode);
      // A single session configured with this combination z-scores in the head with its own calibration pass.
      const headPath = await evaluateOne(config, row.configuration);
      assertClose(pooled(result, { combination: mode }), headPath, 1e-4, `${mode} via the head`);
      const total = dominance[0] + dominance[1] + dominance[2];
      components.forEach((c, k) => assert.ok(Math.abs((row.dominance[c] as number) - dominance[k] / total) <= 1e-6, `${mode} dominance ${c}`));

    }
  });

  it('cancellation keeps the finished rows', async () => {
    const controller = new AbortController();
    const seen: SweepRow[] = [];
    const outDir = path.join(dir, 'cancelled');
    await assert.rejects(runSweep(config, { temperature: [0.5, 1, 2], kernelSize: [3, 5] }, {
      outDir, signal: controller.signal, onRow: (row) => { seen.push(row); if (seen.length === 3) controller.abort(); },
    }), CancelledError);
    assert.equal(seen.length, 3);
    const written = JSON.parse(await fs.readFile(path.join(outDir, 'results.json'), 'utf8'));
    assert.equal(written.rows.length, 3);
    assert.equal(written.cancelled, true);
    assert.equal(written.complete, false);
    // Streamed rows carry the varied keys; the file keeps each whole configuration.
    assert.deepEqual(seen.map((r) => Object.keys(r.config)), [['temperature', 'kernelSize'], ['temperature', 'kernelSize'], ['temperature', 'kernelSize']]);
    assert.deepEqual(written.rows.map((r: { configuration: { temperature: number; kernelSize: number } }) => [r.configuration.temperature, r.configuration.kernelSize]),
      seen.map((r) => [r.config.temperature, r.config.kernelSize]));
    assert.match(await fs.readFile(path.join(outDir, 'results.csv'), 'utf8'), /^rank,label,temperature/);
  });

  it('cancel during images keeps earlier files', async () => {
    const outDir = path.join(dir, 'rerun');
    const grid = { temperature: [0.5, 1] };
    await runSweep(config, grid, { outDir });
    const before = await fs.readFile(path.join(outDir, 'results.json'), 'utf8');
    const controller = new AbortController();
    // Progress comes before each image; every configuration advances per image, so none has finished at image 2.
    const progress = { report: (done: number) => { if (done === 2) controller.abort(); } };
    await assert.rejects(runSweep(config, grid, { outDir, signal: controller.signal, progress }), CancelledError);
    assert.equal(await fs.readFile(path.join(outDir, 'results.json'), 'utf8'), before, 'the earlier results were overwritten');
  });

  it('components ablation: seven subsets, one pass', async () => {
    const result = await runAblation(config, 'components');
    assert.equal(result.rows.length, 7);
    assert.equal(result.forwardPasses, 10);
    // A single component dominates every pixel of its own configuration.
    for (const row of result.rows.filter((r) => r.componentsUsed.length === 1)) assert.equal(row.dominance[row.componentsUsed[0]], 1);
    // Energy alone equals the energy map evaluated directly (HEAT of one component = that component, weight 1).
    const energyOnly = result.rows.find((r) => r.configuration.components.join() === 'energy')!;
    const direct = await evaluateOne(config, energyOnly.configuration, (maps) => maps.get('energy') as Float32Array);
    assertClose(pooled(result, { components: ['energy'] }), direct, 1e-9, 'energy alone');
  });

  it('components ablation without statistics', async () => {
    const bare = withOverrides(config, { 'heat.statistics.path': '', 'heat.data.train.images': '' });
    const result = await runAblation(bare, 'components');
    assert.equal(result.rows.length, 6, 'Mahalanobis alone is skipped');
    for (const row of result.rows) assert.ok(!row.componentsUsed.includes('mahalanobis'), row.label);
    // Mahalanobis drops out, so energy + Mahalanobis scores exactly like energy alone.
    assert.deepEqual(pooled(result, { components: ['energy', 'mahalanobis'] }), pooled(result, { components: ['energy'] }));
  });

  it('class-wise sweep over tied-only statistics', async () => {
    const file = path.join(dir, 'tied', 'statistics.safetensors');
    const tied = withOverrides(config, { 'heat.statistics.path': file, 'heat.statistics.covariance': 'tied', 'heat.sweep.grid': {} });
    await computeStatistics(tied, {});
    const result = await runSweep(tied, { covariance: ['tied', 'classwise'] });
    assert.equal(result.rows.length, 2);
    for (const row of result.rows) assert.ok(Number.isFinite(row.metrics.pooled.aupr.value), row.label);
    // The class-wise rows were scored with a file the sweep computed, and the best snippet must name it.
    const classwise = result.rows.find((r) => r.configuration.covariance === 'classwise')!;
    const best = bestConfiguration({ ...result, rows: [classwise] })!;
    assert.equal(best.settings['heat.statistics.covariance'], 'classwise');
    assert.equal(best.settings['heat.statistics.path'], layerStatisticsPath(tied, classwise.configuration.featureLayer));
  });

  it('an empty validation split is refused, naming the setting', async () => {
    const empty = withOverrides(config, { 'heat.data.val.images': path.join(dir, 'none/*.png') });
    await assert.rejects(runSweep(empty, { temperature: [1] }), (e: unknown) => e instanceof HeatError && /heat\.data\.val\.images/.test(e.message));
  });
});
