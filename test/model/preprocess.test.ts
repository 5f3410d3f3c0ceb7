import { strict as assert } from 'node:assert';
import type { TensorInfo } from '../../src/core/api';
import { makeConfig } from '../../src/core/config';
import { HeatError } from '../../src/core/errors';
import { preprocess, preprocessSettings, type PreprocessSettings, type RgbImage } from '../../src/core/model';

/** 2×3 image (height 2, width 3), RGB per pixel. */
const IMAGE: RgbImage = {
  width: 3, height: 2, source: 'test.png',
  data: Uint8Array.from([
    0, 10, 20, 30, 40, 50, 60, 70, 80,
    90, 100, 110, 120, 130, 140, 250, 255, 5,
  ]),
};

const input = (shape: (number | string)[], dtype = 'float32'): TensorInfo => ({ name: 'image', kind: 'input', op: '', node: '', shape, measured: false, dtype });
const settings = (overrides: Partial<PreprocessSettings> = {}): PreprocessSettings => ({
  channelOrder: 'RGB', scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], inputSize: null, inputLayout: 'auto', ...overrides,
});

/** Hand computation of one value: (pixel · scale − mean) / std, in float64. */
function expected(pixel: number, s: PreprocessSettings, channel: number): number {
  return (pixel * s.scale - s.mean[channel]) / s.std[channel];
}

function assertNear(actual: number, wanted: number, what: string): void {
  assert.ok(Math.abs(actual - wanted) < 1e-5, `${what}: ${actual} ≠ ${wanted}`);
}

describe('model/preprocess', () => {
  it('RGB NCHW values follow (pixel·scale − mean) / std', async () => {
    const s = settings();
    const { tensor, layout } = await preprocess(IMAGE, s, input(['batch', 3, 'h', 'w']));
    assert.equal(layout, 'NCHW');
    assert.deepEqual([...tensor.dims], [1, 3, 2, 3]);
    const data = tensor.data as Float32Array;
    // Pixel (y=1, x=2) = [250, 255, 5]: plane c, index 1·3 + 2 = 5.
    assertNear(data[0 * 6 + 5], expected(250, s, 0), 'R');
    assertNear(data[1 * 6 + 5], expected(255, s, 1), 'G');
    assertNear(data[2 * 6 + 5], expected(5, s, 2), 'B');
    assertNear(data[0], expected(0, s, 0), 'first');
  });

  it('BGR NHWC channel order', async () => {
    // DeepLab-like raw range and road-segmentation-like BGR: model channel 0 is blue.
    const s = settings({ channelOrder: 'BGR', scale: 1, mean: [1, 2, 3], std: [2, 4, 8] });
    const { tensor, layout } = await preprocess(IMAGE, s, input([1, 'h', 'w', 3]));
    assert.equal(layout, 'NHWC');
    assert.deepEqual([...tensor.dims], [1, 2, 3, 3]);
    const data = tensor.data as Float32Array;
    // Pixel (y=0, x=1) = RGB [30, 40, 50] → model channels [B, G, R] = [50, 40, 30].
    assert.deepEqual([...data.subarray(3, 6)], [(50 - 1) / 2, (40 - 2) / 4, (30 - 3) / 8]);
  });

  it('DeepLab normalisation x/127.5 − 1 maps 0 and 255 to −1 and 1', async () => {
    const s = settings({ scale: 1 / 127.5, mean: [1, 1, 1], std: [1, 1, 1] });
    const { tensor } = await preprocess(IMAGE, s, input([1, 2, 3, 3]));
    const data = tensor.data as Float32Array;
    assertNear(data[0], -1, 'pixel 0');
    assertNear(data[16], 1, 'pixel 255');
  });

  it('static model size resizes; a flat image stays flat', async () => {
    const flat: RgbImage = { width: 7, height: 5, source: 'flat.png', data: new Uint8Array(7 * 5 * 3).map((_, i) => [40, 80, 120][i % 3]) };
    const s = settings({ scale: 1, mean: [0, 0, 0], std: [1, 1, 1] });
    const { tensor, height, width } = await preprocess(flat, s, input([1, 3, 4, 6]));
    assert.deepEqual([height, width, ...tensor.dims], [4, 6, 1, 3, 4, 6]);
    const data = tensor.data as Float32Array;
    for (let c = 0; c < 3; c++) for (let i = 0; i < 24; i++) assert.equal(data[c * 24 + i], [40, 80, 120][c]);
  });

  it('heat.model.inputSize wins over the image size for a dynamic input', async () => {
    const { tensor } = await preprocess(IMAGE, settings({ inputSize: [4, 8] }), input([1, 3, 'h', 'w']));
    assert.deepEqual([...tensor.dims], [1, 3, 4, 8]);
  });

  it('settings read from a config', () => {
    const config = makeConfig({ 'heat.model.channelOrder': 'BGR', 'heat.model.scale': 1, 'heat.model.inputSize': [512, 896] }, '/tmp');
    const s = preprocessSettings(config);
    assert.deepEqual([s.channelOrder, s.scale, s.inputSize], ['BGR', 1, [512, 896]]);
  });

  it('bad inputs give clear errors', async () => {
    await assert.rejects(preprocess(IMAGE, settings(), input([1, 1, 'h', 'w'])), (e: unknown) => e instanceof HeatError && /has 1 channel\(s\) on axis 1 \(NCHW\)/.test(e.message));
    await assert.rejects(preprocess(IMAGE, settings(), input([1, 3, 224])), /shape \[1, 3, 224\]; HEAT Lens needs a rank-4 image input/);
    await assert.rejects(preprocess(IMAGE, settings(), input([1, 3, 2, 3], 'uint8')), /has dtype uint8; HEAT Lens feeds float32/);
    await assert.rejects(preprocess(IMAGE, settings({ inputSize: [10, 10] }), input([1, 3, 2, 3])), /heat\.model\.inputSize \[10, 10\] differs from the fixed input size \[2, 3\]/);
    assert.throws(() => preprocessSettings(makeConfig({ 'heat.model.std': [1, 0, 1] }, '/tmp')), /heat\.model\.std \[1, 0, 1\] contains 0/);
  });
});
