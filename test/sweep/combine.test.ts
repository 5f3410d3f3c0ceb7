import * as assert from 'node:assert/strict';
import type { HeatComponent } from '../../src/core/heat';
import { addDominance, combineStandardized, KnownMoments } from '../../src/core/sweep';
import { refHeat } from '../reference/heat-reference';

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

describe('sweep host combination', () => {
  const rand = random(7);
  const n = 500;
  const scores = { energy: Float32Array.from({ length: n }, () => -8 + 4 * rand()), mahalanobis: Float32Array.from({ length: n }, () => 30 * rand()), spatial: Float32Array.from({ length: n }, () => -0.01 * rand()) };
  const raw = Array.from({ length: 3 }, () => Float64Array.from({ length: n }, () => 0.01 + rand()));
  const weights = { energy: new Float32Array(n), mahalanobis: new Float32Array(n), spatial: new Float32Array(n) };
  for (let i = 0; i < n; i++) {
    const total = raw[0][i] + raw[1][i] + raw[2][i];
    weights.energy[i] = raw[0][i] / total;
    weights.mahalanobis[i] = raw[1][i] / total;
    weights.spatial[i] = raw[2][i] / total;
  }
  const z = { energy: { mean: -6, std: 1.2 }, mahalanobis: { mean: 14, std: 8 }, spatial: { mean: -0.005, std: 0.003 } };
  const f64 = (a: Float32Array) => Float64Array.from(a);
  const refScores = { energy: f64(scores.energy), mahalanobis: f64(scores.mahalanobis), spatial: f64(scores.spatial) };
  const refWeights = { energy: f64(weights.energy), mahalanobis: f64(weights.mahalanobis), spatial: f64(weights.spatial) };

  for (const components of [['energy', 'mahalanobis', 'spatial'], ['energy', 'spatial'], ['mahalanobis']] as HeatComponent[][]) {
    it(`standardized and equal: ${components.join('+')}`, () => {
      const standardized = combineStandardized(scores, weights, components, z);
      const equal = combineStandardized(scores, undefined, components, z);
      const expectedStandardized = refHeat(refScores, refWeights, components, z);
      const expectedEqual = refHeat(refScores, refWeights, components, z, true);
      for (let i = 0; i < n; i++) {
        assert.ok(Math.abs(standardized[i] - expectedStandardized[i]) <= 1e-5 * Math.max(1, Math.abs(expectedStandardized[i])), `standardized ${i}`);
        assert.ok(Math.abs(equal[i] - expectedEqual[i]) <= 1e-5 * Math.max(1, Math.abs(expectedEqual[i])), `equal ${i}`);
      }
    });
  }

  it('known moments: merged equals one pass', () => {
    const moments = new KnownMoments();
    const all: number[] = [];
    for (let image = 0; image < 4; image++) {
      const values = Float32Array.from({ length: 100 }, () => 1000 + rand());
      const labels = Uint8Array.from({ length: 100 }, (_, i) => [0, 0, 1, 255][(i + image) % 4]);
      moments.add(values, labels);
      values.forEach((v, i) => { if (labels[i] === 0) all.push(v); });
    }
    const mean = all.reduce((a, b) => a + b, 0) / all.length;
    const std = Math.sqrt(all.reduce((a, b) => a + (b - mean) ** 2, 0) / (all.length - 1));
    assert.equal(moments.count, 200);
    assert.ok(Math.abs(moments.mean - mean) <= 1e-12 * mean);
    assert.ok(Math.abs(moments.std - std) <= 1e-9 * std);
  });

  it('dominance: largest weighted term, ties to the first', () => {
    const s = { energy: Float32Array.of(-10, 1, 2), mahalanobis: Float32Array.of(5, 3, 2), spatial: Float32Array.of(0, -4, 0) };
    const w = { energy: Float32Array.of(0.5, 0.5, 0.5), mahalanobis: Float32Array.of(0.5, 0.25, 0.5), spatial: Float32Array.of(0, 0.25, 0) };
    const counts = [0, 0, 0];
    addDominance(counts, s, w, ['energy', 'mahalanobis', 'spatial']);
    // Pixel 0: |−5| > 2.5 → energy. Pixel 1: 0.5, 0.75, |−1| → spatial. Pixel 2: 1 = 1 → energy (first).
    assert.deepEqual(counts, [2, 0, 1]);
    const zCounts = [0, 0];
    addDominance(zCounts, s, undefined, ['energy', 'mahalanobis'], { energy: { mean: 0, std: 10 }, mahalanobis: { mean: 0, std: 1 } });
    // Equal weights, z-scores: energy −1, 0.1, 0.2 vs Mahalanobis 5, 3, 2 → Mahalanobis everywhere.
    assert.deepEqual(zCounts, [0, 3]);
  });
});
