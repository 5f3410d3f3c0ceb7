/**
 * A ResNet-like synthetic segmentation model for benchmarks: a strided stem and three 3×3 convolution
 * stages to a 1024-channel feature map at 1/8 resolution (the size of ResNet-50's layer3 on a 512×1024
 * image), a 1×1 classifier and a bilinear upsampling of the logits to the input size. Weights are random
 * (seeded); only the cost matters. About 50 GMAC per 512×1024 image.
 */
import { GraphBuilder, encodeModel, ElemType } from '../../src/core/heat/graph';

export interface SyntheticModel {
  bytes: Uint8Array;
  input: string;
  logits: string;
  features: string;
  classes: number;
  dim: number;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function buildSyntheticModel(height = 512, width = 1024, dim = 1024, classes = 19): SyntheticModel {
  const random = mulberry32(7);
  const g = new GraphBuilder('');
  const input = g.input('image', ElemType.FLOAT, ['N', 3, height, width]);

  const conv = (x: string, cin: number, cout: number, kernel: number, stride: number, name: string): string => {
    const scale = Math.sqrt(2 / (cin * kernel * kernel));
    const weights = new Float32Array(cout * cin * kernel * kernel).map(() => (random() * 2 - 1) * scale);
    const w = g.floats(`${name}.weight`, weights, [cout, cin, kernel, kernel]);
    const b = g.floats(`${name}.bias`, new Float32Array(cout), [cout]);
    const pad = kernel === 3 ? 1 : 0;
    const y = g.node('Conv', [x, w, b], { kernel_shape: [kernel, kernel], strides: [stride, stride], pads: [pad, pad, pad, pad] }, `${name}/conv`);
    return g.node('Relu', [y], {}, `${name}/relu`);
  };

  const stem = conv(input, 3, 128, 4, 4, 'stem');
  const layer1 = conv(stem, 128, 256, 3, 2, 'layer1');
  const layer2 = conv(layer1, 256, 512, 3, 1, 'layer2');
  const layer3 = conv(layer2, 512, dim, 3, 1, 'layer3');
  const features = g.alias(layer3, 'features');

  const wc = g.floats('classifier.weight', new Float32Array(classes * dim).map(() => (random() * 2 - 1) * Math.sqrt(1 / dim)), [classes, dim, 1, 1]);
  const bc = g.floats('classifier.bias', new Float32Array(classes), [classes]);
  const low = g.node('Conv', [features, wc, bc], { kernel_shape: [1, 1] }, 'classifier');
  const sizes = g.ints([1, classes, height, width]);
  const up = g.node('Resize', [low, '', '', sizes], { mode: 'linear', coordinate_transformation_mode: 'half_pixel' }, 'upsample');
  const logits = g.alias(up, 'logits');
  g.output(logits, ElemType.FLOAT, ['N', classes, height, width]);
  g.output(features, ElemType.FLOAT, ['N', dim, height / 8, width / 8]);
  return { bytes: encodeModel(g.toModel('HEAT Lens synthetic benchmark model')), input, logits, features, classes, dim };
}
