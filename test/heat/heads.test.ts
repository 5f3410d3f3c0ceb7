import * as assert from 'assert';
import * as ort from 'onnxruntime-node';
import { buildHeatHead, buildHeatHeads, HeatHeadOptions } from '../../src/core/heat';
import type { ClassStatistics } from '../../src/core/stats/types';
import {
  Dims4, refBilinear, refEnergy, refEntropy, refHeat, refMahalanobisCoarse, refMaxLogit, refMaxSoftmax, refPrediction,
  refSoftmax, refSpatial, refStandardizedMaxLogit, refWeights, RefComponent,
} from '../reference/heat-reference';
import { assertClose, normals, randomStatistics, rng, runHead } from './helpers';

interface Size { logits: Dims4; features: { d: number; h: number; w: number } }

const SIZES: Size[] = [
  { logits: { n: 1, c: 5, h: 8, w: 8 }, features: { d: 6, h: 4, w: 4 } },
  { logits: { n: 2, c: 4, h: 7, w: 13 }, features: { d: 5, h: 3, w: 5 } },
  { logits: { n: 1, c: 3, h: 6, w: 10 }, features: { d: 4, h: 6, w: 10 } },
  { logits: { n: 1, c: 19, h: 12, w: 20 }, features: { d: 8, h: 4, w: 6 } },
  // D = 512 takes the triangular Cholesky path of the tied Mahalanobis head.
  { logits: { n: 2, c: 4, h: 6, w: 8 }, features: { d: 512, h: 3, w: 4 } },
];

/** Reference maps for one option set, all oriented higher = more anomalous. */
function reference(z: Float32Array, f: Float32Array, s: Size, o: ResolvedForTest & { statistics?: ClassStatistics; standardization?: HeatHeadOptions['standardization'] }) {
  const d = s.logits;
  const fd = { n: d.n, c: s.features.d, h: s.features.h, w: s.features.w };
  const components = o.components.filter((c) => c !== 'mahalanobis' || o.statistics) as RefComponent[];
  const maps: Record<string, Float64Array> = {
    energy: refEnergy(z, d, o.temperature),
    max_logit: refMaxLogit(z, d),
    max_softmax: refMaxSoftmax(z, d),
    entropy: refEntropy(z, d),
    spatial: refSpatial(z, d, o.kernelSize, o.spatialMethod, o.padding),
  };
  if (o.statistics) {
    const coarse = refMahalanobisCoarse(f, fd, o.statistics, o.covariance);
    maps.mahalanobis = refBilinear(coarse, d.n, fd.h, fd.w, d.h, d.w);
  }
  const w = refWeights(z, d, components, o.padding);
  const equal = o.combination === 'equal';
  if (equal) for (const c of ['energy', 'mahalanobis', 'spatial'] as RefComponent[]) w[c] = w[c].map(() => (components.includes(c) ? 1 / components.length : 0));
  maps.weight_energy = w.energy;
  maps.weight_mahalanobis = w.mahalanobis;
  maps.weight_spatial = w.spatial;
  maps.heat = refHeat(maps, w, components, o.combination === 'reliability' ? undefined : o.standardization, equal);
  return maps;
}

type ResolvedForTest = Required<Omit<HeatHeadOptions, 'statistics' | 'outputs' | 'classCount' | 'standardization' | 'featuresInput'>>;

const DEFAULTS: ResolvedForTest = {
  temperature: 1, kernelSize: 3, spatialMethod: 'kl', padding: 'exclude', covariance: 'tied',
  components: ['energy', 'mahalanobis', 'spatial'], combination: 'reliability',
};

async function checkParity(seed: number, s: Size, options: HeatHeadOptions, logitScale = 2): Promise<void> {
  const random = rng(seed);
  const d = s.logits;
  const z = normals(random, d.n * d.c * d.h * d.w, logitScale);
  const f = normals(random, d.n * s.features.d * s.features.h * s.features.w, 1, 0.3);
  const o = { ...DEFAULTS, ...options, components: [...(options.components ?? DEFAULTS.components)] };
  const feeds = {
    logits: { data: z, dims: [d.n, d.c, d.h, d.w] },
    features: { data: f, dims: [d.n, s.features.d, s.features.h, s.features.w] },
  };
  const expected = reference(z, f, s, o);
  // Both graph forms: class sums as ReduceSum (class count unknown) and as a MatMul with ones (known).
  for (const classCount of [undefined, d.c]) {
    const head = buildHeatHead({ ...o, classCount, outputs: undefined });
    const out = await runHead(head.bytes, feeds);
    const label = `${JSON.stringify({ ...options, statistics: undefined, standardization: undefined, classCount })} ${d.n}x${d.c}x${d.h}x${d.w}`;
    for (const [name, values] of Object.entries(expected)) {
      assert.ok(out[name], `${label}: output ${name} missing; graph has ${head.outputs.join(', ')}`);
      assert.deepStrictEqual(out[name].dims, [d.n, d.h, d.w], `${label}: ${name} dims`);
      assertClose(out[name].data as Float32Array, values, `${label}: ${name}`);
    }
    assert.deepStrictEqual(Array.from(out.prediction.data as Int32Array), Array.from(refPrediction(z, d)), `${label}: prediction`);
  }
}

describe('heat heads: parity with the TypeScript reference', () => {
  SIZES.forEach((s, i) => {
    const tag = `${s.logits.n}x${s.logits.c}x${s.logits.h}x${s.logits.w}, features ${s.features.d}x${s.features.h}x${s.features.w}`;
    for (const covariance of ['tied', 'classwise', 'lowrank'] as const) {
      it(`${covariance}: all maps, ${tag}`, async () => {
        const stats = randomStatistics(rng(100 + i), s.logits.c, s.features.d, s.logits.c > 3 ? [1] : []);
        await checkParity(10 + i, s, { covariance, statistics: stats });
      });
    }
    it(`no statistics: all maps, ${tag}`, async () => {
      await checkParity(20 + i, s, { temperature: 1.7 });
    });
  });

  for (const spatialMethod of ['kl', 'variance'] as const) {
    for (const padding of ['exclude', 'zero'] as const) {
      for (const kernelSize of [1, 3, 5]) {
        it(`spatial ${spatialMethod}, padding ${padding}, k = ${kernelSize}`, async () => {
          const stats = randomStatistics(rng(7), 5, 6);
          await checkParity(30 + kernelSize, SIZES[0], { spatialMethod, padding, kernelSize, statistics: stats });
        });
      }
    }
  }

  for (const temperature of [0.5, 2, 10]) {
    it(`energy at temperature ${temperature}`, async () => {
      await checkParity(40, SIZES[1], { temperature });
    });
  }

  it('energy: logits of magnitude 1000', async () => {
    await checkParity(41, SIZES[0], { temperature: 1, components: ['energy', 'spatial'] }, 1000);
  });

  it('combination: standardized and equal', async () => {
    const standardization = { energy: { mean: -3, std: 2 }, mahalanobis: { mean: 4, std: 1.5 }, spatial: { mean: 0.1, std: 0.05 } };
    const stats = randomStatistics(rng(8), 4, 5, [2]);
    for (const combination of ['standardized', 'equal'] as const) {
      await checkParity(50, SIZES[1], { combination, standardization, statistics: stats });
      await checkParity(51, SIZES[1], { combination, standardization });
    }
  });

  it('components: subsets', async () => {
    const stats = randomStatistics(rng(9), 5, 6);
    await checkParity(60, SIZES[0], { components: ['energy'], statistics: stats });
    await checkParity(61, SIZES[0], { components: ['mahalanobis', 'spatial'], statistics: stats });
  });
});

describe('heat heads: graph contract', () => {
  it('no statistics: outputs and inputs', () => {
    const head = buildHeatHead();
    assert.deepStrictEqual(head.inputs, ['logits']);
    assert.deepStrictEqual(head.outputs.sort(), [
      'energy', 'entropy', 'heat', 'max_logit', 'max_softmax', 'prediction', 'spatial', 'weight_energy', 'weight_mahalanobis', 'weight_spatial',
    ]);
    assert.strictEqual(head.variants[0].withoutMahalanobis, true);
    assert.deepStrictEqual(head.variants[0].components, ['energy', 'spatial']);
    assert.match(head.variants[0].notes[0], /energy and spatial consistency only/);
  });

  it('statistics: adds mahalanobis and features', () => {
    const head = buildHeatHead({ statistics: randomStatistics(rng(1), 3, 4) });
    assert.deepStrictEqual(head.inputs, ['logits', 'features']);
    assert.ok(head.outputs.includes('mahalanobis'));
    assert.strictEqual(head.variants[0].withoutMahalanobis, false);
  });

  it('weights: sum to 1 without statistics', async () => {
    const random = rng(3);
    const z = normals(random, 1 * 4 * 5 * 6, 3);
    const out = await runHead(buildHeatHead().bytes, { logits: { data: z, dims: [1, 4, 5, 6] } });
    for (let i = 0; i < 30; i++) {
      const sum = (out.weight_energy.data as Float32Array)[i] + (out.weight_spatial.data as Float32Array)[i];
      assert.ok(Math.abs(sum - 1) < 1e-5, `pixel ${i}: weights sum to ${sum}`);
      assert.strictEqual((out.weight_mahalanobis.data as Float32Array)[i], 0);
    }
  });

  it('probabilities: softmax on request', async () => {
    const z = normals(rng(4), 2 * 3 * 4 * 5);
    const d = { n: 2, c: 3, h: 4, w: 5 };
    const out = await runHead(buildHeatHead({ outputs: ['probabilities', 'prediction'] }).bytes, { logits: { data: z, dims: [2, 3, 4, 5] } });
    assert.deepStrictEqual(out.probabilities.dims, [2, 3, 4, 5]);
    assertClose(out.probabilities.data as Float32Array, refSoftmax(z, d), 'probabilities');
    assert.deepStrictEqual(Object.keys(out).sort(), ['prediction', 'probabilities']);
  });

  it('sml: per predicted class', async () => {
    const stats = randomStatistics(rng(9), 4, 3);
    const maxLogit = { mean: Float64Array.of(2, 3, -1, 0.5), std: Float64Array.of(0.5, 2, 1, 0.25) };
    const z = normals(rng(10), 2 * 4 * 5 * 7, 2);
    const out = await runHead(buildHeatHead({ statistics: { ...stats, maxLogit }, outputs: ['sml', 'max_logit'] }).bytes, { logits: { data: z, dims: [2, 4, 5, 7] } });
    assertClose(out.sml.data as Float32Array, refStandardizedMaxLogit(z, { n: 2, c: 4, h: 5, w: 7 }, maxLogit.mean, maxLogit.std), 'sml');
    assert.deepStrictEqual(Object.keys(out).sort(), ['max_logit', 'sml']);
  });

  it('dynamic size: one graph, two sizes', async () => {
    const stats = randomStatistics(rng(5), 3, 4);
    const head = buildHeatHead({ statistics: stats });
    for (const [h, w, fh, fw] of [[8, 8, 2, 2], [6, 14, 3, 7]]) {
      const z = normals(rng(h), 3 * h * w);
      const f = normals(rng(w), 4 * fh * fw);
      const out = await runHead(head.bytes, { logits: { data: z, dims: [1, 3, h, w] }, features: { data: f, dims: [1, 4, fh, fw] } });
      assert.deepStrictEqual(out.heat.dims, [1, h, w]);
      const expected = refBilinear(refMahalanobisCoarse(f, { n: 1, c: 4, h: fh, w: fw }, stats, 'tied'), 1, fh, fw, h, w);
      assertClose(out.mahalanobis.data as Float32Array, expected, `mahalanobis ${h}x${w}`);
    }
  });

  it('variants: suffixed outputs, one graph', async () => {
    const stats = randomStatistics(rng(6), 4, 5);
    const head = buildHeatHeads([
      { suffix: '_a', temperature: 1, statistics: stats },
      { suffix: '_b', temperature: 2, statistics: stats, covariance: 'classwise', spatialMethod: 'variance', padding: 'zero' },
    ]);
    for (const name of ['energy_a', 'energy_b', 'heat_a', 'heat_b', 'mahalanobis_a', 'mahalanobis_b', 'spatial_b', 'weight_spatial_b', 'max_logit', 'prediction']) {
      assert.ok(head.outputs.includes(name), `missing ${name} in ${head.outputs.join(', ')}`);
    }
    const d = { n: 1, c: 4, h: 6, w: 8 };
    const fd = { n: 1, c: 5, h: 3, w: 4 };
    const z = normals(rng(61), 4 * 6 * 8, 2);
    const f = normals(rng(62), 5 * 3 * 4);
    const out = await runHead(head.bytes, { logits: { data: z, dims: [1, 4, 6, 8] }, features: { data: f, dims: [1, 5, 3, 4] } });
    assertClose(out.energy_a.data as Float32Array, refEnergy(z, d, 1), 'energy_a');
    assertClose(out.energy_b.data as Float32Array, refEnergy(z, d, 2), 'energy_b');
    assertClose(out.spatial_b.data as Float32Array, refSpatial(z, d, 3, 'variance', 'zero'), 'spatial_b');
    assertClose(out.mahalanobis_b.data as Float32Array, refBilinear(refMahalanobisCoarse(f, fd, stats, 'classwise'), 1, 3, 4, 6, 8), 'mahalanobis_b');
    const w = refWeights(z, d, ['energy', 'mahalanobis', 'spatial'], 'zero');
    const m = refBilinear(refMahalanobisCoarse(f, fd, stats, 'classwise'), 1, 3, 4, 6, 8);
    const heat = refHeat({ energy: refEnergy(z, d, 2), mahalanobis: m, spatial: refSpatial(z, d, 3, 'variance', 'zero') }, w, ['energy', 'mahalanobis', 'spatial']);
    assertClose(out.heat_b.data as Float32Array, heat, 'heat_b');
  });

  it('variants: two feature layers, two inputs', async () => {
    const layer3 = randomStatistics(rng(63), 3, 4);
    const layer4 = randomStatistics(rng(64), 3, 6);
    const head = buildHeatHeads([
      { suffix: '_l3', statistics: layer3, outputs: ['mahalanobis'] },
      { suffix: '_l4', statistics: layer4, featuresInput: 'features_l4', outputs: ['mahalanobis'] },
    ]);
    assert.deepStrictEqual(head.inputs, ['logits', 'features', 'features_l4']);
    const f3 = normals(rng(65), 4 * 2 * 3);
    const f4 = normals(rng(66), 6 * 4 * 6);
    const session = await ort.InferenceSession.create(head.bytes);
    const out = await session.run({
      logits: new ort.Tensor('float32', new Float32Array(3 * 4 * 6), [1, 3, 4, 6]),
      features: new ort.Tensor('float32', f3, [1, 4, 2, 3]),
      features_l4: new ort.Tensor('float32', f4, [1, 6, 4, 6]),
    });
    await session.release();
    assertClose(out.mahalanobis_l3.data as Float32Array, refBilinear(refMahalanobisCoarse(f3, { n: 1, c: 4, h: 2, w: 3 }, layer3, 'tied'), 1, 2, 3, 4, 6), 'layer 3');
    assertClose(out.mahalanobis_l4.data as Float32Array, refMahalanobisCoarse(f4, { n: 1, c: 6, h: 4, w: 6 }, layer4, 'tied'), 'layer 4');
  });
});
