import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { makeConfig, type HeatConfig } from '../../src/core/config';
import { CancelledError, HeatError } from '../../src/core/errors';
import { ElemType, GraphBuilder } from '../../src/core/heat/graph';
import { memoryLogger } from '../../src/core/log';
import { encodeModel } from '../../src/core/model';
import { computeStatistics, computeStatisticsForLayers, mergeStatisticsFiles, readStatistics } from '../../src/core/stats';
import { linearSegmentationModel, SYNTHETIC_FEATURES, SYNTHETIC_LOGITS } from '../../src/core/stats/synthetic';
import { maxRelativeError, random } from './reference';

const H = 12;
const W = 16;
const D = 4;
const C = 3;
const IMAGES = 7;
const ANOMALY = 5;

interface Fixture {
  dir: string;
  pixels: Uint8Array[];
  labels: Uint8Array[];
  modelBytes: Uint8Array;
}

/** Images with random colours; labels in 2×2 blocks: mostly one class per block, some mixed, void (255) and anomaly (5) pixels. */
async function makeFixture(): Promise<Fixture> {
  const dir = mkdtempSync(path.join(tmpdir(), 'heat-stats-run-'));
  mkdirSync(path.join(dir, 'train'));
  mkdirSync(path.join(dir, 'labels'));
  const rand = random(42);
  const weights = {
    w1: Float32Array.from({ length: D * 12 }, () => rand() * 4 - 2), b1: Float32Array.from({ length: D }, () => rand() * 0.2),
    w2: Float32Array.from({ length: C * D }, () => rand() * 4 - 2), b2: Float32Array.from([0, -0.5, 0.5]),
    dim: D, classes: C, upsample: true,
  };
  const modelBytes = linearSegmentationModel(weights);
  writeFileSync(path.join(dir, 'model.onnx'), modelBytes);

  const pixels: Uint8Array[] = [];
  const labels: Uint8Array[] = [];
  for (let k = 0; k < IMAGES; k++) {
    const rgb = Uint8Array.from({ length: H * W * 3 }, () => Math.floor(rand() * 256));
    const label = new Uint8Array(H * W);
    for (let by = 0; by < H / 2; by++) for (let bx = 0; bx < W / 2; bx++) {
      const base = Math.floor(rand() * C);
      const kind = rand();
      for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) {
        let v = base;
        if (kind < 0.1) v = dy === 1 && dx === 1 ? (base + 1) % C : base;
        else if (kind < 0.15) v = 255;
        else if (kind < 0.2) v = dy === 0 ? ANOMALY : base;
        else if (kind < 0.24) v = ANOMALY;
        label[(2 * by + dy) * W + 2 * bx + dx] = v;
      }
    }
    const name = `img${k}`;
    await sharp(Buffer.from(rgb), { raw: { width: W, height: H, channels: 3 } }).png().toFile(path.join(dir, 'train', `${name}.png`));
    await sharp(Buffer.from(label), { raw: { width: W, height: H, channels: 1 } }).png().toFile(path.join(dir, 'labels', `${name}.png`));
    pixels.push(rgb);
    labels.push(label);
  }
  return { dir, pixels, labels, modelBytes };
}

function configFor(dir: string, overrides: Record<string, unknown> = {}): HeatConfig {
  return makeConfig({
    'heat.model.path': 'model.onnx', 'heat.model.featureLayer': SYNTHETIC_FEATURES, 'heat.model.logitsTensor': SYNTHETIC_LOGITS,
    'heat.model.mean': [0, 0, 0], 'heat.model.std': [1, 1, 1], 'heat.model.featureLayout': 'NCHW', 'heat.model.logitsLayout': 'NCHW',
    'heat.executionProvider': 'cpu', 'heat.data.train.images': 'train/*.png', 'heat.data.train.labels': '{dir}/../labels/{stem}.png',
    'heat.labels.anomaly': [ANOMALY], 'heat.statistics.rank': 2, ...overrides,
  }, dir);
}

/** Features and logits from a plain onnxruntime session on the input x = pixel·(1/255), computed here. */
async function referenceOutputs(fixture: Fixture): Promise<{ features: Float32Array; logits: Float32Array }[]> {
  const session = await ort.InferenceSession.create(fixture.modelBytes);
  const outputs: { features: Float32Array; logits: Float32Array }[] = [];
  for (const rgb of fixture.pixels) {
    const x = new Float32Array(3 * H * W);
    for (let c = 0; c < 3; c++) for (let p = 0; p < H * W; p++) x[c * H * W + p] = (rgb[p * 3 + c] * (1 / 255) - 0) / 1;
    const out = await session.run({ image: new ort.Tensor('float32', x, [1, 3, H, W]) });
    outputs.push({ features: out[SYNTHETIC_FEATURES].data as Float32Array, logits: out[SYNTHETIC_LOGITS].data as Float32Array });
  }
  await session.release();
  return outputs;
}

/** Reference statistics by straight loops from the formulas (purity 1 on 2×2 blocks, pooled tied covariance). */
function referenceStatistics(fixture: Fixture, outputs: { features: Float32Array; logits: Float32Array }[], cellLabel: (k: number, by: number, bx: number) => number, pixelKnown: (k: number, p: number) => boolean) {
  const h = H / 2;
  const w = W / 2;
  const rows: number[][][] = Array.from({ length: C }, () => []);
  const maxLogits: number[][] = Array.from({ length: C }, () => []);
  outputs.forEach(({ features, logits }, k) => {
    for (let by = 0; by < h; by++) for (let bx = 0; bx < w; bx++) {
      const c = cellLabel(k, by, bx);
      if (c >= 0) rows[c].push(Array.from({ length: D }, (_, i) => features[i * h * w + by * w + bx]));
    }
    for (let p = 0; p < H * W; p++) {
      if (!pixelKnown(k, p)) continue;
      let best = 0;
      for (let c = 1; c < C; c++) if (logits[c * H * W + p] > logits[best * H * W + p]) best = c;
      maxLogits[best].push(logits[best * H * W + p]);
    }
  });
  const means = rows.map((r) => Array.from({ length: D }, (_, i) => r.reduce((a, v) => a + v[i], 0) / r.length));
  const total = rows.reduce((a, r) => a + r.length, 0);
  const tied = new Array<number>(D * D).fill(0);
  rows.forEach((r, c) => r.forEach((v) => {
    for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) tied[i * D + j] += (v[i] - means[c][i]) * (v[j] - means[c][j]) / (total - 1);
  }));
  // A class never predicted gets mean 0 and std 0 (the file's convention for an empty class).
  const logitMean = maxLogits.map((v) => (v.length > 0 ? v.reduce((a, b) => a + b, 0) / v.length : 0));
  const logitStd = maxLogits.map((v, c) => (v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - logitMean[c]) ** 2, 0) / (v.length - 1)) : 0));
  return { counts: rows.map((r) => r.length), means: means.flat(), tied, logitMean, logitStd, predicted: maxLogits.map((v) => v.length) };
}

describe('stats computeStatistics', function () {
  this.timeout(60000);
  let fixture: Fixture;
  let outputs: { features: Float32Array; logits: Float32Array }[];
  before(async () => {
    fixture = await makeFixture();
    outputs = await referenceOutputs(fixture);
  });
  after(() => rmSync(fixture.dir, { recursive: true, force: true }));

  it('ground truth labels match the straight-loop reference', async () => {
    const out = path.join(fixture.dir, 'gt.safetensors');
    const log = memoryLogger();
    const report = await computeStatistics(configFor(fixture.dir), { out, scatterPrecision: 'float64', log });

    // A 2×2 block becomes a cell of class c only when all four pixels are c (purity 1); void, anomaly and mixed blocks are left out.
    const blockClass = (k: number, by: number, bx: number) => {
      const values = [0, 1].flatMap((dy) => [0, 1].map((dx) => fixture.labels[k][(2 * by + dy) * W + 2 * bx + dx]));
      return values.every((v) => v === values[0]) && values[0] < C ? values[0] : -1;
    };
    const reference = referenceStatistics(fixture, outputs, blockClass, (k, p) => fixture.labels[k][p] < C);
    const stats = await readStatistics(out);
    assert.deepEqual([...stats.counts], reference.counts);
    assert.deepEqual(report.counts.map((c) => c.cells), reference.counts);
    assert.ok(maxRelativeError(stats.means, reference.means) < 1e-9);
    assert.ok(maxRelativeError(stats.tiedCovariance!, reference.tied) < 1e-9);
    assert.ok(maxRelativeError(stats.maxLogit!.mean, reference.logitMean) < 1e-9, `${[...stats.maxLogit!.mean]} vs ${reference.logitMean}`);
    assert.ok(maxRelativeError(stats.maxLogit!.std, reference.logitStd) < 1e-9);
    assert.ok(reference.predicted.filter((n) => n > 1).length >= 2, `predicted pixels per class ${reference.predicted}`);

    // Whole blocks of void or anomaly are tallied as such; half-anomaly blocks are mixed under purity 1.
    let anomalyBlocks = 0;
    let voidBlocks = 0;
    for (let k = 0; k < IMAGES; k++) for (let by = 0; by < H / 2; by++) for (let bx = 0; bx < W / 2; bx++) {
      const values = [0, 1].flatMap((dy) => [0, 1].map((dx) => fixture.labels[k][(2 * by + dy) * W + 2 * bx + dx]));
      if (values.every((v) => v === 255)) voidBlocks++;
      if (values.every((v) => v === ANOMALY)) anomalyBlocks++;
    }
    assert.ok(anomalyBlocks > 0 && voidBlocks > 0);
    assert.equal(report.cells!.ignore, voidBlocks);
    assert.equal(report.cells!.anomaly, anomalyBlocks);
    assert.equal(report.cells!.used, reference.counts.reduce((a, b) => a + b, 0));

    const sha = createHash('sha256').update(fixture.modelBytes).digest('hex');
    assert.equal(stats.metadata.modelSha256, sha);
    assert.equal(stats.metadata.featureTensor, SYNTHETIC_FEATURES);
    assert.equal(stats.metadata.dim, D);
    assert.equal(stats.metadata.imageCount, IMAGES);
    assert.equal(stats.metadata.labelSource, 'groundTruth');
    assert.deepEqual(stats.metadata.regularization, { epsilon: 1e-4, mode: 'absolute' });
    assert.equal(stats.lowRank!.rank, 2);
    assert.equal(report.covariances[0].name, 'tied');
    assert.equal(stats.classCovariances, undefined, 'class-wise only when heat.statistics.covariance asks for it');
    assert.equal(report.covariances.length, 1);
  });

  it('fused moments match reference and separate products', async () => {
    const blockClass = (k: number, by: number, bx: number) => {
      const values = [0, 1].flatMap((dy) => [0, 1].map((dx) => fixture.labels[k][(2 * by + dy) * W + 2 * bx + dx]));
      return values.every((v) => v === values[0]) && values[0] < C ? values[0] : -1;
    };
    const reference = referenceStatistics(fixture, outputs, blockClass, (k, p) => fixture.labels[k][p] < C);
    const config = configFor(fixture.dir, { 'heat.model.inputSize': [H, W] });
    const log = memoryLogger();
    const out = path.join(fixture.dir, 'fused.safetensors');
    const report = await computeStatistics(config, { out, log });
    assert.ok(log.lines.some((l) => l.includes("computed in the model's session")), log.lines.join('\n'));
    const fused = await readStatistics(out);
    assert.deepEqual([...fused.counts], reference.counts);
    assert.equal(report.cells!.used, reference.counts.reduce((a, b) => a + b, 0));
    // float32 products: agreement to float32 rounding, not 1e-9.
    assert.ok(maxRelativeError(fused.means, reference.means) < 1e-5);
    assert.ok(maxRelativeError(fused.tiedCovariance!, reference.tied) < 1e-5);
    assert.ok(maxRelativeError(fused.maxLogit!.mean, reference.logitMean) < 1e-6);
    assert.ok(maxRelativeError(fused.maxLogit!.std, reference.logitStd) < 1e-6);

    const separateLog = memoryLogger();
    const separate = path.join(fixture.dir, 'separate.safetensors');
    await computeStatistics(config, { out: separate, fused: false, log: separateLog });
    assert.ok(!separateLog.lines.some((l) => l.includes("computed in the model's session")));
    const plain = await readStatistics(separate);
    assert.ok(maxRelativeError(fused.tiedCovariance!, plain.tiedCovariance!) < 1e-6);
    assert.ok(maxRelativeError(fused.means, plain.means) < 1e-6);

    // Two layers in one fused pass: each file equals its single-layer pass.
    const [first, second] = await computeStatisticsForLayers(config, [
      { layer: SYNTHETIC_FEATURES, out: path.join(fixture.dir, 'fused-a.safetensors') },
      { layer: 'conv1', out: path.join(fixture.dir, 'fused-b.safetensors') },
    ]);
    assert.equal(first.forwardPasses, IMAGES);
    assert.equal(second.dim, D);
    const a = await readStatistics(first.out);
    assert.ok(maxRelativeError(a.tiedCovariance!, fused.tiedCovariance!) < 1e-7);
    const b = await readStatistics(second.out);
    assert.deepEqual([...b.counts], reference.counts);

    // Without a fixed input size the fused path is not taken, and the debug line gives the reason.
    const dynamicLog = memoryLogger();
    await computeStatistics(configFor(fixture.dir), { out: path.join(fixture.dir, 'dynamic.safetensors'), log: dynamicLog });
    assert.ok(dynamicLog.lines.some((l) => l.startsWith('debug: Class moments are computed outside') && l.includes('heat.model.inputSize')), dynamicLog.lines.join('\n'));
  });

  it('sweep grid with classwise writes class covariances', async () => {
    const out = path.join(fixture.dir, 'classwise.safetensors');
    await computeStatistics(configFor(fixture.dir, { 'heat.sweep.grid': { covariance: ['tied', 'classwise'] } }), { out, scatterPrecision: 'float64' });
    const stats = await readStatistics(out);
    const blockClass = (k: number, by: number, bx: number) => {
      const values = [0, 1].flatMap((dy) => [0, 1].map((dx) => fixture.labels[k][(2 * by + dy) * W + 2 * bx + dx]));
      return values.every((v) => v === values[0]) && values[0] < C ? values[0] : -1;
    };
    const rows: number[][] = [];
    outputs.forEach(({ features }, k) => {
      for (let by = 0; by < H / 2; by++) for (let bx = 0; bx < W / 2; bx++) {
        if (blockClass(k, by, bx) === 2) rows.push(Array.from({ length: D }, (_, i) => features[i * (H / 2) * (W / 2) + by * (W / 2) + bx]));
      }
    });
    const mean = Array.from({ length: D }, (_, i) => rows.reduce((a, r) => a + r[i], 0) / rows.length);
    const cov = Array.from({ length: D * D }, (_, ij) => rows.reduce((a, r) => a + (r[Math.floor(ij / D)] - mean[Math.floor(ij / D)]) * (r[ij % D] - mean[ij % D]), 0) / (rows.length - 1));
    assert.ok(maxRelativeError(stats.classCovariances!.subarray(2 * D * D, 3 * D * D), cov) < 1e-9);
    assert.equal(stats.classPrecisions!.length, C * D * D);
  });

  it('prediction labels: confident argmax cells only, reduced by purity', async () => {
    const out = path.join(fixture.dir, 'pred.safetensors');
    const minConfidence = 0.7;
    // Prediction statistics read no label file, so a label pattern pointing nowhere is no error.
    await computeStatistics(configFor(fixture.dir, {
      'heat.statistics.labelSource': 'prediction', 'heat.statistics.minConfidence': minConfidence, 'heat.data.train.labels': '{dir}/../nolabels/{stem}.png',
    }), { out, scatterPrecision: 'float64' });
    const confident = (k: number, p: number) => {
      const z = Array.from({ length: C }, (_, c) => outputs[k].logits[c * H * W + p]);
      const top = Math.max(...z);
      const best = z.indexOf(top);
      return 1 / z.reduce((a, v) => a + Math.exp(v - top), 0) >= minConfidence ? best : -1;
    };
    const blockClass = (k: number, by: number, bx: number) => {
      const values = [0, 1].flatMap((dy) => [0, 1].map((dx) => confident(k, (2 * by + dy) * W + 2 * bx + dx)));
      return values.every((v) => v === values[0]) ? values[0] : -1;
    };
    const reference = referenceStatistics(fixture, outputs, blockClass, () => true);
    const stats = await readStatistics(out);
    assert.deepEqual([...stats.counts], reference.counts);
    assert.ok(reference.counts.reduce((a, b) => a + b, 0) < IMAGES * (H / 2) * (W / 2), 'some cells fall below the confidence');
    assert.ok(maxRelativeError(stats.tiedCovariance!, reference.tied) < 1e-9);
    assert.ok(maxRelativeError(stats.maxLogit!.mean, reference.logitMean) < 1e-9);
    assert.equal(stats.metadata.labelSource, 'prediction');
  });

  it('shards 0/3, 1/3, 2/3 merged equal one pass within 1e-9', async () => {
    const config = configFor(fixture.dir, { 'heat.statistics.covariance': 'classwise' });
    const single = path.join(fixture.dir, 'single.safetensors');
    await computeStatistics(config, { out: single });
    const shardFiles: string[] = [];
    for (const i of [2, 0, 1]) {
      const report = await computeStatistics(config, { shard: [i, 3], out: undefined });
      assert.equal(report.kind, 'partial');
      assert.equal(report.images, [3, 2, 2][i]);
      shardFiles.push(report.out);
    }
    assert.ok(shardFiles.every((f) => /statistics\.shard-\d-of-3\.safetensors$/.test(f)));
    const merged = path.join(fixture.dir, 'merged.safetensors');
    const report = await mergeStatisticsFiles(shardFiles, merged);
    assert.equal(report.images, IMAGES);

    const a = await readStatistics(single);
    const b = await readStatistics(merged);
    assert.deepEqual([...b.counts], [...a.counts]);
    for (const key of ['means', 'tiedCovariance', 'tiedPrecision', 'classCovariances', 'classPrecisions'] as const) {
      assert.ok(maxRelativeError(b[key]!, a[key]!) < 1e-9, key);
    }
    assert.ok(maxRelativeError(b.lowRank!.values, a.lowRank!.values) < 1e-9);
    assert.ok(maxRelativeError(b.maxLogit!.std, a.maxLogit!.std) < 1e-9);
    assert.equal(b.metadata.imageCount, IMAGES);

    await assert.rejects(mergeStatisticsFiles(shardFiles.slice(0, 2), merged), /Shard 1\/3 is missing/);
    await assert.rejects(mergeStatisticsFiles([shardFiles[0], shardFiles[0], shardFiles[1]], merged), /given twice/);
    const odd = (await computeStatistics(configFor(fixture.dir, { 'heat.statistics.covariance': 'classwise', 'heat.statistics.purity': 0.5 }), { shard: [1, 3], out: path.join(fixture.dir, 'odd.safetensors') })).out;
    await assert.rejects(mergeStatisticsFiles([shardFiles[0], odd, shardFiles[2]], merged), (e: unknown) => e instanceof HeatError && /differs from .* in labelMapping/.test(e.message));
    await assert.rejects(mergeStatisticsFiles([single], merged), /not a partial shard file/);
  });

  it('an aborted run throws CancelledError and leaves no file', async () => {
    const out = path.join(fixture.dir, 'aborted', 'stats.safetensors');
    mkdirSync(path.dirname(out));
    const controller = new AbortController();
    const progress = { report: (done: number) => { if (done === 2) controller.abort(); } };
    await assert.rejects(computeStatistics(configFor(fixture.dir), { out, signal: controller.signal, progress }), CancelledError);
    assert.equal(existsSync(out), false);
    assert.deepEqual(readdirSync(path.dirname(out)), []);
  });

  it('bad input names the setting and fix', async () => {
    await assert.rejects(computeStatistics(configFor(fixture.dir, { 'heat.data.train.images': '' })), /heat\.data\.train\.images is empty/);
    await assert.rejects(computeStatistics(configFor(fixture.dir, { 'heat.data.train.labels': '{dir}/../nolabels/{stem}.png' })), /have no label file/);
    await assert.rejects(computeStatistics(configFor(fixture.dir, { 'heat.model.classNames': ['a', 'b'] }), { out: path.join(fixture.dir, 'x.safetensors') }),
      /heat\.model\.classNames lists 2 classes but the logits "logits" have 3/);
    await assert.rejects(computeStatistics(configFor(fixture.dir), { shard: [3, 3] }), /Shard 3\/3 is out of range/);
    await assert.rejects(computeStatistics(configFor(fixture.dir), { shard: [8, 9] }), /Shard 8\/9 contains none of the 7 images/);
    await assert.rejects(computeStatistics(configFor(fixture.dir, { 'heat.model.featureLayer': 'layer9' })), /Feature layer "layer9"/);
  });

  describe('non-finite model outputs', () => {
    /** Returns a copy of the fixture's folder whose `model.onnx` is `bytes` (images and labels are linked). */
    function withModel(name: string, bytes: Uint8Array): string {
      const dir = path.join(fixture.dir, name);
      mkdirSync(dir);
      for (const sub of ['train', 'labels']) symlinkSync(path.join(fixture.dir, sub), path.join(dir, sub));
      writeFileSync(path.join(dir, 'model.onnx'), bytes);
      return dir;
    }
    const weights = (b2: number[]) => ({
      w1: Float32Array.from({ length: D * 12 }, (_, i) => Math.sin(i)), b1: new Float32Array(D),
      w2: Float32Array.from({ length: C * D }, (_, i) => Math.cos(i)), b2: Float32Array.from(b2), dim: D, classes: C, upsample: true,
    });

    for (const [label, b2] of [['NaN', [Number.NaN, 0, 0]], ['+Inf', [Number.POSITIVE_INFINITY, 0, 0]]] as const) {
      for (const fused of [true, false]) {
        it(`${label} logits stop the pass (${fused ? 'fused' : 'separate'})`, async () => {
          const dir = withModel(`logits-${label}-${fused}`, linearSegmentationModel(weights([...b2])));
          const out = path.join(dir, 'stats.safetensors');
          await assert.rejects(computeStatistics(configFor(dir, { 'heat.model.inputSize': [H, W] }), { out, fused }),
            (e: Error) => e instanceof HeatError && /img0\.png: 192 of 192 pixels have NaN or infinite logits in "logits"/.test(e.message));
          assert.equal(existsSync(out), false);
        });
      }
    }

    it('−Inf logit is accepted', async () => {
      const dir = withModel('logits-minus-inf', linearSegmentationModel(weights([Number.NEGATIVE_INFINITY, 0, 0])));
      const report = await computeStatistics(configFor(dir, { 'heat.model.inputSize': [H, W] }), { out: path.join(dir, 'stats.safetensors') });
      assert.ok(report.cells!.used > 0);
    });

    it('NaN features stop the pass', async () => {
      // features = log(x − 0.5), NaN wherever a pixel is below 128; logits = a 1×1 convolution of the image.
      const g = new GraphBuilder('');
      const image = g.input('image', ElemType.FLOAT, [1, 3, 'H', 'W']);
      g.alias(g.node('Log', [g.node('Sub', [image, g.scalar(0.5)], {}, 'shifted')], {}, 'log'), 'feat');
      g.output('feat', ElemType.FLOAT, [1, 3, 'H', 'W']);
      g.alias(g.node('Conv', [image, g.floats('w', Float64Array.from({ length: C * 3 }, (_, i) => i - 4), [C, 3, 1, 1])], {}, 'conv'), 'logits');
      g.output('logits', ElemType.FLOAT, [1, C, 'H', 'W']);
      const dir = withModel('features-nan', encodeModel(g.toModel('NaN features')));
      for (const fused of [true, false]) {
        const out = path.join(dir, `stats-${fused}.safetensors`);
        await assert.rejects(computeStatistics(configFor(dir, { 'heat.model.inputSize': [H, W], 'heat.model.featureLayer': 'feat' }), { out, fused }),
          (e: Error) => e instanceof HeatError && /img0\.png: the features in "feat" contain NaN or infinite values/.test(e.message), `fused ${fused}`);
        assert.equal(existsSync(out), false);
      }
    });
  });
});
