import { strict as assert } from 'node:assert';
import { detectInputLayout, detectTensorLayout } from '../../src/core/model';

describe('model/layout', () => {
  it('input layout from the axis with 3 or 1 channels', () => {
    assert.equal(detectInputLayout([1, 3, 360, 640]).layout, 'NCHW');
    assert.equal(detectInputLayout([1, 257, 257, 3]).layout, 'NHWC');
    assert.equal(detectInputLayout(['batch', 1, 'h', 'w']).layout, 'NCHW');
    assert.equal(detectInputLayout([1, 'h', 'w', 3]).layout, 'NHWC');
  });

  it('ambiguous input defaults to NCHW and says so', () => {
    const decision = detectInputLayout([1, 3, 3, 3]);
    assert.equal(decision.layout, 'NCHW');
    assert.match(decision.reason, /ambiguous/);
  });

  it('setting overrides detection', () => {
    assert.deepEqual(detectInputLayout([1, 3, 360, 640], 'NHWC').layout, 'NHWC');
    assert.deepEqual(detectTensorLayout([1, 21, 33, 33], {}, 'NHWC').toNchw, true);
  });

  it('logits layout from the class count', () => {
    assert.equal(detectTensorLayout([1, 257, 257, 21], { channels: 21 }).layout, 'NHWC');
    assert.equal(detectTensorLayout([1, 2, 360, 640], { channels: 2 }).layout, 'NCHW');
  });

  it('features layout from the input aspect ratio', () => {
    // ResNet-like features 1024 × 64 × 128 of a 512 × 1024 input: many channels, yet NCHW.
    assert.equal(detectTensorLayout([1, 1024, 64, 128], { inputSize: [512, 1024] }).layout, 'NCHW');
    assert.equal(detectTensorLayout([1, 64, 128, 1024], { inputSize: [512, 1024] }).layout, 'NHWC');
    assert.equal(detectTensorLayout([1, 256, 33, 33], { inputSize: [257, 257] }).layout, 'NCHW');
    assert.equal(detectTensorLayout([1, 512, 896, 4], { inputSize: [512, 896] }).layout, 'NHWC');
  });

  it('without hints the axis unlike the spatial axis 2 holds channels', () => {
    assert.equal(detectTensorLayout([1, 21, 257, 257]).layout, 'NCHW');
    assert.equal(detectTensorLayout([1, 257, 257, 21]).layout, 'NHWC');
    assert.equal(detectTensorLayout([1, 4, 256, 448]).layout, 'NCHW');
  });

  it('NHWC decision asks for a transpose to NCHW', () => {
    assert.equal(detectTensorLayout([1, 257, 257, 21]).toNchw, true);
    assert.equal(detectTensorLayout([1, 21, 257, 257]).toNchw, false);
  });

  it('rank other than 4 is an error naming the shape', () => {
    assert.throws(() => detectTensorLayout([1, 21, 257], {}, 'auto', 'logits tensor'), /logits tensor has shape \[1, 21, 257\] \(rank 3\)/);
    assert.throws(() => detectInputLayout([3, 224, 224]), /model input has shape \[3, 224, 224\]/);
  });
});
