import { strict as assert } from 'node:assert';
import { detectProbabilities, listTensors, loadModel, preSoftmaxCandidates } from '../../src/core/model';
import { requireFile, ROADSEG } from './helpers';

/** Softmax over classes of [C, P] logits laid out with class stride `classStride` and pixel stride `pixelStride`. */
function softmaxInto(out: Float32Array, logits: number[][], classStride: number, pixelStride: number): void {
  logits.forEach((pixel, p) => {
    const max = Math.max(...pixel);
    const exps = pixel.map((z) => Math.exp(z - max));
    const sum = exps.reduce((a, b) => a + b, 0);
    exps.forEach((e, c) => { out[c * classStride + p * pixelStride] = e / sum; });
  });
}

describe('model/detectProbabilities', () => {
  const pixels = [[2, -1, 0.5], [0, 0, 0], [10, 0, -3], [-2, 4, 1]];

  it('softmax output over axis 1 (NCHW) is detected', () => {
    const data = new Float32Array(12);
    softmaxInto(data, pixels, 4, 1);
    const check = detectProbabilities(data, [1, 3, 2, 2], 1);
    assert.equal(check.probabilities, true);
    assert.ok(check.maxSumError < 1e-6);
  });

  it('softmax output over the last axis (NHWC) is detected', () => {
    const data = new Float32Array(12);
    softmaxInto(data, pixels, 1, 3);
    assert.equal(detectProbabilities(data, [1, 2, 2, 3], 3).probabilities, true);
    // The same data read over the wrong axis does not sum to 1.
    assert.equal(detectProbabilities(data, [1, 3, 2, 2], 1).probabilities, false);
  });

  it('raw logits are not probabilities', () => {
    const data = Float32Array.from(pixels.flat());
    assert.equal(detectProbabilities(data, [1, 2, 2, 3], 3).probabilities, false);
  });

  it('sigmoid outputs are not probabilities', () => {
    const data = Float32Array.from([0.9, 0.8, 0.1, 0.7, 0.2, 0.3, 0.6, 0.5]);
    assert.equal(detectProbabilities(data, [1, 2, 2, 2], 1).probabilities, false);
  });

  it('NaN values are never probabilities', () => {
    const data = Float32Array.from([0.5, NaN, 0.5, 0.5]);
    assert.equal(detectProbabilities(data, [1, 2, 1, 2], 1).probabilities, false);
  });

  it('road-segmentation-adas output is reported with its pre-softmax tensor (case 11, real model)', async function () {
    requireFile(this, ROADSEG);
    this.timeout(120000);
    const loaded = await loadModel(ROADSEG);
    const inspection = await listTensors(loaded);
    assert.equal(inspection.warnings.length, 1);
    assert.match(inspection.warnings[0], /Output "tf\.identity" holds probabilities/);
    assert.match(inspection.warnings[0], /heat\.model\.logitsTensor to a pre-softmax tensor: "StatefulPartitionedCall\/model\/lambda_4\/resize\/ResizeBilinear:0"/);
    const candidates = preSoftmaxCandidates(loaded.proto, 'tf.identity', [...inspection.outputs, ...inspection.intermediates]);
    assert.equal(candidates[0], 'StatefulPartitionedCall/model/lambda_4/resize/ResizeBilinear:0');
    assert.ok(candidates.includes('Conv__1002:0'), candidates.join(', '));
  });
});
