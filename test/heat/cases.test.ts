import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { buildHeatHead, buildHeatHeads } from '../../src/core/heat';
import { HeatError } from '../../src/core/errors';
import type { ClassStatistics } from '../../src/core/stats/types';
import { refBilinear, refMahalanobisCoarse } from '../reference/heat-reference';
import { assertClose, largeStatistics, normals, randomStatistics, rng, runHead } from './helpers';

/** Logits [N, 2, H, W] from per-pixel pairs. */
function pairs(values: [number, number][], h: number, w: number): Float32Array {
  const z = new Float32Array(2 * h * w);
  values.forEach(([a, b], i) => { z[i] = a; z[h * w + i] = b; });
  return z;
}

function oneClassStats(dim: number, mean: number[], precision: number[]): ClassStatistics {
  const s = randomStatistics(rng(1), 1, dim);
  return { ...s, means: Float64Array.from(mean), counts: Float64Array.of(10), emptyClasses: [], tiedPrecision: Float64Array.from(precision) };
}

describe('heat heads: cases', () => {
  it('case 3: energy of [10, 0] and [1, 1]', async () => {
    const out = await runHead(buildHeatHead({ outputs: ['energy'] }).bytes, { logits: { data: pairs([[10, 0], [1, 1]], 1, 2), dims: [1, 2, 1, 2] } });
    const [known, anomaly] = out.energy.data as Float32Array;
    assert.ok(Math.abs(known - -10.0000454) < 1e-6, `known: ${known}`);
    assert.ok(Math.abs(anomaly - -1.6931472) < 1e-6, `anomaly: ${anomaly}`);
    assert.ok(anomaly > known, 'energy orientation: higher = more anomalous');
  });

  it('case 3: heat ranks [1, 1] above [10, 0]', async () => {
    const z = pairs([[10, 0], [1, 1], [10, 0], [10, 0]], 2, 2);
    const out = await runHead(buildHeatHead({ components: ['energy'] }).bytes, { logits: { data: z, dims: [1, 2, 2, 2] } });
    const heat = out.heat.data as Float32Array;
    assert.ok(heat[1] > heat[0], `heat ${Array.from(heat)}`);
  });

  it('case 8: uniform map, padding exclude, KL 0', async () => {
    const z = pairs(Array.from({ length: 16 }, () => [100, 0] as [number, number]), 4, 4);
    const out = await runHead(buildHeatHead({ outputs: ['spatial'], kernelSize: 3 }).bytes, { logits: { data: z, dims: [1, 2, 4, 4] } });
    for (const v of out.spatial.data as Float32Array) assert.ok(Math.abs(v) < 1e-6, `spatial ${v}`);
  });

  it('case 8: uniform map, zero padding, 0.811 and 0.405', async () => {
    const z = pairs(Array.from({ length: 16 }, () => [100, 0] as [number, number]), 4, 4);
    const out = await runHead(buildHeatHead({ outputs: ['spatial'], kernelSize: 3, padding: 'zero' }).bytes, { logits: { data: z, dims: [1, 2, 4, 4] } });
    const s = out.spatial.data as Float32Array;
    const at = (y: number, x: number): number => s[y * 4 + x];
    for (const [y, x] of [[0, 0], [0, 3], [3, 0], [3, 3]]) assert.ok(Math.abs(at(y, x) - Math.log(9 / 4)) < 1e-5, `corner ${at(y, x)}`);
    for (const [y, x] of [[0, 1], [0, 2], [1, 0], [2, 3], [3, 1]]) assert.ok(Math.abs(at(y, x) - Math.log(9 / 6)) < 1e-5, `edge ${at(y, x)}`);
    for (const [y, x] of [[1, 1], [1, 2], [2, 1], [2, 2]]) assert.ok(Math.abs(at(y, x)) < 1e-6, `interior ${at(y, x)}`);
  });
});

describe('heat heads: orientation (higher = more anomalous)', () => {
  it('logit baselines: uncertain pixel scores higher', async () => {
    const out = await runHead(buildHeatHead().bytes, { logits: { data: pairs([[8, -2], [0.2, 0]], 1, 2), dims: [1, 2, 1, 2] } });
    for (const name of ['energy', 'max_logit', 'max_softmax', 'entropy']) {
      const [confident, uncertain] = out[name].data as Float32Array;
      assert.ok(uncertain > confident, `${name}: ${confident} vs ${uncertain}`);
    }
  });

  it('spatial: odd pixel scores highest', async () => {
    const values = Array.from({ length: 25 }, (_, i) => (i === 12 ? [0, 6] : [6, 0]) as [number, number]);
    for (const spatialMethod of ['kl', 'variance'] as const) {
      const out = await runHead(buildHeatHead({ outputs: ['spatial'], spatialMethod }).bytes, { logits: { data: pairs(values, 5, 5), dims: [1, 2, 5, 5] } });
      const s = Array.from(out.spatial.data as Float32Array);
      // KL peaks at the odd pixel alone; the variance is equal in every window that contains it.
      const shown = s.map((v) => v.toFixed(3)).join(' ');
      assert.ok(s[12] >= Math.max(...s) - 1e-6 && s[12] > s[0] + 0.1, `${spatialMethod}: ${shown}`);
      if (spatialMethod === 'kl') assert.strictEqual(s.indexOf(Math.max(...s)), 12, `kl: ${shown}`);
      assert.ok(Math.min(...s) >= -1e-6, `${spatialMethod}: −S must be ≥ 0`);
    }
  });

  it('mahalanobis: Euclidean distance for P = I', async () => {
    const stats = oneClassStats(2, [1, -1], [1, 0, 0, 1]);
    // Features [1, 2, 1, 3]: cells (1, −1), (4, 3), (1, −1); distances 0, 5, 0.
    const out = await runHead(buildHeatHead({ statistics: stats, outputs: ['mahalanobis'] }).bytes, {
      logits: { data: new Float32Array(2 * 3), dims: [1, 2, 1, 3] },
      features: { data: Float32Array.of(1, 4, 1, -1, 3, -1), dims: [1, 2, 1, 3] },
    });
    assertClose(out.mahalanobis.data as Float32Array, [0, 5, 0], 'mahalanobis');
  });
});

describe('heat heads: bilinear upsampling vs torch', () => {
  const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'bilinear-torch.json'), 'utf8')) as {
    source: { size: [number, number]; values: number[] }; cases: { size: [number, number]; values: number[] }[];
  };
  const [h, w] = fixture.source.size;

  it('reference matches torch golden values', () => {
    for (const c of fixture.cases) assertClose(refBilinear(fixture.source.values, 1, h, w, c.size[0], c.size[1]), c.values, `reference ${c.size}`, 1e-9);
  });

  it('mahalanobis head matches torch golden values', async () => {
    // Values shifted by +10 so that M = |f| = f; bilinear interpolation commutes with the shift.
    const head = buildHeatHead({ statistics: oneClassStats(1, [0], [1]), outputs: ['mahalanobis'] });
    for (const c of fixture.cases) {
      const [H, W] = c.size;
      const out = await runHead(head.bytes, {
        logits: { data: new Float32Array(2 * H * W), dims: [1, 2, H, W] },
        features: { data: Float32Array.from(fixture.source.values, (v) => v + 10), dims: [1, 1, h, w] },
      });
      assertClose(out.mahalanobis.data as Float32Array, c.values.map((v) => v + 10), `head ${c.size}`);
    }
  });
});

describe('heat heads: numerics', () => {
  it('tied: features offset by 100', async () => {
    const stats = randomStatistics(rng(70), 4, 16);
    const shifted = { ...stats, means: stats.means.map((v) => v + 100) };
    const f = normals(rng(71), 16 * 4 * 4, 1, 100.5);
    const out = await runHead(buildHeatHead({ statistics: shifted, outputs: ['mahalanobis'] }).bytes, {
      logits: { data: new Float32Array(3 * 4 * 4), dims: [1, 3, 4, 4] },
      features: { data: f, dims: [1, 16, 4, 4] },
    });
    assertClose(out.mahalanobis.data as Float32Array, refMahalanobisCoarse(f, { n: 1, c: 16, h: 4, w: 4 }, shifted, 'tied'), 'mahalanobis');
  });

  it('D = 512: cells near a class mean', async () => {
    // Distances of about 0.1 next to distances of about 30: the expanded form xᵀPx − 2μᵀPx + μᵀPμ loses
    // them in float32 cancellation, the direct form keeps them.
    const D = 512;
    const stats = largeStatistics(rng(77), 5, D, 32);
    const f = normals(rng(78), D * 2 * 3, 1, 2);
    const random = rng(79);
    for (let d = 0; d < D; d++) f[d * 6] = stats.means[3 * D + d] + 0.01 * (random() - 0.5);
    for (const covariance of ['tied', 'classwise', 'lowrank'] as const) {
      const out = await runHead(buildHeatHead({ statistics: stats, covariance, outputs: ['mahalanobis'] }).bytes, {
        logits: { data: new Float32Array(5 * 2 * 3), dims: [1, 5, 2, 3] },
        features: { data: f, dims: [1, D, 2, 3] },
      });
      const expected = refMahalanobisCoarse(f, { n: 1, c: D, h: 2, w: 3 }, stats, covariance);
      assert.ok(expected[0] < 0.2, `cell 0 must sit near a mean, distance ${expected[0]}`);
      assertClose(out.mahalanobis.data as Float32Array, expected, covariance, 1e-5);
    }
  });

  it('clamp: cells at class means give 0', async () => {
    // 64 cells, each a class mean plus noise of 1e-4: the expanded form's rounding error then exceeds
    // the true d² for some cells, which without the clamp would make sqrt return NaN.
    const D = 64;
    const stats = randomStatistics(rng(72), 3, D);
    const noise = normals(rng(73), D * 64, 1e-4);
    const f = new Float32Array(D * 64);
    for (let d = 0; d < D; d++) for (let i = 0; i < 64; i++) f[d * 64 + i] = stats.means[(i % 3) * D + d] + noise[d * 64 + i];
    for (const covariance of ['tied', 'classwise', 'lowrank'] as const) {
      const out = await runHead(buildHeatHead({ statistics: stats, covariance, outputs: ['mahalanobis'] }).bytes, {
        logits: { data: new Float32Array(3 * 8 * 8), dims: [1, 3, 8, 8] },
        features: { data: f, dims: [1, D, 8, 8] },
      });
      for (const v of out.mahalanobis.data as Float32Array) assert.ok(v >= 0 && v < 5e-2, `${covariance}: ${v}`);
    }
  });

  it('NaN logits propagate to every score', async () => {
    const z = normals(rng(73), 3 * 3 * 3);
    z[4] = NaN; // class 0, pixel (1, 1)
    const out = await runHead(buildHeatHead().bytes, { logits: { data: z, dims: [1, 3, 3, 3] } });
    for (const name of ['energy', 'max_logit', 'max_softmax', 'entropy', 'spatial', 'weight_energy', 'heat']) {
      assert.ok(Number.isNaN((out[name].data as Float32Array)[4]), `${name} at the NaN pixel: ${(out[name].data as Float32Array)[4]}`);
    }
    assert.ok(!Number.isNaN((out.energy.data as Float32Array)[0]), 'other pixels keep their energy');
  });

  it('−Inf logit equals a very negative one', async () => {
    // A class the model rules out (logit −Inf) must score like one with a logit far below the others.
    const stats = randomStatistics(rng(77), 3, 4);
    const z = normals(rng(78), 3 * 4 * 4);
    const features = { data: normals(rng(79), 4 * 2 * 2), dims: [1, 4, 2, 2] };
    const ruledOut = Float32Array.from(z, (v, i) => (i >= 2 * 16 ? Number.NEGATIVE_INFINITY : v));
    const veryNegative = Float32Array.from(z, (v, i) => (i >= 2 * 16 ? -1e4 : v));
    const bytes = buildHeatHead({ statistics: stats }).bytes;
    const a = await runHead(bytes, { logits: { data: ruledOut, dims: [1, 3, 4, 4] }, features });
    const b = await runHead(bytes, { logits: { data: veryNegative, dims: [1, 3, 4, 4] }, features });
    for (const name of ['energy', 'max_logit', 'max_softmax', 'entropy', 'spatial', 'weight_energy', 'weight_spatial', 'heat']) {
      const got = a[name].data as Float32Array;
      assert.ok(got.every(Number.isFinite), `${name} is finite`);
      assertClose(got, b[name].data as Float32Array, name, 1e-6);
    }
  });

  it('NaN features propagate to mahalanobis', async () => {
    const stats = randomStatistics(rng(74), 3, 4);
    const f = normals(rng(75), 4 * 2 * 2);
    f[0] = NaN;
    const out = await runHead(buildHeatHead({ statistics: stats }).bytes, {
      logits: { data: normals(rng(76), 3 * 4 * 4), dims: [1, 3, 4, 4] },
      features: { data: f, dims: [1, 4, 2, 2] },
    });
    assert.ok(Number.isNaN((out.mahalanobis.data as Float32Array)[0]));
    assert.ok(Number.isNaN((out.heat.data as Float32Array)[0]));
  });
});

describe('heat heads: bad input', () => {
  const stats = randomStatistics(rng(80), 3, 4);
  const cases: [string, () => unknown, RegExp][] = [
    ['temperature 0', () => buildHeatHead({ temperature: 0 }), /heat\.score\.temperature/],
    ['even kernel size', () => buildHeatHead({ kernelSize: 4 }), /odd integer/],
    ['unknown spatial method', () => buildHeatHead({ spatialMethod: 'median' as never }), /heat\.score\.spatialMethod.*"kl", "variance"/],
    ['unknown component', () => buildHeatHead({ components: ['energy', 'msp' as never] }), /heat\.score\.components/],
    ['only mahalanobis without statistics', () => buildHeatHead({ components: ['mahalanobis'] }), /No HEAT component is left/],
    ['standardized without constants', () => buildHeatHead({ combination: 'standardized' }), /needs the mean and a positive std of component "energy"/],
    ['equal with std 0', () => buildHeatHead({ combination: 'equal', standardization: { energy: { mean: 0, std: 0 }, spatial: { mean: 0, std: 1 } } }), /positive std/],
    ['classwise without classPrecisions', () => buildHeatHead({ statistics: { ...stats, classPrecisions: undefined }, covariance: 'classwise' }), /no classPrecisions/],
    ['lowrank without lowRank', () => buildHeatHead({ statistics: { ...stats, lowRank: undefined }, covariance: 'lowrank' }), /no lowRank/],
    ['tied precision of the wrong size', () => buildHeatHead({ statistics: { ...stats, tiedPrecision: new Float64Array(3) } }), /tiedPrecision has 3 values, expected 16/],
    ['every class empty', () => buildHeatHead({ statistics: { ...stats, emptyClasses: [0, 1, 2] } }), /no class with training pixels/],
    ['non-positive low-rank eigenvalue', () => buildHeatHead({ statistics: { ...stats, lowRank: { ...stats.lowRank!, values: stats.lowRank!.values.map((v, j) => (j === 1 ? 0 : v)) } }, covariance: 'lowrank' }), /eigenvalue 1 is 0/],
    ['sml without max-logit statistics', () => buildHeatHead({ statistics: stats, outputs: ['sml'] }), /max_logit_mean/],
    ['sml with a zero std', () => buildHeatHead({ statistics: { ...stats, maxLogit: { mean: new Float64Array(3), std: Float64Array.of(1, 0, 1) } }, outputs: ['sml'] }), /class 1: mean 0, std 0/],
    ['unknown output', () => buildHeatHead({ outputs: ['energy', 'odin' as never] }), /Invalid value "odin" for outputs/],
    ['statistics for another class count', () => buildHeatHead({ statistics: stats, classCount: 19 }), /describe 3 classes but the model has 19/],
    ['two layers on one features input', () => buildHeatHeads([{ suffix: '_a', statistics: stats }, { suffix: '_b', statistics: randomStatistics(rng(82), 3, 5) }]), /feature dimensions 4 and 5/],
    ['duplicate variant suffix', () => buildHeatHeads([{ suffix: '_a' }, { suffix: '_a', temperature: 2 }]), /share a suffix/],
  ];
  for (const [name, build, message] of cases) {
    it(`${name}: HeatError`, () => {
      assert.throws(build, (e: unknown) => e instanceof HeatError && message.test(e.message));
    });
  }

  it('empty class: left out of minimum', async () => {
    const s = { ...stats, emptyClasses: [1] };
    const f = normals(rng(81), 4 * 2 * 3);
    const out = await runHead(buildHeatHead({ statistics: s, outputs: ['mahalanobis'] }).bytes, {
      logits: { data: new Float32Array(3 * 2 * 3), dims: [1, 3, 2, 3] },
      features: { data: f, dims: [1, 4, 2, 3] },
    });
    const expected = refMahalanobisCoarse(f, { n: 1, c: 4, h: 2, w: 3 }, s, 'tied');
    assertClose(out.mahalanobis.data as Float32Array, expected, 'mahalanobis');
    const withAll = refMahalanobisCoarse(f, { n: 1, c: 4, h: 2, w: 3 }, { ...stats, emptyClasses: [] }, 'tied');
    assert.notDeepStrictEqual(Array.from(expected), Array.from(withAll), 'class 1 must matter for this test to mean anything');
  });
});
