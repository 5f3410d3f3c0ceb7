/** Pooled anomaly metrics against scikit-learn on the fixed score sets of make_golden.py (tolerance 1e-9). */
import * as assert from 'assert';
import { MetricAccumulator, type MethodEvaluation } from '../../src/core/eval/metrics';
import type { MetricValue } from '../../src/core/api';
import { golden, goldenArray, record } from './golden';

const TOLERANCE = 1e-9;

function valueOf(metric: MetricValue, what: string): number {
  assert.notStrictEqual(metric.value, null, `${what} is undefined: ${metric.reason}`);
  return metric.value as number;
}

/** Compares the absolute difference, since a metric can be 0; metrics lie in [0, 1]. */
function assertMetric(actual: number, expected: number, component: string): void {
  const error = Math.abs(actual - expected);
  record(`${component} (absolute)`, error);
  assert.ok(error <= TOLERANCE, `${component}: ${actual} vs scikit-learn ${expected}`);
}

function evaluateSet(name: string, images: number): MethodEvaluation {
  const scores = goldenArray(`metrics_${name}_scores`).data as Float32Array;
  const labels = goldenArray(`metrics_${name}_labels`).data as Uint8Array;
  const accumulator = new MetricAccumulator(name);
  const size = scores.length / images;
  for (let i = 0; i < images; i++) accumulator.add(scores.subarray(i * size, (i + 1) * size), labels.subarray(i * size, (i + 1) * size), `${name} ${i}`);
  return accumulator.finish();
}

describe('golden: metrics vs scikit-learn', () => {
  const sets: [string, number][] = [['gaussian', 1], ['ties', 1], ['pooled_two_images', 2], ['ten_anomalies', 1], ['energies', 1]];

  for (const [name, images] of sets) {
    it(`${name}: AUPR, AUROC, FPR95 and best F1`, () => {
      const expected = golden().metrics[name];
      const result = evaluateSet(name, images);
      assert.strictEqual(result.counts.anomaly, expected.positives);
      assert.strictEqual(result.counts.known, expected.negatives);
      assertMetric(valueOf(result.metrics.pooled.aupr, 'AUPR'), expected.aupr, 'metrics aupr');
      assertMetric(valueOf(result.metrics.pooled.auroc, 'AUROC'), expected.auroc, 'metrics auroc');
      assertMetric(valueOf(result.metrics.pooled.fpr95, 'FPR95'), expected.fpr95, 'metrics fpr95');
      assert.ok(result.bestF1, 'a best-F1 threshold');
      assertMetric(valueOf(result.bestF1.f1, 'best F1'), expected.bestF1, 'metrics best F1');
      assert.strictEqual(result.bestF1.threshold, expected.bestF1Threshold, 'best-F1 threshold (score ≥ threshold is anomaly)');
    });
  }

  it('pooled differs from per-image on two images', () => {
    const result = evaluateSet('pooled_two_images', 2);
    assert.strictEqual(valueOf(result.metrics.perImage.auroc, 'per-image AUROC'), 1);
    assert.strictEqual(valueOf(result.metrics.pooled.auroc, 'pooled AUROC'), 0.75);
  });
});
