import { strict as assert } from 'node:assert';
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { memoryLogger } from '../../src/core/log';
import { addOutputs, decodeImage, encodeModel, listTensors, loadModel, preprocess, ranksOf, relabelBlocker, ScoringPipeline } from '../../src/core/model';
import { assertClose, DEEPLAB, REAL, requireFile, ROADSEG, testHead, TWINLITE } from './helpers';

const FRAMES = path.join(REAL, '..', 'roadanomaly', 'frames');

function firstFrame(): string | undefined {
  if (!existsSync(FRAMES)) return undefined;
  const name = readdirSync(FRAMES).filter((f) => f.endsWith('.jpg')).sort()[0];
  return name && path.join(FRAMES, name);
}

/** Max over the last axis of [1, H, W, C]: the reference for the head's max_logit on NHWC logits. */
function maxOverLastAxis(data: Float32Array, pixels: number, c: number): Float32Array {
  const out = new Float32Array(pixels);
  for (let i = 0; i < pixels; i++) {
    let max = -Infinity;
    for (let k = 0; k < c; k++) max = Math.max(max, data[i * c + k]);
    out[i] = max;
  }
  return out;
}

describe('model on real models', function () {
  this.timeout(120000);

  it('DeepLabV3 exposes Relu__94:0 as [1, 256, 33, 33]', async function () {
    requireFile(this, DEEPLAB);
    const loaded = await loadModel(DEEPLAB);
    const session = await ort.InferenceSession.create(encodeModel(addOutputs(loaded.proto, ['Relu__94:0'])));
    const out = await session.run({ sub_7: new ort.Tensor('float32', new Float32Array(257 * 257 * 3), [1, 257, 257, 3]) });
    assert.deepEqual([...out['Relu__94:0'].dims], [1, 256, 33, 33]);
    assert.deepEqual([...out.ResizeBilinear_3.dims], [1, 257, 257, 21]);
    await session.release();
  });

  it('DeepLabV3 (opset 9) merged equals two-session on a frame', async function () {
    requireFile(this, DEEPLAB);
    const frame = firstFrame();
    if (!frame) { console.log(`    skipped: no RoadAnomaly frames under ${FRAMES}`); this.skip(); }
    const loaded = await loadModel(DEEPLAB);
    // Its Clip and Upsample nodes are rewritten for opset 17, so the head merges.
    assert.equal(relabelBlocker(loaded.proto, 17), undefined);
    const bindings = { logits: { tensor: 'ResizeBilinear_3', layout: 'NHWC' as const }, features: { tensor: 'Relu__94:0', layout: 'NCHW' as const } };
    const log = memoryLogger();
    const merged = await ScoringPipeline.create(loaded, testHead(), bindings, { provider: 'cpu', keepOutputs: ['ResizeBilinear_3'], log });
    const split = await ScoringPipeline.create(loaded, testHead(), bindings, { provider: 'cpu', keepOutputs: ['ResizeBilinear_3'], forceTwoSession: true });
    assert.deepEqual([merged.mode, split.mode], ['merged', 'two-session']);

    const inspection = await listTensors(loaded, { measure: false });
    const image = await decodeImage(frame!, log);
    const { tensor } = await preprocess(image, { channelOrder: 'RGB', scale: 1 / 127.5, mean: [1, 1, 1], std: [1, 1, 1], inputSize: null, inputLayout: 'auto' }, inspection.inputs[0]);
    const a = await merged.run({ sub_7: tensor });
    const b = await split.run({ sub_7: tensor });
    assert.deepEqual([...a.max_logit.dims], [1, 257, 257]);
    assert.deepEqual([...a.feature_max.dims], [1, 33, 33]);
    assertClose(b.max_logit.data as Float32Array, maxOverLastAxis(b.ResizeBilinear_3.data as Float32Array, 257 * 257, 21), 1e-6, 'two-session max_logit');
    for (const name of ['max_logit', 'feature_max', 'probabilities', 'ResizeBilinear_3']) {
      assertClose(a[name].data as Float32Array, b[name].data as Float32Array, 1e-5, `merged ${name}`);
    }
    await merged.release();
    await split.release();
  });

  it('road-segmentation-adas merges with measured ranks', async function () {
    requireFile(this, ROADSEG);
    const loaded = await loadModel(ROADSEG);
    assert.match(relabelBlocker(loaded.proto, 17) ?? '', /Softmax/);
    const inspection = await listTensors(loaded, { measure: ['StatefulPartitionedCall/model/lambda_4/resize/ResizeBilinear:0'] });
    const ranks = ranksOf(inspection);
    assert.equal(relabelBlocker(loaded.proto, 17, ranks), undefined);
    const pipeline = await ScoringPipeline.create(loaded, testHead(), {
      logits: { tensor: 'StatefulPartitionedCall/model/lambda_4/resize/ResizeBilinear:0', layout: 'NHWC' },
      features: { tensor: 'StatefulPartitionedCall/model/tf.nn.relu_127/Relu:0', layout: 'NCHW' },
    }, { provider: 'cpu', ranks });
    assert.equal(pipeline.mode, 'merged');
    const out = await pipeline.run({ data: new ort.Tensor('float32', new Float32Array(512 * 896 * 3).fill(128), [1, 512, 896, 3]) });
    assert.deepEqual([...out.max_logit.dims], [1, 512, 896]);
    assert.deepEqual([...out.feature_max.dims], [1, 256, 448]);
    await pipeline.release();
  });

  it('TwinLiteNet (opset 12) merges with logits "da" and the encoder features', async function () {
    requireFile(this, TWINLITE);
    const loaded = await loadModel(TWINLITE);
    const pipeline = await ScoringPipeline.create(loaded, testHead(), {
      logits: { tensor: 'da', layout: 'NCHW' },
      features: { tensor: '/encoder/classifier/act/PRelu_output_0', layout: 'NCHW' },
    }, { provider: 'cpu' });
    assert.equal(pipeline.mode, 'merged', pipeline.reason);
    const out = await pipeline.run({ images: new ort.Tensor('float32', new Float32Array(3 * 360 * 640).fill(0.5), [1, 3, 360, 640]) });
    assert.deepEqual([...out.feature_max.dims], [1, 45, 80]);
    assert.deepEqual([...out.probabilities.dims], [1, 2, 360, 640]);
    await pipeline.release();
  });
});
