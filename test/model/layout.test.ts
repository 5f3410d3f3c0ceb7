import { strict as assert } from 'node:assert';
import type { TensorInfo } from '../../src/core/api';
import { makeConfig } from '../../src/core/config';
import { decideLayouts, detectInputLayout, detectTensorLayout } from '../../src/core/model';

const tensor = (name: string, shape: (number | string)[] | null): TensorInfo => ({ name, kind: 'intermediate', op: '', node: '', shape, measured: false, dtype: 'float32' });

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
    assert.deepEqual(detectInputLayout([1, 3, 360, 3], 'NHWC').layout, 'NHWC');
    assert.deepEqual(detectTensorLayout([1, 21, 33, 33], {}, 'NHWC').toNchw, true);
  });

  it('setting the shape rules out is rejected', () => {
    assert.throws(() => detectInputLayout([1, 3, 360, 640], 'NHWC'),
      /^HeatError: heat\.model\.inputLayout is "NHWC", but the model input has shape \[1, 3, 360, 640\], whose axis 1 has the 3 colour channels, so it is NCHW\./);
    assert.throws(() => detectTensorLayout([1, 13, 128, 256], { inputSize: [128, 256] }, 'NHWC', 'logits tensor', 'heat.model.logitsLayout'),
      /heat\.model\.logitsLayout is "NHWC", but the logits tensor has shape \[1, 13, 128, 256\]: its axes 2, 3 have the input's aspect ratio \(128 × 256\), so it is NCHW\./);
    assert.throws(() => detectTensorLayout([1, 257, 257, 21], { channels: 21 }, 'NCHW', 'logits tensor', 'heat.model.logitsLayout'),
      /its axis 3 has the 21 channels, so it is NHWC/);
    // Off by 26 % while the other layout matches exactly: doubtful, so a warning rather than an error.
    const doubtful = detectTensorLayout([1, 32, 45, 80], { inputSize: [360, 640] }, 'NHWC', 'feature tensor', 'heat.model.featureLayout');
    assert.equal(doubtful.layout, 'NHWC');
    assert.match(doubtful.warning ?? '', /^heat\.model\.featureLayout is "NHWC", but the feature tensor has shape \[1, 32, 45, 80\]: its axes 2, 3 have the input's aspect ratio \(360 × 640\)/);
    assert.equal(detectTensorLayout([1, 45, 80, 32], { inputSize: [360, 640] }, 'NHWC', 'feature tensor', 'heat.model.featureLayout').warning, undefined);
    // Without the setting key (callers that only detect) and without evidence, the setting is kept.
    assert.equal(detectTensorLayout([1, 13, 128, 256], { inputSize: [128, 256] }, 'NHWC').layout, 'NHWC');
    assert.equal(detectTensorLayout([1, 64, 64, 64], { inputSize: [64, 64] }, 'NHWC', 'logits tensor', 'heat.model.logitsLayout').layout, 'NHWC');
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

  it('decideLayouts matches DeepLabV3 tensors', () => {
    const layouts = decideLayouts(makeConfig({}, '/tmp'), {
      input: tensor('sub_7', [1, 257, 257, 3]),
      logits: tensor('ResizeBilinear_3', [1, 257, 257, 21]),
      features: tensor('Relu__94:0', [1, 256, 33, 33]),
    }, 21);
    assert.deepEqual([layouts.input.layout, layouts.logits.layout, layouts.features?.layout], ['NHWC', 'NHWC', 'NCHW']);
    assert.deepEqual([layouts.logits.toNchw, layouts.features?.toNchw], [true, false]);
  });

  it('decideLayouts honours the layout settings', () => {
    const config = makeConfig({ 'heat.model.logitsLayout': 'NCHW', 'heat.model.featureLayout': 'NHWC' }, '/tmp');
    const layouts = decideLayouts(config, { input: tensor('x', [1, 3, 64, 64]), logits: tensor('y', [1, 64, 64, 64]), features: tensor('f', [1, 8, 8, 32]) });
    assert.deepEqual([layouts.logits.layout, layouts.features?.layout], ['NCHW', 'NHWC']);
  });

  it('decideLayouts needs known shapes', () => {
    assert.throws(() => decideLayouts(makeConfig({}, '/tmp'), { input: tensor('x', [1, 3, 8, 8]), logits: tensor('y', null) }), /shape of logits tensor "y" is unknown/);
  });
});
