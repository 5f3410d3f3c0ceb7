import { strict as assert } from 'node:assert';
import {
  accumulateFeatures, accumulateFusedImage, accumulateScalars, emptyMoments, emptyScalarMoments, FeatureGrid, mergeMoments, MergeTerms,
  type FusedImageMoments,
} from '../../src/core/stats/accumulator';
import { accumulateKnownPeaks } from '../../src/core/stats/compute';
import { ScatterEngine } from '../../src/core/stats/scatter';
import { finalizeStatistics } from '../../src/core/stats/finalize';
import { HeatError } from '../../src/core/errors';
import { gaussian, maxRelativeError, random, twoPass } from './reference';

/** Several images of h×w cells with D channels (NCHW) and a class per cell; features are float32-exact. */
function makeImages(count: number, d: number, classCount: number, offset: number, seed: number) {
  const rand = random(seed);
  const h = 5;
  const w = 7;
  const images: { grid: FeatureGrid; classes: Int32Array }[] = [];
  const rowsByClass: number[][][] = Array.from({ length: classCount }, () => []);
  for (let k = 0; k < count; k++) {
    const data = new Float32Array(d * h * w);
    const classes = new Int32Array(h * w);
    for (let p = 0; p < h * w; p++) {
      const c = rand() < 0.15 ? -1 : Math.floor(rand() * classCount);
      classes[p] = c;
      const row: number[] = [];
      for (let i = 0; i < d; i++) {
        const value = Math.fround(offset + (c + 1) * (i % 3) + (1 + i * 0.1) * gaussian(rand));
        data[i * h * w + p] = value;
        row.push(value);
      }
      if (c >= 0) rowsByClass[c].push(row);
    }
    images.push({ grid: { data, channels: d, height: h, width: w, layout: 'NCHW' }, classes });
  }
  return { images, rowsByClass };
}

describe('stats accumulator', () => {
  let engine64: ScatterEngine;
  let engine32: ScatterEngine;
  before(async () => {
    engine64 = await ScatterEngine.create('float64');
    engine32 = await ScatterEngine.create('float32');
  });
  after(async () => {
    await engine64.release();
    await engine32.release();
  });

  for (const d of [5, 64, 257]) {
    it(`scatter engine: blocked X·Xᵀ equals straight loops (D = ${d})`, async () => {
      const n = 37;
      const rand = random(d);
      const x = Float64Array.from({ length: d * n }, () => gaussian(rand));
      const expected = new Array<number>(d * d).fill(0);
      for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) for (let k = 0; k < n; k++) expected[i * d + j] += x[i * n + k] * x[j * n + k];
      const exact = engine64.allocate(d, n) as Float64Array;
      exact.set(x);
      assert.ok(maxRelativeError(await engine64.scatter(exact, d, n), expected) < 1e-12);
      const single = engine32.allocate(d, n);
      single.set(x);
      const target = new Float64Array(d * d).fill(1);
      await engine32.addScatter(target, single, d, n);
      assert.ok(maxRelativeError(target.map((v) => v - 1), expected) < 1e-5);
    });
  }

  for (const offset of [0, 1e4]) {
    it(`merged image batches equal one float64 two-pass within 1e-9 (offset ${offset})`, async () => {
      const d = 6;
      const { images, rowsByClass } = makeImages(9, d, 3, offset, 7);
      const moments = emptyMoments(3, d);
      for (const image of images) await accumulateFeatures(moments, engine64, image.grid, image.classes);
      for (let c = 0; c < 3; c++) {
        const reference = twoPass(rowsByClass[c], d);
        assert.equal(moments.counts[c], rowsByClass[c].length);
        assert.ok(maxRelativeError(moments.means.subarray(c * d, (c + 1) * d), reference.mean) < 1e-9);
        const scatter = moments.scatters.subarray(c * d * d, (c + 1) * d * d);
        assert.ok(maxRelativeError(scatter, reference.scatter) < 1e-9, `class ${c}: ${maxRelativeError(scatter, reference.scatter)}`);
      }
    });
  }

  it('float32 scatter of centred blocks stays within 1e-5 with features offset by 1e4', async () => {
    const d = 6;
    const { images, rowsByClass } = makeImages(9, d, 3, 1e4, 11);
    const moments = emptyMoments(3, d);
    for (const image of images) await accumulateFeatures(moments, engine32, image.grid, image.classes);
    const reference = twoPass(rowsByClass[1], d);
    const scatter = moments.scatters.subarray(d * d, 2 * d * d);
    const scale = Math.max(...reference.scatter.map(Math.abs));
    const worst = Math.max(...reference.scatter.map((v, i) => Math.abs(scatter[i] - v))) / scale;
    assert.ok(worst < 1e-5, `relative error ${worst}`);
  });

  it('merging shard moments equals accumulating everything in one pass', async () => {
    const d = 5;
    const { images } = makeImages(8, d, 4, 100, 3);
    const single = emptyMoments(4, d);
    for (const image of images) await accumulateFeatures(single, engine64, image.grid, image.classes);
    const shards = [emptyMoments(4, d), emptyMoments(4, d), emptyMoments(4, d)];
    for (let k = 0; k < images.length; k++) await accumulateFeatures(shards[k % 3], engine64, images[k].grid, images[k].classes);
    const merged = emptyMoments(4, d);
    for (const shard of [shards[2], shards[0], shards[1]]) mergeMoments(merged, shard);
    assert.deepEqual([...merged.counts], [...single.counts]);
    assert.ok(maxRelativeError(merged.means, single.means) < 1e-12);
    assert.ok(maxRelativeError(merged.scatters, single.scatters) < 1e-9);
  });

  for (const offset of [0, 1e4]) {
    it(`pooled scatter equals summed class scatters (offset ${offset})`, async () => {
      const d = 6;
      const { images, rowsByClass } = makeImages(9, d, 3, offset, 17);
      const pooled = emptyMoments(3, d, 'pooled');
      for (const image of images) await accumulateFeatures(pooled, engine64, image.grid, image.classes);
      const expected = new Array<number>(d * d).fill(0);
      for (let c = 0; c < 3; c++) twoPass(rowsByClass[c], d).scatter.forEach((v, i) => { expected[i] += v; });
      assert.equal(pooled.scatters.length, d * d);
      assert.ok(maxRelativeError(pooled.scatters, expected) < 1e-9, `${maxRelativeError(pooled.scatters, expected)}`);
      for (let c = 0; c < 3; c++) assert.ok(maxRelativeError(pooled.means.subarray(c * d, (c + 1) * d), twoPass(rowsByClass[c], d).mean) < 1e-9);
    });
  }

  it('pooled shards with float32 products merge to the single pass within 1e-9', async () => {
    const d = 8;
    const { images } = makeImages(10, d, 4, 50, 23);
    const single = emptyMoments(4, d, 'pooled');
    for (const image of images) await accumulateFeatures(single, engine32, image.grid, image.classes);
    const shards = [emptyMoments(4, d, 'pooled'), emptyMoments(4, d, 'pooled')];
    for (let k = 0; k < images.length; k++) await accumulateFeatures(shards[k % 2], engine32, images[k].grid, images[k].classes);
    const merged = emptyMoments(4, d, 'pooled');
    mergeMoments(merged, shards[1]);
    mergeMoments(merged, shards[0]);
    assert.ok(maxRelativeError(merged.scatters, single.scatters) < 1e-9);
    assert.ok(maxRelativeError(merged.means, single.means) < 1e-12);
    assert.throws(() => mergeMoments(merged, emptyMoments(4, d, 'classwise')), /Cannot merge classwise statistics/);
  });

  it('NHWC and NCHW feature layouts give the same moments', async () => {
    const d = 4;
    const { images } = makeImages(2, d, 2, 0, 5);
    const nchw = emptyMoments(2, d);
    const nhwc = emptyMoments(2, d);
    for (const { grid, classes } of images) {
      await accumulateFeatures(nchw, engine64, grid, classes);
      const cells = grid.height * grid.width;
      const data = new Float32Array(grid.data.length);
      for (let p = 0; p < cells; p++) for (let i = 0; i < d; i++) data[p * d + i] = grid.data[i * cells + p];
      await accumulateFeatures(nhwc, engine64, { ...grid, data, layout: 'NHWC' }, classes);
    }
    assert.ok(maxRelativeError(nhwc.scatters, nchw.scatters) < 1e-12);
    assert.ok(maxRelativeError(nhwc.means, nchw.means) < 1e-12);
  });

  it('rejects a feature map whose D differs and a class id beyond C', async () => {
    const grid: FeatureGrid = { data: new Float32Array(8), channels: 2, height: 2, width: 2, layout: 'NCHW' };
    await assert.rejects(accumulateFeatures(emptyMoments(2, 3), engine64, grid, new Int32Array(4)), HeatError);
    await assert.rejects(accumulateFeatures(emptyMoments(2, 2), engine64, grid, Int32Array.from([0, 1, 2, -1])), /Class 2 is outside the 2 classes/);
  });

  it('scalar moments per class match a two-pass mean and variance', () => {
    const rand = random(9);
    const target = emptyScalarMoments(2);
    const all: number[][] = [[], []];
    for (let k = 0; k < 4; k++) {
      const values = Float32Array.from({ length: 50 }, () => 1e3 + gaussian(rand));
      const classes = Int32Array.from({ length: 50 }, () => Math.floor(rand() * 3) - 1);
      values.forEach((v, p) => { if (classes[p] >= 0) all[classes[p]].push(v); });
      accumulateScalars(target, values, classes);
    }
    for (let c = 0; c < 2; c++) {
      const mean = all[c].reduce((a, b) => a + b, 0) / all[c].length;
      const m2 = all[c].reduce((a, b) => a + (b - mean) ** 2, 0);
      assert.equal(target.counts[c], all[c].length);
      assert.ok(Math.abs(target.means[c] - mean) < 1e-9);
      assert.ok(Math.abs(target.m2[c] - m2) / m2 < 1e-9);
    }
  });
  it('known-pixel max-logit moments near 1e3', () => {
    const rand = random(11);
    const target = emptyScalarMoments(3);
    const all: number[][] = [[], [], []];
    for (let k = 0; k < 3; k++) {
      // Logits grid 6×8 against a 12×16 label: each logits pixel reads the label pixel at (2y + 1, 2x + 1).
      const argmax = Int32Array.from({ length: 48 }, () => Math.floor(rand() * 3));
      const maxLogit = Float32Array.from({ length: 48 }, () => 1e3 + gaussian(rand));
      const values = Uint8Array.from({ length: 12 * 16 }, () => [0, 1, 2, 13, 255][Math.floor(rand() * 5)]);
      for (let p = 0; p < 48; p++) {
        const v = values[(2 * Math.floor(p / 8) + 1) * 16 + 2 * (p % 8) + 1];
        if (v !== 13 && v !== 255) all[argmax[p]].push(maxLogit[p]);
      }
      accumulateKnownPeaks(target, { argmax, maxLogit }, { height: 6, width: 8 }, { values, width: 16, height: 12 }, [13]);
    }
    for (let c = 0; c < 3; c++) {
      const mean = all[c].reduce((a, b) => a + b, 0) / all[c].length;
      const m2 = all[c].reduce((a, b) => a + (b - mean) ** 2, 0);
      assert.equal(target.counts[c], all[c].length);
      assert.ok(Math.abs(target.means[c] - mean) / mean < 1e-12);
      assert.ok(Math.abs(target.m2[c] - m2) / m2 < 1e-9, `class ${c}: ${target.m2[c]} against ${m2}`);
    }
  });

  it('queued merge terms equal direct products', async () => {
    const d = 6;
    const classCount = 3;
    const { images, rowsByClass } = makeImages(9, d, classCount, 1e4, 13);
    // Head outputs as fused.ts computes them, here by loops: float32 means, residuals and centred scatter.
    const fusedOf = (grid: FeatureGrid, classes: Int32Array): FusedImageMoments => {
      const n = grid.height * grid.width;
      const counts = new Float64Array(classCount);
      const sums = new Float64Array(d * classCount);
      for (let p = 0; p < n; p++) {
        if (classes[p] < 0) continue;
        counts[classes[p]]++;
        for (let i = 0; i < d; i++) sums[i * classCount + classes[p]] += grid.data[i * n + p];
      }
      const means = Float32Array.from(sums, (s, k) => (counts[k % classCount] > 0 ? s / counts[k % classCount] : 0));
      const residuals = new Float32Array(d * classCount);
      const scatter = new Float64Array(d * d);
      for (let p = 0; p < n; p++) {
        const c = classes[p];
        if (c < 0) continue;
        const y = Array.from({ length: d }, (_, i) => grid.data[i * n + p] - means[i * classCount + c]);
        y.forEach((v, i) => { residuals[i * classCount + c] += v; });
        for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) scatter[i * d + j] += y[i] * y[j];
      }
      return { counts, means, residuals, scatter: Float32Array.from(scatter) };
    };
    const queued = emptyMoments(classCount, d, 'pooled');
    const direct = emptyMoments(classCount, d, 'pooled');
    const terms = new MergeTerms(queued, engine64, 4);
    for (const image of images) {
      const fused = fusedOf(image.grid, image.classes);
      await accumulateFusedImage(queued, engine64, fused, terms);
      await accumulateFusedImage(direct, engine64, fused);
    }
    await terms.flush();
    assert.ok(maxRelativeError(queued.scatters, direct.scatters) < 1e-12);
    assert.deepEqual([...queued.means], [...direct.means]);
    const pooled = new Array<number>(d * d).fill(0);
    for (const rows of rowsByClass) twoPass(rows, d).scatter.forEach((v, i) => { pooled[i] += v; });
    // Float32 storage of the head's scatter leaves about 2.5e-7 here; without the mean correction the error is 1.1e-6.
    assert.ok(maxRelativeError(queued.scatters, pooled) < 5e-7, `${maxRelativeError(queued.scatters, pooled)}`);
  });
});

describe('stats tied covariance', () => {
  it('sizes 1000 and 10: pooled, not mean of class covariances', async () => {
    const d = 3;
    const rand = random(21);
    const rows: number[][][] = [[], []];
    for (let k = 0; k < 1000; k++) rows[0].push([0.5 * gaussian(rand), 0.5 * gaussian(rand) + 3, 0.5 * gaussian(rand)]);
    for (let k = 0; k < 10; k++) rows[1].push([5 * gaussian(rand) + 10, 5 * gaussian(rand), 5 * gaussian(rand) - 4]);

    // Feed them as two images of one row each, class per cell.
    const engine = await ScatterEngine.create('float64');
    const moments = emptyMoments(2, d);
    for (const c of [0, 1]) {
      const n = rows[c].length;
      const data = new Float32Array(d * n);
      rows[c].forEach((row, p) => row.forEach((v, i) => { data[i * n + p] = v; }));
      const exact = Array.from(data);
      rows[c] = rows[c].map((_, p) => [exact[p], exact[n + p], exact[2 * n + p]]);
      await accumulateFeatures(moments, engine, { data, channels: d, height: 1, width: n, layout: 'NCHW' }, new Int32Array(n).fill(c));
    }
    await engine.release();
    const { statistics } = finalizeStatistics(moments, { regularization: 1e-4, regularizationMode: 'absolute', rank: 2 });

    // Pooled reference by straight loops: Σ_c Σ_i (x − μc)(x − μc)ᵀ / (N − 1).
    const pooled = new Array<number>(d * d).fill(0);
    const classCov: number[][] = [];
    for (const c of [0, 1]) {
      const mean = [0, 1, 2].map((i) => rows[c].reduce((a, r) => a + r[i], 0) / rows[c].length);
      const cov = new Array<number>(d * d).fill(0);
      for (const r of rows[c]) for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) {
        const term = (r[i] - mean[i]) * (r[j] - mean[j]);
        pooled[i * d + j] += term;
        cov[i * d + j] += term / (rows[c].length - 1);
      }
      classCov.push(cov);
    }
    for (let i = 0; i < d * d; i++) pooled[i] /= 1010 - 1;
    const meanOfClass = classCov[0].map((v, i) => (v + classCov[1][i]) / 2);

    assert.ok(maxRelativeError(statistics.tiedCovariance!, pooled) < 1e-9);
    assert.ok(Math.abs(statistics.tiedCovariance![0] - meanOfClass[0]) > 5, `tied ${statistics.tiedCovariance![0]} vs mean ${meanOfClass[0]}`);
    assert.ok(maxRelativeError(statistics.classCovariances!.subarray(d * d), classCov[1]) < 1e-9);
  });
});
