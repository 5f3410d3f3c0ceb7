import { strict as assert } from 'node:assert';
import type { MethodMetrics } from '../../src/core/api';
import { METHOD_MAPS, validationThresholds } from '../../src/core/eval/viewerThresholds';
import { evaluationMethods } from '../../src/core/pipeline/evaluate';
import type { ClassStatistics } from '../../src/core/stats/types';

function method(name: string, threshold?: MethodMetrics['threshold']): MethodMetrics {
  const none = { value: null, reason: 'not computed' };
  return {
    method: name,
    pooled: { aupr: none, auroc: none, fpr95: none },
    perImage: { aupr: none, auroc: none, fpr95: none, imagesUsed: 0, imagesSkipped: 0 },
    threshold,
  };
}

describe('viewer thresholds from an evaluation', () => {
  it('every mapped method is one the evaluation reports', () => {
    // Statistics with max-logit moments make the evaluation list every method, standardized max logit included.
    const statistics = { maxLogit: { mean: Float64Array.of(0), std: Float64Array.of(1) } } as unknown as ClassStatistics;
    const names = evaluationMethods(statistics).map((m) => m.name);
    for (const name of Object.keys(METHOD_MAPS)) assert.ok(names.includes(name), `${name} is not among ${names.join(', ')}`);
  });

  it('validation thresholds by map', () => {
    const thresholds = validationThresholds([
      method('HEAT', { value: 1.5, source: 'validation', f1: 0.4 }),
      method('HEAT (before normalization)', { value: -3.25, source: 'validation' }),
      method('Energy', { value: -7, source: 'none' }),
      method('Max logit', { value: -9, source: 'validation' }),
      method('Mahalanobis'),
      method('Spatial consistency', { value: 0.02, source: 'validation' }),
    ]);
    assert.deepEqual(thresholds, { 'heat-normalized': 1.5, heat: -3.25, spatial: 0.02 });
  });
});
