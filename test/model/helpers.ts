import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';

export const TINY = path.join(__dirname, '..', 'fixtures', 'tiny', 'tiny.onnx');
/** Real models live beside the repository (../shared/real), never inside it. */
export const REAL = path.resolve(__dirname, '..', '..', '..', 'shared', 'real', 'models');
export const DEEPLAB = path.join(REAL, 'deeplabv3-mnv2-voc', 'deeplab_v3_1_default_1.onnx');
export const ROADSEG = path.join(REAL, 'road-segmentation-adas-0001', 'road-segmentation-adas-0001_float32.onnx');
export const TWINLITE = path.join(REAL, 'twinlitenet', 'twinlitenet.onnx');

/** PyTorch's own outputs for the tiny model, written by export_tiny.py. */
export interface TinyGolden {
  features: { shape: number[]; data: number[] };
  logits: { shape: number[]; data: number[] };
}
export function tinyGolden(): TinyGolden {
  return JSON.parse(readFileSync(path.join(__dirname, '..', 'fixtures', 'tiny', 'tiny_golden.json'), 'utf8')) as TinyGolden;
}

/** Builds the golden input: x[i] = sin(0.1 i) over a [1, 3, 32, 48] tensor. */
export function tinyInput(): Float32Array {
  const x = new Float32Array(3 * 32 * 48);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(0.1 * i);
  return x;
}

/** Skips the current test with a printed reason when a real model is absent. */
export function requireFile(context: Mocha.Context, file: string): void {
  if (!existsSync(file)) {
    console.log(`    skipped: ${file} is absent (real models are read from ../shared/real when present)`);
    context.skip();
  }
}

const F = onnx.TensorProto.DataType.FLOAT;

export function valueInfo(name: string, shape: (number | string)[] | null, elemType = F): onnx.ValueInfoProto {
  const tensorType: onnx.TypeProto.ITensor = { elemType };
  if (shape) tensorType.shape = { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) };
  return new onnx.ValueInfoProto({ name, type: { tensorType } });
}

export function node(opType: string, inputs: string[], outputs: string[], attributes: onnx.IAttributeProto[] = [], name = ''): onnx.NodeProto {
  return new onnx.NodeProto({ opType, input: inputs, output: outputs, attribute: attributes, name: name || `${opType}_${outputs[0]}` });
}

export function ints(name: string, values: number[]): onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INTS, ints: values };
}

export function int(name: string, value: number): onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i: value };
}

export function model(graph: onnx.IGraphProto, opset: number, irVersion = 8): onnx.ModelProto {
  return new onnx.ModelProto({ irVersion, opsetImport: [{ domain: '', version: opset }], producerName: 'heat-lens-test', graph: new onnx.GraphProto(graph) });
}

/**
 * Builds a small head at opset 17, standing in for the HEAT heads: max logit over classes, max feature over
 * channels, and the softmax over classes. Inputs are NCHW, as the real heads expect.
 */
export function testHead(): onnx.ModelProto {
  return model({
    name: 'test-head',
    input: [valueInfo('logits', ['N', 'C', 'H', 'W']), valueInfo('features', ['N', 'D', 'h', 'w'])],
    output: [valueInfo('max_logit', ['N', 'H', 'W']), valueInfo('feature_max', ['N', 'h', 'w']), valueInfo('probabilities', ['N', 'C', 'H', 'W'])],
    node: [
      node('ReduceMax', ['logits'], ['max_logit'], [ints('axes', [1]), int('keepdims', 0)], 'max_logit'),
      node('ReduceMax', ['features'], ['feature_max'], [ints('axes', [1]), int('keepdims', 0)], 'feature_max'),
      node('Softmax', ['logits'], ['probabilities'], [int('axis', 1)], 'softmax'),
    ],
  }, 17);
}

/** Max over axis 1 of an NCHW array (batch 1): the plain reference for the max heads. */
export function maxOverChannels(data: ArrayLike<number>, c: number, h: number, w: number): Float32Array {
  const out = new Float32Array(h * w).fill(-Infinity);
  for (let k = 0; k < c; k++) for (let i = 0; i < h * w; i++) out[i] = Math.max(out[i], data[k * h * w + i]);
  return out;
}

export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, what: string): void {
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length} ≠ ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    const scale = Math.max(1, Math.abs(expected[i]));
    if (!(Math.abs(actual[i] - expected[i]) <= tolerance * scale)) throw new Error(`${what}[${i}]: ${actual[i]} ≠ ${expected[i]} (tolerance ${tolerance})`);
  }
}
