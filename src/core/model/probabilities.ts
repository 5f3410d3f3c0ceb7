/**
 * A model whose output is already a softmax gives a constant energy. The output is
 * recognised by its values (all in [0, 1], summing to 1 over the class axis) and the pre-softmax tensors
 * that should be configured as logits instead are looked up in the graph.
 */
import type { TensorInfo } from '../api';
import { onnx, producers } from './onnx';

export interface ProbabilityCheck {
  /** True when every value lies in [0, 1] and every pixel's values sum to 1 (within `tolerance`). */
  probabilities: boolean;
  min: number;
  max: number;
  /** Largest |sum over classes − 1| over all pixels. */
  maxSumError: number;
}

/**
 * Checks whether `data` (row-major, shape `dims`) contains probabilities over `classAxis`.
 * One pass over the data; the sum for each pixel is accumulated in float64.
 */
export function detectProbabilities(data: Float32Array, dims: readonly number[], classAxis: number, tolerance = 1e-3): ProbabilityCheck {
  const classes = dims[classAxis];
  const inner = dims.slice(classAxis + 1).reduce((a, b) => a * b, 1);
  const outer = dims.slice(0, classAxis).reduce((a, b) => a * b, 1);
  let min = Infinity;
  let max = -Infinity;
  let maxSumError = 0;
  for (let o = 0; o < outer; o++) {
    const base = o * classes * inner;
    for (let i = 0; i < inner; i++) {
      let sum = 0;
      for (let c = 0; c < classes; c++) {
        const v = data[base + c * inner + i];
        sum += v;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      const error = Math.abs(sum - 1);
      if (!(error <= maxSumError)) maxSumError = error; // also catches NaN
    }
  }
  const probabilities = classes > 1 && min >= -tolerance && max <= 1 + tolerance && maxSumError <= tolerance;
  return { probabilities, min, max, maxSumError };
}

/** Ops that pass a tensor's values through unchanged in meaning, skipped when walking back from an output. */
const PASS_THROUGH = new Set(['Identity', 'Cast', 'Transpose', 'Reshape', 'Squeeze', 'Unsqueeze', 'Flatten']);
const SOFTMAX_OPS = new Set(['Softmax', 'LogSoftmax']);

/**
 * Tensors that likely hold the logits behind the probability tensor `tensor`: first the input of the Softmax
 * that produces it (through pass-through ops), then other float tensors with the same class count, nearest
 * to the output first. `tensors` supplies shapes (from listTensors) for the second kind.
 */
export function preSoftmaxCandidates(model: onnx.IModelProto, tensor: string, tensors: TensorInfo[], limit = 4): string[] {
  const produced = producers(model.graph ?? {});
  const found: string[] = [];
  let name = tensor;
  let softmaxIndex = Infinity;
  for (let step = 0; step < 16; step++) {
    const producer = produced.get(name);
    if (!producer) break;
    const input = producer.node.input?.[0];
    if (!input) break;
    if (SOFTMAX_OPS.has(producer.node.opType ?? '')) {
      found.push(input);
      softmaxIndex = producer.index;
      break;
    }
    if (!PASS_THROUGH.has(producer.node.opType ?? '')) break;
    name = input;
  }

  const target = tensors.find((t) => t.name === tensor)?.shape;
  const classes = target && target.length === 4 ? classCount(target) : undefined;
  if (classes !== undefined) {
    const similar = tensors
      .filter((t) => t.kind === 'intermediate' && t.name !== tensor && !found.includes(t.name) && t.dtype === 'float32' && t.shape?.length === 4)
      .filter((t) => (t.shape![1] === classes || t.shape![3] === classes) && !SOFTMAX_OPS.has(t.op))
      .filter((t) => (produced.get(t.name)?.index ?? Infinity) < softmaxIndex || softmaxIndex === Infinity)
      .reverse();
    for (const t of similar) found.push(t.name);
  }
  return found.slice(0, limit);
}

/** Class count of a rank-4 probability tensor: the smaller of axes 1 and 3 (classes are fewer than pixels per row). */
function classCount(shape: (number | string)[]): number | undefined {
  const [a, b] = [shape[1], shape[3]];
  if (typeof a === 'number' && typeof b === 'number') return Math.min(a, b);
  if (typeof a === 'number') return a;
  if (typeof b === 'number') return b;
  return undefined;
}
