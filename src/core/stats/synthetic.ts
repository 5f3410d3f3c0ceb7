/**
 * Small synthetic segmentation models built in code, for the statistics tests and benchmark.
 *
 * `linear`: input x [1, 3, H, W] (NCHW) → features f = Relu(Conv 2×2 stride 2 (x)) [1, D, H/2, W/2] →
 * logits z = Conv 1×1 (f) + b [1, C, H/2, W/2], optionally upsampled ×2 by nearest neighbour to [1, C, H, W].
 * Simple enough that a test can compute every feature and logit with plain loops.
 *
 * `resnetLike`: a 4×4 stride-4 stem and three 3×3 convolutions, the first with stride 2, all with ReLU
 * (3 → 128 → 256 → 512 → D channels), so the feature map is D × H/8 × W/8 (1024 × 64 × 128 for a 512 × 1024
 * input, the size of ResNet-50's layer3). A 1×1 classifier and a ×8 bilinear upsampling of the logits follow.
 * About 51 GMAC per 512 × 1024 image at D = 1024, the same layout as the project's forward-pass benchmark model.
 */
import { onnx } from 'onnx-proto';

export const SYNTHETIC_FEATURES = 'features';
export const SYNTHETIC_LOGITS = 'logits';
/** The resnetLike model's logits before the ×8 upsampling, [1, C, H/8, W/8]. */
export const SYNTHETIC_LOW_LOGITS = 'logits_low';

export interface LinearModelWeights {
  /** [D, 3, 2, 2] */
  w1: Float32Array;
  /** [D] */
  b1: Float32Array;
  /** [C, D] */
  w2: Float32Array;
  /** [C] */
  b2: Float32Array;
  dim: number;
  classes: number;
  /** Logits upsampled ×2 to the input size (nearest), or left at the feature grid. */
  upsample: boolean;
}

const FLOAT = onnx.TensorProto.DataType.FLOAT;

function initializer(name: string, dims: number[], data: Float32Array): onnx.TensorProto {
  return onnx.TensorProto.create({ name, dims, dataType: FLOAT, rawData: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) });
}

function node(opType: string, input: string[], output: string[], attributes: Record<string, number | number[] | string> = {}): onnx.NodeProto {
  const attribute = Object.entries(attributes).map(([name, value]) => {
    if (typeof value === 'string') return onnx.AttributeProto.create({ name, s: new TextEncoder().encode(value), type: onnx.AttributeProto.AttributeType.STRING });
    if (Array.isArray(value)) return onnx.AttributeProto.create({ name, ints: value, type: onnx.AttributeProto.AttributeType.INTS });
    return onnx.AttributeProto.create({ name, i: value, type: onnx.AttributeProto.AttributeType.INT });
  });
  return onnx.NodeProto.create({ name: output[0], opType, input, output, attribute });
}

function model(nodes: onnx.NodeProto[], initializers: onnx.TensorProto[], inputDims: (number | string)[], outputs: string[]): Uint8Array {
  const valueInfo = (name: string, dims?: (number | string)[]) => onnx.ValueInfoProto.create({
    name,
    type: { tensorType: { elemType: FLOAT, shape: dims ? { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } : undefined } },
  });
  const graph = onnx.GraphProto.create({
    name: 'synthetic_segmentation', node: nodes, initializer: initializers,
    input: [valueInfo('image', inputDims)], output: outputs.map((name) => valueInfo(name)),
  });
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, producerName: 'heat-lens-synthetic', opsetImport: [{ domain: '', version: 13 }], graph })).finish();
}

/** Builds the `linear` model with the given weights; input [1, 3, H, W] with dynamic H and W (even). */
export function linearSegmentationModel(weights: LinearModelWeights): Uint8Array {
  const { dim: d, classes: c } = weights;
  const nodes = [
    node('Conv', ['image', 'w1', 'b1'], ['conv1'], { kernel_shape: [2, 2], strides: [2, 2] }),
    node('Relu', ['conv1'], [SYNTHETIC_FEATURES]),
    node('Conv', [SYNTHETIC_FEATURES, 'w2', 'b2'], [weights.upsample ? SYNTHETIC_LOW_LOGITS : SYNTHETIC_LOGITS], { kernel_shape: [1, 1] }),
  ];
  const inits = [
    initializer('w1', [d, 3, 2, 2], weights.w1), initializer('b1', [d], weights.b1),
    initializer('w2', [c, d, 1, 1], weights.w2), initializer('b2', [c], weights.b2),
  ];
  if (weights.upsample) {
    nodes.push(node('Resize', [SYNTHETIC_LOW_LOGITS, '', 'scales'], [SYNTHETIC_LOGITS], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }));
    inits.push(initializer('scales', [4], Float32Array.from([1, 1, 2, 2])));
  }
  return model(nodes, inits, [1, 3, 'H', 'W'], [SYNTHETIC_LOGITS, SYNTHETIC_FEATURES]);
}

/** Deterministic pseudo-random numbers in [−scale, scale) (xorshift), so a synthetic model is reproducible. */
function uniform(count: number, scale: number, seed: number): Float32Array {
  let state = seed >>> 0 || 1;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    state ^= state << 13; state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5; state >>>= 0;
    out[i] = ((state / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

/** Builds the `resnetLike` model with He-scaled random weights; input [1, 3, height, width], features D × height/8 × width/8. */
export function resnetLikeModel(options: { dim?: number; classes?: number; height?: number; width?: number; seed?: number } = {}): Uint8Array {
  const d = options.dim ?? 1024;
  const c = options.classes ?? 19;
  const height = options.height ?? 512;
  const width = options.width ?? 1024;
  const seed = options.seed ?? 7;
  const conv = (name: string, out: number, inp: number, k: number) => [
    initializer(`${name}_w`, [out, inp, k, k], uniform(out * inp * k * k, Math.sqrt(6 / (inp * k * k)), seed + out + k)),
    initializer(`${name}_b`, [out], uniform(out, 0.1, seed + 2 * out)),
  ];
  const inits = [
    ...conv('stem', 128, 3, 4), ...conv('layer1', 256, 128, 3), ...conv('layer2', 512, 256, 3), ...conv('layer3', d, 512, 3),
    ...conv('classifier', c, d, 1),
    initializer('scales', [4], Float32Array.from([1, 1, 8, 8])),
  ];
  const same = { kernel_shape: [3, 3], pads: [1, 1, 1, 1] };
  const nodes = [
    node('Conv', ['image', 'stem_w', 'stem_b'], ['stem'], { kernel_shape: [4, 4], strides: [4, 4] }),
    node('Relu', ['stem'], ['stem_relu']),
    node('Conv', ['stem_relu', 'layer1_w', 'layer1_b'], ['layer1'], { ...same, strides: [2, 2] }),
    node('Relu', ['layer1'], ['layer1_relu']),
    node('Conv', ['layer1_relu', 'layer2_w', 'layer2_b'], ['layer2'], same),
    node('Relu', ['layer2'], ['layer2_relu']),
    node('Conv', ['layer2_relu', 'layer3_w', 'layer3_b'], ['layer3'], same),
    node('Relu', ['layer3'], [SYNTHETIC_FEATURES]),
    node('Conv', [SYNTHETIC_FEATURES, 'classifier_w', 'classifier_b'], [SYNTHETIC_LOW_LOGITS], { kernel_shape: [1, 1] }),
    node('Resize', [SYNTHETIC_LOW_LOGITS, '', 'scales'], [SYNTHETIC_LOGITS], { mode: 'linear', coordinate_transformation_mode: 'half_pixel' }),
  ];
  return model(nodes, inits, [1, 3, height, width], [SYNTHETIC_LOGITS]);
}
