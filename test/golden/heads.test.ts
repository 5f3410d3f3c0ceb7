/**
 * HEAT head graphs against the PyTorch golden maps: the golden logits and layer3 features of three sample
 * crops go into the heads, and every map must match within 1e-4 (relative, see mapError).
 */
import * as assert from 'assert';
import * as ort from 'onnxruntime-node';
import { buildHeatHead, ScoreNormalizer, type HeatHeadOptions } from '../../src/core/heat';
import { assertMap, assertScalar, golden, goldenArray, goldenFloat32, goldenStatistics, imageSlice } from './golden';

const IMAGES = 3;

/** Runs a head built with `options` on the golden logits and features; returns every output's data. */
async function runGoldenHead(options: HeatHeadOptions): Promise<Record<string, Float32Array>> {
  const head = buildHeatHead({ classCount: 13, ...options });
  const session = await ort.InferenceSession.create(head.bytes);
  try {
    const logits = goldenArray('logits');
    const features = goldenArray('features');
    const feeds: Record<string, ort.Tensor> = { logits: new ort.Tensor('float32', logits.data as Float32Array, logits.shape) };
    if (session.inputNames.includes('features')) feeds.features = new ort.Tensor('float32', features.data as Float32Array, features.shape);
    const out = await session.run(feeds);
    return Object.fromEntries(Object.entries(out).map(([name, tensor]) => [name, tensor.data as Float32Array]));
  } finally {
    await session.release();
  }
}

function negated(data: Float32Array): Float32Array {
  return data.map((v) => -v);
}

/** Channel k of a [N, 3, H, W] weight array, as [N, H, W]. */
function weightChannel(name: string, k: number): Float32Array {
  const all = goldenFloat32(name);
  const plane = all.length / (IMAGES * 3);
  const out = new Float32Array(IMAGES * plane);
  for (let i = 0; i < IMAGES; i++) out.set(all.subarray((i * 3 + k) * plane, (i * 3 + k + 1) * plane), i * plane);
  return out;
}

describe('golden: HEAT heads vs PyTorch', function () {
  this.timeout(60_000);
  const statistics = goldenStatistics();

  it('energy at T = 1 and T = 2', async () => {
    for (const t of golden().settings.temperatures) {
      const out = await runGoldenHead({ temperature: t, outputs: ['energy'] });
      assertMap(out.energy, goldenFloat32(`energy_t${t}`), 'energy');
    }
  });

  it('max logit, max softmax and entropy', async () => {
    const out = await runGoldenHead({ outputs: ['max_logit', 'max_softmax', 'entropy'] });
    // The heads return anomaly scores (higher = more anomalous), the golden files the raw maxima.
    assertMap(out.max_logit, negated(goldenFloat32('max_logit')), 'max logit');
    assertMap(out.max_softmax, negated(goldenFloat32('max_softmax')), 'max softmax');
    assertMap(out.entropy, goldenFloat32('entropy'), 'entropy');
  });

  it('mahalanobis tied and class-wise', async () => {
    for (const covariance of ['tied', 'classwise'] as const) {
      const out = await runGoldenHead({ statistics, covariance, outputs: ['mahalanobis'] });
      assertMap(out.mahalanobis, goldenFloat32(`mahalanobis_${covariance}`), `mahalanobis ${covariance}`);
    }
  });

  it('spatial KL and variance, both paddings', async () => {
    for (const method of ['kl', 'variance'] as const) {
      for (const padding of ['exclude', 'zero'] as const) {
        const out = await runGoldenHead({ spatialMethod: method, padding, kernelSize: 3, outputs: ['spatial'] });
        assertMap(out.spatial, goldenFloat32(`spatial_${method === 'kl' ? 'kl' : 'variance'}_${padding}`), `spatial ${method} ${padding}`);
      }
    }
  });

  it('reliability weights, both paddings', async () => {
    for (const padding of ['exclude', 'zero'] as const) {
      const out = await runGoldenHead({ statistics, padding, outputs: ['weight_energy', 'weight_mahalanobis', 'weight_spatial'] });
      assertMap(out.weight_energy, weightChannel(`weights_${padding}`, 0), `weight energy ${padding}`);
      assertMap(out.weight_mahalanobis, weightChannel(`weights_${padding}`, 1), `weight mahalanobis ${padding}`);
      assertMap(out.weight_spatial, weightChannel(`weights_${padding}`, 2), `weight spatial ${padding}`);
    }
  });

  it('combined HEAT score', async () => {
    const s = golden().settings;
    const out = await runGoldenHead({ statistics, covariance: 'tied', temperature: 1, kernelSize: s.kernelSize, padding: 'exclude', spatialMethod: 'kl', outputs: ['heat'] });
    assertMap(out.heat, goldenFloat32('heat'), 'heat');
  });

  it('heat ranks anomaly pixels above known ones', () => {
    // A sanity check on the golden data itself: if this fails, the fixtures are wrong, not the engine.
    const heat = goldenFloat32('heat');
    const labels = goldenArray('labels').data as Uint8Array;
    let anomaly = 0;
    let known = 0;
    let nA = 0;
    let nK = 0;
    for (let i = 0; i < heat.length; i++) {
      if (labels[i] === 13) { anomaly += heat[i]; nA++; } else if (labels[i] !== 255) { known += heat[i]; nK++; }
    }
    assert.ok(nA > 0, 'the crops hold anomaly pixels');
    assert.ok(nK > 0, 'the crops hold known pixels');
    assert.ok(anomaly / nA > known / nK, `mean HEAT on anomaly ${anomaly / nA} is not above known ${known / nK}`);
  });
});

describe('golden: adaptive normalizer vs PyTorch', () => {
  it('EMA over three images in order', () => {
    const heat = goldenFloat32('heat');
    const expected = goldenFloat32('heat_normalized');
    const normalizer = new ScoreNormalizer({ mode: 'adaptive', alpha: golden().settings.alpha });
    golden().normalizer.forEach((state, i) => {
      const out = normalizer.normalize(imageSlice(heat, IMAGES, i));
      const current = normalizer.current;
      assert.ok(current, 'state after a batch');
      assertScalar(current.mean, state.mean, 'normalizer mean', 1e-6);
      assertScalar(current.std, state.std, 'normalizer std', 1e-6);
      assertMap(out, imageSlice(expected, IMAGES, i), 'heat normalized');
    });
  });
});
