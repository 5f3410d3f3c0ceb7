import { strict as assert } from 'node:assert';
import * as ort from 'onnxruntime-node';
import { buildHeatHead } from '../../src/core/heat';
import { emptyMoments, mergeBlock } from '../../src/core/stats/accumulator';
import { STATISTICS_FORMAT_VERSION } from '../../src/core/stats/file';
import { finalizeStatistics } from '../../src/core/stats/finalize';
import type { ClassStatistics } from '../../src/core/stats/types';
import { gaussian, matmul, random, twoPass } from './reference';

/**
 * Case 6 through the Mahalanobis head: statistics from 100 vectors whose channels 3 and 6 are always 0 give
 * finite distances, equal to sqrt((x − μ)ᵀ P (x − μ)) computed in float64 from the stored precision.
 */
describe('stats case 6 in the Mahalanobis head', () => {
  for (const covariance of ['tied', 'lowrank'] as const) {
    it(`dead channels give finite distances (${covariance})`, async () => {
      const d = 8;
      const rand = random(66);
      const rowsByClass = [0, 1].map((c) => Array.from({ length: 100 }, () => Array.from({ length: d }, (_, i) => (i === 3 || i === 6 ? 0 : 2 * c + gaussian(rand)))));
      const moments = emptyMoments(2, d);
      rowsByClass.forEach((rows, c) => {
        const { mean, scatter } = twoPass(rows, d);
        mergeBlock(moments, c, rows.length, Float64Array.from(mean), Float64Array.from(scatter));
      });
      const { statistics } = finalizeStatistics(moments, { regularization: 1e-4, regularizationMode: 'absolute', rank: d });
      const stats: ClassStatistics = {
        ...statistics,
        metadata: {
          formatVersion: STATISTICS_FORMAT_VERSION, modelSha256: '', featureTensor: 'features', dim: d, classNames: ['a', 'b'], labelMapping: {},
          preprocessing: {}, regularization: { epsilon: 1e-4, mode: 'absolute' }, labelSource: 'groundTruth', imageCount: 1, createdAt: '',
        },
      };

      // Query cells: training-like vectors, and vectors with values in the dead channels (never seen in training).
      const cells = 6;
      const queries = Array.from({ length: cells }, (_, k) => Array.from({ length: d }, (_, i) => (i === 3 || i === 6 ? (k % 2) * 0.01 : k * 0.3 + gaussian(rand))));
      const features = new Float32Array(d * cells);
      queries.forEach((q, p) => q.forEach((v, i) => { features[i * cells + p] = v; }));
      const head = buildHeatHead({ statistics: stats, covariance, outputs: ['mahalanobis'], classCount: 2 });
      const session = await ort.InferenceSession.create(head.bytes);
      const out = await session.run({
        logits: new ort.Tensor('float32', new Float32Array(2 * cells), [1, 2, 1, cells]),
        features: new ort.Tensor('float32', features, [1, d, 1, cells]),
      });
      await session.release();
      const maps = out[head.variants[0].outputs.mahalanobis!].data as Float32Array;

      queries.forEach((q, p) => {
        const x = q.map((v) => Math.fround(v));
        const expected = Math.min(...[0, 1].map((c) => {
          const diff = x.map((v, i) => v - statistics.means[c * d + i]);
          return Math.sqrt(Math.max(0, matmul(diff, matmul(statistics.tiedPrecision!, diff, d, d, 1), 1, d, 1)[0]));
        }));
        assert.ok(Number.isFinite(maps[p]), `cell ${p} is ${maps[p]}`);
        assert.ok(Math.abs(maps[p] - expected) <= 1e-3 * Math.max(1, expected), `cell ${p}: ${maps[p]} vs ${expected}`);
      });
    });
  }
});
