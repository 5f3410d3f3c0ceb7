import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { buildHeatHeads, HeatHeadVariant } from '../../src/core/heat';
import type { ClassStatistics } from '../../src/core/stats/types';
import { assertClose, randomStatistics, rng, runHead } from './helpers';

/** Golden values written by fixtures/make_heads_golden.py (PyTorch, float64). */
interface Golden {
  dims: Record<'N' | 'C' | 'H' | 'W' | 'D' | 'h' | 'w', number>;
  emptyClasses: number[];
  inputs: Record<string, number[]>;
  outputs: Record<string, number[]>;
}

const golden = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'heads-torch.json'), 'utf8')) as Golden;
const { N, C, H, W, D, h, w } = golden.dims;

function statistics(): ClassStatistics {
  const i = golden.inputs;
  return {
    ...randomStatistics(rng(1), C, D),
    means: Float64Array.from(i.means),
    counts: Float64Array.from(i.counts),
    emptyClasses: golden.emptyClasses,
    tiedPrecision: Float64Array.from(i.tiedPrecision),
    classPrecisions: Float64Array.from(i.classPrecisions),
    lowRank: { rank: i.lowRankValues.length, vectors: Float64Array.from(i.lowRankVectors), values: Float64Array.from(i.lowRankValues) },
    maxLogit: { mean: Float64Array.from(i.maxLogitMean), std: Float64Array.from(i.maxLogitStd) },
  };
}

/** Every variant of the fixture in one graph, and the golden output each graph output must match. */
function variants(stats: ClassStatistics, classCount: number | undefined): { list: HeatHeadVariant[]; expect: Record<string, string> } {
  const list: HeatHeadVariant[] = [
    { suffix: '', statistics: stats, outputs: ['energy', 'max_logit', 'max_softmax', 'entropy', 'sml', 'prediction', 'mahalanobis', 'weight_energy', 'weight_mahalanobis', 'weight_spatial', 'heat'] },
    { suffix: '_T2', temperature: 2, outputs: ['energy'] },
    { suffix: '_classwise', statistics: stats, covariance: 'classwise', outputs: ['mahalanobis'] },
    { suffix: '_lowrank', statistics: stats, covariance: 'lowrank', outputs: ['mahalanobis'] },
    { suffix: '_zero', statistics: stats, padding: 'zero', outputs: ['weight_energy', 'weight_mahalanobis', 'weight_spatial', 'heat'] },
    { suffix: '_nostats', outputs: ['heat'] },
  ];
  const expect: Record<string, string> = {
    energy: 'energy_T1', energy_T2: 'energy_T2', max_logit: 'max_logit', max_softmax: 'max_softmax', entropy: 'entropy', sml: 'sml',
    prediction: 'prediction', mahalanobis: 'mahalanobis_tied', mahalanobis_classwise: 'mahalanobis_classwise', mahalanobis_lowrank: 'mahalanobis_lowrank',
    weight_energy: 'weight_energy_exclude', weight_mahalanobis: 'weight_mahalanobis_exclude', weight_spatial: 'weight_spatial_exclude', heat: 'heat_exclude',
    weight_energy_zero: 'weight_energy_zero', weight_mahalanobis_zero: 'weight_mahalanobis_zero', weight_spatial_zero: 'weight_spatial_zero', heat_zero: 'heat_zero',
    heat_nostats: 'heat_without_statistics',
  };
  for (const spatialMethod of ['kl', 'variance'] as const) {
    for (const padding of ['exclude', 'zero'] as const) {
      for (const kernelSize of [3, 5]) {
        const suffix = `_${spatialMethod}_${padding}_${kernelSize}`;
        list.push({ suffix, spatialMethod, padding, kernelSize, outputs: ['spatial'] });
        expect[`spatial${suffix}`] = `spatial${suffix}`;
      }
    }
  }
  return { list: list.map((v) => ({ ...v, classCount })), expect };
}

describe('heat heads: PyTorch golden values', () => {
  for (const classCount of [undefined, C]) {
    it(`every map matches, class count ${classCount === undefined ? 'symbolic' : 'fixed'}`, async () => {
      const { list, expect } = variants(statistics(), classCount);
      const head = buildHeatHeads(list);
      const out = await runHead(head.bytes, {
        logits: { data: Float32Array.from(golden.inputs.logits), dims: [N, C, H, W] },
        features: { data: Float32Array.from(golden.inputs.features), dims: [N, D, h, w] },
      });
      assert.deepStrictEqual(Object.keys(out).sort(), Object.keys(expect).sort());
      for (const [name, key] of Object.entries(expect)) {
        const actual = name === 'prediction' ? Float64Array.from(out[name].data as Int32Array) : (out[name].data as Float32Array);
        assertClose(actual, golden.outputs[key], `${name} vs torch ${key}`);
      }
    });
  }
});
