/**
 * Each checklist judgement on constructed inputs whose right status is known: hand-computed energies
 * (case 3), an inverted score, a rank-deficient covariance (case 6), zero padding on a uniform map
 * (case 8), weights that do or do not sum to 1, empty classes, EMA states computed by hand.
 */
import * as assert from 'node:assert/strict';
import type { MethodMetrics } from '../../src/core/api';
import { judgeBaseline, judgeEnergyMaps, judgeMetricFormat, judgeThresholdSource } from '../../src/core/checklist/phase1';
import { judgeClassMeans, judgeCovariance, judgeLayerDimension, judgeMemory, judgeStatisticsFile } from '../../src/core/checklist/phase2';
import { judgeDistanceCorrect, judgeMinimum, judgeNonNegative } from '../../src/core/checklist/phase3';
import { judgeAnomalyConsistency, judgeEdgeEffects, judgeSpatialRange } from '../../src/core/checklist/phase4';
import { judgeDominance, judgeEmaStable, judgeHeatRange, judgeNormalizerUpdates, judgeWeightsSum, traceNormalizer } from '../../src/core/checklist/phase5';
import { judgeMetrics, judgeTargets } from '../../src/core/checklist/phase6';
import { hostDistance, probeUniformSpatial, type MahalanobisProbe } from '../../src/core/checklist/measure';
import { formatChecklist } from '../../src/core/checklist';
import { makeConfig } from '../../src/core/config';
import type { LabelImage } from '../../src/core/data';
import { MetricAccumulator } from '../../src/core/eval/metrics';
import { silentLogger } from '../../src/core/log';
import type { ClassStatistics, StatisticsMetadata } from '../../src/core/stats/types';

/** Energy −T·logsumexp(z/T), written out for the test. */
function energyOf(z: number[], t = 1): number {
  const m = Math.max(...z.map((v) => v / t));
  return -t * (m + Math.log(z.reduce((s, v) => s + Math.exp(v / t - m), 0)));
}

/** Metrics of `name` for scores of known (label 0) and anomaly (label 1) pixels. */
function metricsOf(name: string, scores: number[], labels: number[]): MethodMetrics {
  const acc = new MetricAccumulator(name);
  acc.add(Float32Array.from(scores), Uint8Array.from(labels));
  return acc.finish().metrics;
}

const metadata = (extra: Partial<StatisticsMetadata> = {}): StatisticsMetadata => ({
  formatVersion: '1', modelSha256: 'x', featureTensor: 'f', dim: 2, classNames: [], labelMapping: {}, preprocessing: {},
  regularization: { epsilon: 1e-4, mode: 'absolute' }, labelSource: 'groundTruth', imageCount: 1, createdAt: 'now', ...extra,
});

describe('checklist phase 1: energy and metrics', () => {
  // Case 3: a known pixel [10, 0] and an anomaly pixel [1, 1].
  const logits = [[10, 0], [1, 1]];
  const energy = Float32Array.from(logits.map((z) => energyOf(z)));
  const negMax = Float32Array.from(logits.map((z) => -Math.max(...z)));

  it('energy maps: hand-computed energies pass', () => {
    assert.ok(Math.abs(energy[0] - -10.0000454) < 1e-5 && Math.abs(energy[1] - -1.6931472) < 1e-6);
    const result = judgeEnergyMaps([{ energy, negMaxLogit: negMax, height: 1, width: 2 }], { height: 1, width: 2 }, 1, 2);
    assert.equal(result.status, 'pass', result.evidence);
  });

  it('energy maps: the negated energy breaks the logsumexp bound', () => {
    const negated = energy.map((e) => -e);
    const result = judgeEnergyMaps([{ energy: negated, negMaxLogit: negMax, height: 1, width: 2 }], undefined, 1, 2);
    assert.equal(result.status, 'fail');
    assert.match(result.evidence, /2 of 2 energy values break/);
  });

  it('energy maps: size unlike the logits, NaN, and a constant map', () => {
    assert.equal(judgeEnergyMaps([{ energy, negMaxLogit: negMax, height: 1, width: 2 }], { height: 2, width: 2 }, 1, 2).status, 'fail');
    const nan = Float32Array.from([NaN, energy[1]]);
    assert.match(judgeEnergyMaps([{ energy: nan, negMaxLogit: negMax, height: 1, width: 2 }], undefined, 1, 2).evidence, /1 of 2 energy values are NaN/);
    // Softmax outputs [0.5, 0.5] as "logits": E = −ln(2·e^0.5) everywhere.
    const flat = Float32Array.from([energyOf([0.5, 0.5]), energyOf([0.5, 0.5])]);
    const constant = judgeEnergyMaps([{ energy: flat, negMaxLogit: Float32Array.from([-0.5, -0.5]), height: 1, width: 2 }], undefined, 1, 2);
    assert.equal(constant.status, 'warn');
    assert.match(constant.evidence, /probabilities/);
  });

  it('baseline: an inverted score (AUROC 0) fails as inverted orientation', () => {
    const labels = [0, 1, 0, 1];
    const right = [energy[0], energy[1], energy[0], energy[1]];
    const methods = [
      metricsOf('Max logit', [negMax[0], negMax[1], negMax[0], negMax[1]], labels),
      metricsOf('Energy', right.map((e) => -e), labels),
    ];
    assert.equal(methods[1].pooled.auroc.value, 0);
    const result = judgeBaseline(methods, 'test');
    assert.equal(result.status, 'fail');
    assert.match(result.evidence, /Inverted orientation: Energy AUROC 0 < 0\.5/);
  });

  it('baseline: energy at least as good as max logit passes, worse warns with a fix', () => {
    const labels = [0, 0, 1, 1];
    const good = judgeBaseline([metricsOf('Max logit', [0, 2, 1, 3], labels), metricsOf('Energy', [0, 1, 2, 3], labels)], 'val');
    assert.equal(good.status, 'pass', good.evidence);
    const worse = judgeBaseline([metricsOf('Max logit', [0, 1, 2, 3], labels), metricsOf('Energy', [0, 2, 1, 3], labels)], 'val');
    assert.equal(worse.status, 'warn');
    assert.equal(worse.fix?.command, 'heat.runSweep');
  });

  it('metric format: values in [0, 1] pass; out of range or unexplained undefined fail', () => {
    const ok = metricsOf('HEAT', [0, 1, 2, 3], [0, 0, 1, 1]);
    assert.equal(judgeMetricFormat([ok], 'test').status, 'pass');
    const broken: MethodMetrics = { ...ok, pooled: { ...ok.pooled, aupr: { value: 1.5 } } };
    assert.equal(judgeMetricFormat([broken], 'test').status, 'fail');
    const unexplained: MethodMetrics = { ...ok, pooled: { ...ok.pooled, auroc: { value: null } } };
    assert.equal(judgeMetricFormat([unexplained], 'test').status, 'fail');
  });

  it('threshold: no validation split warns naming heat.data.val.images', () => {
    const none = judgeThresholdSource(0, 0, undefined);
    assert.equal(none.status, 'warn');
    assert.deepEqual(none.settings, ['heat.data.val.images']);
    assert.equal(judgeThresholdSource(5, 5, { source: 'validation', value: 1 }).status, 'pass');
    assert.equal(judgeThresholdSource(5, 5, { source: 'none' }).status, 'fail');
    assert.equal(judgeThresholdSource(5, 3, undefined).status, 'warn');
  });
});

describe('checklist phase 2: statistics', () => {
  const stats = (counts: number[], extra: Partial<ClassStatistics> = {}): ClassStatistics => ({
    classCount: counts.length, dim: 2, means: new Float64Array(counts.length * 2), counts: Float64Array.from(counts),
    emptyClasses: counts.flatMap((n, c) => (n === 0 ? [c] : [])), metadata: metadata(), ...extra,
  });

  it('class means: an empty class warns and is named', () => {
    const result = judgeClassMeans(stats([5, 0, 3]), ['road', 'pole', 'car']);
    assert.equal(result.status, 'warn');
    assert.match(result.evidence, /2 of 3 classes/);
    assert.match(result.evidence, /1 "pole"/);
    assert.equal(judgeClassMeans(stats([5, 2, 3]), []).status, 'pass');
  });

  it('covariance: rank-deficient (case 6) warns with smallest eigenvalue ε', () => {
    // 100 vectors of dimension 8 whose channels 3 and 6 are always 0: the covariance has rank 6.
    const d = 8;
    const rows: number[][] = [];
    let seed = 7;
    const random = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 - 0.5; };
    for (let n = 0; n < 100; n++) rows.push(Array.from({ length: d }, (_, k) => (k === 3 || k === 6 ? 0 : random())));
    const mean = Array.from({ length: d }, (_, k) => rows.reduce((s, r) => s + r[k], 0) / rows.length);
    const cov = new Float64Array(d * d);
    for (const r of rows) for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) cov[i * d + j] += ((r[i] - mean[i]) * (r[j] - mean[j])) / (rows.length - 1);
    const s: ClassStatistics = { ...stats([100]), dim: d, means: Float64Array.from(mean), tiedCovariance: cov };
    const result = judgeCovariance(s, 'tied', undefined);
    assert.equal(result.status, 'warn', result.evidence);
    assert.match(result.evidence, /smallest eigenvalue 1\.00e-4/);
    assert.match(result.evidence, /up to 2 zero eigenvalue\(s\)/);
  });

  it('covariance: a negative smallest eigenvalue fails, a well-conditioned one passes', () => {
    const report = (smallest: number, condition: number) => [{ name: 'tied', epsilon: 1e-4, smallestEigenvalue: smallest, largestEigenvalue: smallest * condition, conditionNumber: condition, nullDimensions: 0, zeroVarianceChannels: [] }];
    assert.equal(judgeCovariance(stats([3]), 'tied', report(-1e-3, -5)).status, 'fail');
    assert.equal(judgeCovariance(stats([3]), 'tied', report(0.5, 40)).status, 'pass');
    const ill = judgeCovariance(stats([3]), 'tied', report(1e-8, 1e9));
    assert.equal(ill.status, 'warn');
    assert.deepEqual([ill.fix?.setting, ill.fix?.value], ['heat.statistics.regularizationMode', 'relative']);
  });

  it('statistics file: missing file fails with the compute-statistics command', () => {
    const result = judgeStatisticsFile({ path: '/nowhere/stats.safetensors', error: '/nowhere/stats.safetensors does not exist', checkedAgainstModel: false });
    assert.equal(result.status, 'fail');
    assert.equal(result.fix?.command, 'heat.computeStatistics');
  });

  it('statistics file: none configured warns', () => {
    const result = judgeStatisticsFile({ path: '', error: 'heat.statistics.path is empty, so no statistics file is configured', checkedAgainstModel: false });
    assert.equal(result.status, 'warn');
    assert.match(result.evidence, /Mahalanobis is left out/);
    assert.equal(result.fix?.command, 'heat.computeStatistics');
  });

  it('terminal fix names the CLI command', () => {
    const text = formatChecklist([{ id: 'x', phase: 2, title: 'Statistics file', status: 'warn', evidence: 'e.', settings: [], fix: { description: 'Compute them.', command: 'heat.computeStatistics' } }]);
    assert.match(text, /fix: Compute them\. \(run "heat-lens stats", or HEAT: Compute Class Statistics in VS Code\)/);
  });

  it('statistics file: changed settings warn', () => {
    const loaded = stats([3]);
    const state = { path: '/s.safetensors', stats: loaded, fileBytes: 100, checkedAgainstModel: true };
    assert.equal(judgeStatisticsFile(state).status, 'pass');
    const changed = judgeStatisticsFile(state, [{ key: 'heat.statistics.regularization', text: 'heat.statistics.regularization is 1 but the file was computed with 0.0001' }]);
    assert.equal(changed.status, 'warn');
    assert.match(changed.evidence, /The settings changed since: heat\.statistics\.regularization is 1 but the file was computed with 0\.0001\./);
    assert.deepEqual(changed.settings, ['heat.statistics.path', 'heat.statistics.regularization']);
    assert.equal(changed.fix?.command, 'heat.computeStatistics');
  });

  it('layer and dimension: another D in the file fails', () => {
    const probe = { featureTensor: 'relu', dim: 64, height: 16, width: 32, logitsHeight: 128, logitsWidth: 256 };
    assert.equal(judgeLayerDimension(probe, { featureTensor: 'relu', dim: 64 }, 'layer3').status, 'pass');
    const other = judgeLayerDimension(probe, { featureTensor: 'relu', dim: 128 }, 'layer3');
    assert.equal(other.status, 'fail');
    assert.equal(other.fix?.command, 'heat.computeStatistics');
  });

  it('memory: C·D²·8 bytes class-wise; over 1 GiB warns and advises tied', () => {
    // 19 classes, D = 2048: 19·2048²·8 = 637,534,208 bytes = 608.0 MiB.
    const small = judgeMemory(19, 2048, 'classwise', 256);
    assert.equal(small.status, 'pass');
    assert.match(small.evidence, /608\.0 MiB/);
    // D = 4096: 19·4096²·8 = 2.375 GiB.
    const large = judgeMemory(19, 4096, 'classwise', 256);
    assert.equal(large.status, 'warn');
    assert.match(large.evidence, /2\.4 GiB/);
    assert.deepEqual([large.fix?.setting, large.fix?.value], ['heat.statistics.covariance', 'tied']);
  });
});

describe('checklist phase 3: Mahalanobis', () => {
  // Two classes in D = 2 with identity precision: means (0, 0) and (3, 0); f = (1, 0) is 1 from the first, 2 from the second.
  const stats: ClassStatistics = {
    classCount: 2, dim: 2, means: Float64Array.from([0, 0, 3, 0]), counts: Float64Array.from([4, 4]), emptyClasses: [],
    tiedPrecision: Float64Array.from([1, 0, 0, 1]), metadata: metadata(),
  };
  const probe = (head: number): MahalanobisProbe => ({
    covariance: 'tied', image: 'x', featureHeight: 1, featureWidth: 1, classes: [0, 1], headSeconds: 0, graphBytes: 0, headMap: Float32Array.from([head]),
    cells: [{ index: 0, head, perClass: [0, 1].map((c) => hostDistance(stats, 'tied', Float64Array.from([1, 0]), c)) }],
  });

  it('host distance: hand values 1 and 2', () => {
    assert.deepEqual(probe(1).cells[0].perClass, [1, 2]);
  });

  it('head equal to the minimum passes; the other class distance fails', () => {
    assert.equal(judgeDistanceCorrect(probe(1)).status, 'pass');
    assert.equal(judgeMinimum(probe(1), []).status, 'pass');
    assert.equal(judgeMinimum(probe(2), []).status, 'fail');
    assert.equal(judgeDistanceCorrect(probe(1.5)).status, 'fail');
  });

  it('non-negative: a negative or NaN distance fails', () => {
    assert.equal(judgeNonNegative([Float32Array.from([0, 1, 2])]).status, 'pass');
    assert.equal(judgeNonNegative([Float32Array.from([0.5, -1e-3])]).status, 'fail');
    assert.equal(judgeNonNegative([Float32Array.from([NaN])]).status, 'fail');
  });
});

describe('checklist phase 4: spatial consistency', function () {
  this.timeout(20_000);

  it('edge effects: zero padding on a uniform map warns (corner ln 9/4, edge ln 9/6) and suggests exclude', async () => {
    const uniform = await probeUniformSpatial(3, 'zero', 'kl', silentLogger);
    const { map, width } = uniform;
    assert.ok(Math.abs(map[0] - Math.log(9 / 4)) < 1e-4, `corner ${map[0]}`);
    assert.ok(Math.abs(map[1] - Math.log(9 / 6)) < 1e-4, `edge ${map[1]}`);
    assert.ok(Math.abs(map[width + 1]) < 1e-5, `interior ${map[width + 1]}`);
    const result = judgeEdgeEffects(uniform, [], 'zero');
    assert.equal(result.status, 'warn');
    assert.deepEqual([result.fix?.setting, result.fix?.value], ['heat.score.padding', 'exclude']);
  });

  it('edge effects: excluded padding gives 0 everywhere and passes', async () => {
    const uniform = await probeUniformSpatial(3, 'exclude', 'kl', silentLogger);
    assert.ok(uniform.map.every((v) => Math.abs(v) < 1e-5));
    assert.equal(judgeEdgeEffects(uniform, [], 'exclude').status, 'pass');
  });

  it('range: negative KL fails; values up to ln 9 pass', () => {
    const ok = { map: Float32Array.from([0, 1, Math.log(9) - 1e-3]), height: 1, width: 3 };
    assert.equal(judgeSpatialRange([ok], 'kl', 3).status, 'pass');
    assert.equal(judgeSpatialRange([{ ...ok, map: Float32Array.from([-0.2, 0]) }], 'kl', 3).status, 'fail');
    assert.equal(judgeSpatialRange([{ ...ok, map: Float32Array.from([3, 0]) }], 'kl', 3).status, 'fail');
  });

  it('anomaly vs known: higher anomaly score passes, lower warns, no labels skips', () => {
    const label = (anomaly: number[]): LabelImage => ({
      values: new Uint8Array(anomaly.length), anomaly: Uint8Array.from(anomaly), width: anomaly.length, height: 1,
      counts: { anomaly: anomaly.filter((a) => a === 1).length } as LabelImage['counts'],
    });
    const map = Float32Array.from([0.1, 0.1, 0.9, 0.8]);
    assert.equal(judgeAnomalyConsistency([{ map, height: 1, width: 4, label: label([0, 0, 1, 1]) }]).status, 'pass');
    assert.equal(judgeAnomalyConsistency([{ map, height: 1, width: 4, label: label([1, 1, 0, 0]) }]).status, 'warn');
    assert.equal(judgeAnomalyConsistency([{ map, height: 1, width: 4 }]).status, 'skip');
  });
});

describe('checklist phase 5: combination and normalization', () => {
  it('weights: summing to 1 passes; 0.6 + 0.3 + 0.3 fails with |Σw − 1| = 0.2', () => {
    const ok = { weights: { energy: Float32Array.from([0.5, 0.2]), mahalanobis: Float32Array.from([0.25, 0.3]), spatial: Float32Array.from([0.25, 0.5]) }, scores: {} };
    assert.equal(judgeWeightsSum([ok]).status, 'pass');
    const bad = { weights: { energy: Float32Array.from([0.6]), mahalanobis: Float32Array.from([0.3]), spatial: Float32Array.from([0.3]) }, scores: {} };
    const result = judgeWeightsSum([bad]);
    assert.equal(result.status, 'fail');
    assert.match(result.evidence, /= 0\.2\b/);
  });

  it('heat range: NaN fails, finite passes', () => {
    assert.equal(judgeHeatRange([Float32Array.from([-3, 0, 2])]).status, 'pass');
    assert.equal(judgeHeatRange([Float32Array.from([1, NaN])]).status, 'fail');
  });

  it('normalizer: adaptive state follows the EMA computed by hand', () => {
    const config = makeConfig({ 'heat.score.normalization': 'adaptive', 'heat.score.alpha': 0.5 }, '/');
    // Batches [0, 2] and [2, 4]: means 1 and 3, unbiased std √2 both; EMA mean 0.5·1 + 0.5·3 = 2.
    const trace = traceNormalizer(config, [Float32Array.from([0, 2]), Float32Array.from([2, 4])]);
    assert.ok(Math.abs(trace.states[1].mean - 2) < 1e-12);
    assert.ok(Math.abs(trace.states[1].std - Math.SQRT2) < 1e-12);
    assert.equal(judgeNormalizerUpdates(trace, { mean: 0, std: 1 }).status, 'pass');
    const stuck = { ...trace, states: [trace.states[0], trace.states[0]] };
    assert.equal(judgeNormalizerUpdates(stuck, { mean: 0, std: 1 }).status, 'fail');
  });

  it('normalizer: "none" skips; fixed keeps its state', () => {
    const none = traceNormalizer(makeConfig({ 'heat.score.normalization': 'none' }, '/'), [Float32Array.from([1, 2])]);
    assert.equal(judgeNormalizerUpdates(none, { mean: 0, std: 1 }).status, 'skip');
    const fixed = traceNormalizer(makeConfig({ 'heat.score.normalization': 'fixed', 'heat.score.fixedMean': 2, 'heat.score.fixedStd': 3 }, '/'), [Float32Array.from([1, 2])]);
    assert.equal(judgeNormalizerUpdates(fixed, { mean: 2, std: 3 }).status, 'pass');
  });

  it('EMA: equal batches settle; alternating batches with alpha 0 keep moving', () => {
    const same = Array.from({ length: 5 }, () => Float32Array.from([0, 1, 2, 3]));
    assert.equal(judgeEmaStable(traceNormalizer(makeConfig({ 'heat.score.alpha': 0.9 }, '/'), same)).status, 'pass');
    const jumpy = Array.from({ length: 5 }, (_, k) => Float32Array.from(k % 2 ? [0, 1] : [100, 101]));
    const result = judgeEmaStable(traceNormalizer(makeConfig({ 'heat.score.alpha': 0 }, '/'), jumpy));
    assert.equal(result.status, 'warn');
  });

  it('dominance: energy with the largest weight at 95 % of pixels warns and suggests standardized', () => {
    const n = 20;
    const energy = new Float32Array(n).fill(0.8);
    const other = new Float32Array(n).fill(0.1);
    energy[0] = 0.1; other[0] = 0.45; // one pixel of 20 goes to Mahalanobis
    const spatial = Float32Array.from(energy, (e, i) => 1 - e - other[i]);
    const result = judgeDominance([{ weights: { energy, mahalanobis: other, spatial }, scores: {} }]);
    assert.equal(result.status, 'warn');
    assert.match(result.evidence, /energy 95\.0 %/);
    assert.deepEqual([result.fix?.setting, result.fix?.value], ['heat.score.combination', 'standardized']);
    // With z-scored terms the contribution decides: every z-term is 0 except spatial's at 5 of 20 pixels, so energy takes 75 % by ties.
    const zeroTerms = { energy: new Float32Array(n), mahalanobis: new Float32Array(n), spatial: new Float32Array(n) };
    zeroTerms.spatial.fill(1, 0, 5);
    const standardized = judgeDominance([{ weights: { energy, mahalanobis: other, spatial }, scores: zeroTerms }], 'standardized');
    assert.equal(standardized.status, 'pass', standardized.evidence);
  });
});

describe('checklist phase 6: criteria and metrics', () => {
  const metrics = (aupr: number, fpr95: number, auroc: number): MethodMetrics => ({
    method: 'HEAT',
    pooled: { aupr: { value: aupr }, fpr95: { value: fpr95 }, auroc: { value: auroc } },
    perImage: { aupr: { value: aupr }, fpr95: { value: fpr95 }, auroc: { value: auroc }, imagesUsed: 1, imagesSkipped: 0 },
  });

  it('targets: below minimum warns, stretch passes, AUROC < 0.5 fails as inverted', () => {
    assert.equal(judgeTargets(metrics(0.106, 0.388, 0.872), 'test').status, 'warn');
    const stretch = judgeTargets(metrics(0.13, 0.19, 0.93), 'test');
    assert.equal(stretch.status, 'pass');
    assert.match(stretch.evidence, /stretch level reached/);
    const minimum = judgeTargets(metrics(0.09, 0.27, 0.895), 'test');
    assert.match(minimum.evidence, /minimum level reached/);
    const inverted = judgeTargets(metrics(0.01, 0.99, 0.2), 'test');
    assert.equal(inverted.status, 'fail');
    assert.match(inverted.evidence, /Inverted orientation/);
  });

  it('metrics: AUPR above the anomaly share passes; undefined AUROC fails', () => {
    const counts = { images: 1, known: 90, anomaly: 10, ignored: 0, nan: 0 };
    assert.equal(judgeMetrics(metrics(0.3, 0.2, 0.9), counts, 'test').status, 'pass');
    assert.equal(judgeMetrics(metrics(0.05, 0.2, 0.9), counts, 'test').status, 'warn');
    const undefinedAuroc: MethodMetrics = { ...metrics(0.3, 0.2, 0.9), pooled: { ...metrics(0.3, 0.2, 0.9).pooled, auroc: { value: null, reason: 'no anomaly pixels' } } };
    assert.equal(judgeMetrics(undefinedAuroc, counts, 'test').status, 'fail');
  });
});
