/**
 * Lists a model's tensors with producer, dtype and shape. Shapes come from the graph where it declares them.
 * The rest are measured by probe runs on a zero input with the tensors added as outputs.
 */
import * as ort from 'onnxruntime-node';
import type { ModelInspection, TensorInfo } from '../api';
import { silentLogger, type Logger } from '../log';
import { addOutputs } from './edit';
import { detectInputLayout, detectTensorLayout } from './layout';
import type { LoadedModel } from './load';
import { declaredValues, encodeModel, feedInputs, initializerNames, onnx, producers, valueDtype, valueShape } from './onnx';
import { detectProbabilities, preSoftmaxCandidates } from './probabilities';
import { createSession } from './session';

/** Side used for dynamic spatial dimensions of the probe input. */
export const PROBE_SIDE = 256;
/** Tensors measured by the first probe run; later runs size their batch from the bytes seen so far. */
const FIRST_PROBE_CHUNK = 48;
/** Bytes of outputs one probe run may return (road-segmentation-adas-0001 has 945 MB of intermediates in all). */
const PROBE_BYTES = 512 * 1024 * 1024;

export interface ListOptions {
  /** Measure missing shapes with probe runs: every tensor (`true`, the default), only the named ones, or none (`false`). */
  measure?: boolean | string[];
  log?: Logger;
}

/** Static view of the graph: every tensor with what the graph itself declares. */
export function graphTensors(model: onnx.IModelProto): { inputs: TensorInfo[]; outputs: TensorInfo[]; intermediates: TensorInfo[] } {
  const graph = model.graph ?? {};
  const declared = declaredValues(graph);
  const produced = producers(graph);
  const inits = initializerNames(graph);
  const info = (name: string, kind: TensorInfo['kind']): TensorInfo => {
    const value = declared.get(name);
    const producer = produced.get(name)?.node;
    return { name, kind, op: producer?.opType ?? '', node: producer?.name ?? '', shape: valueShape(value), measured: false, dtype: valueDtype(value) };
  };

  const inputs = feedInputs(graph).map((v) => info(v.name ?? '', 'input'));
  const outputNames = new Set((graph.output ?? []).map((v) => v.name ?? ''));
  const outputs = [...outputNames].map((name) => info(name, 'output'));
  const intermediates: TensorInfo[] = [];
  for (const node of graph.node ?? []) {
    for (const name of node.output ?? []) {
      if (name && !outputNames.has(name) && !inits.has(name)) intermediates.push(info(name, 'intermediate'));
    }
  }
  return { inputs, outputs, intermediates };
}

/**
 * Lists every input, output and intermediate tensor of the model, with shapes measured where the graph lacks them,
 * and warnings for outputs that hold probabilities rather than logits (checked on the probe output).
 */
export async function listTensors(model: LoadedModel, options: ListOptions = {}): Promise<ModelInspection> {
  const log = options.log ?? silentLogger;
  const { inputs, outputs, intermediates } = graphTensors(model.proto);
  const all = [...outputs, ...intermediates];
  const wanted = options.measure === false ? [] : Array.isArray(options.measure) ? options.measure : all.map((t) => t.name);
  const toMeasure = all.filter((t) => wanted.includes(t.name) && !isFullyKnown(t));

  const warnings: string[] = [];
  if (toMeasure.length > 0 || options.measure !== false) {
    const feeds = probeFeeds(inputs);
    const measured = await measure(model, toMeasure.map((t) => t.name), outputs.map((t) => t.name), feeds, log);
    for (const tensor of toMeasure) {
      const value = measured.shapes.get(tensor.name);
      if (value) Object.assign(tensor, { shape: value.dims, dtype: value.type, measured: true });
    }
    for (const output of outputs) {
      const sample = measured.outputs.get(output.name);
      if (!sample || sample.type !== 'float32' || sample.dims.length < 2) continue;
      const warning = probabilityWarning(model.proto, output, sample, [...outputs, ...intermediates]);
      if (warning) warnings.push(warning);
    }
  }
  return { path: model.path, sha256: model.sha256, opsetVersion: model.opset, inputs, outputs, intermediates, warnings };
}

/** Rank of every tensor whose shape is known, for relabelBlocker and ScoringPipeline's `ranks` option. */
export function ranksOf(inspection: ModelInspection): Map<string, number> {
  const ranks = new Map<string, number>();
  for (const t of [...inspection.inputs, ...inspection.outputs, ...inspection.intermediates]) if (t.shape) ranks.set(t.name, t.shape.length);
  return ranks;
}

function isFullyKnown(tensor: TensorInfo): boolean {
  return tensor.shape !== null && tensor.dtype !== 'unknown' && tensor.shape.every((d) => typeof d === 'number');
}

/** Zero feeds for a probe run: symbolic batch → 1, other symbolic dims → PROBE_SIDE, channels → 3 on the detected channel axis. */
export function probeFeeds(inputs: TensorInfo[]): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of inputs) {
    const shape = input.shape ?? [1, 3, PROBE_SIDE, PROBE_SIDE];
    const layout = shape.length === 4 ? detectInputLayout(shape).layout : undefined;
    const channelAxis = layout === 'NHWC' ? 3 : 1;
    const dims = shape.map((d, axis) => {
      if (typeof d === 'number' && d > 0) return d;
      if (axis === 0) return 1;
      return layout && axis === channelAxis ? 3 : PROBE_SIDE;
    });
    feeds[input.name] = zeroTensor(input.dtype === 'unknown' ? 'float32' : input.dtype, dims);
  }
  return feeds;
}

function zeroTensor(dtype: string, dims: number[]): ort.Tensor {
  const size = dims.reduce((a, b) => a * b, 1);
  switch (dtype) {
    case 'float32': return new ort.Tensor('float32', new Float32Array(size), dims);
    case 'float64': return new ort.Tensor('float64', new Float64Array(size), dims);
    case 'uint8': return new ort.Tensor('uint8', new Uint8Array(size), dims);
    case 'int8': return new ort.Tensor('int8', new Int8Array(size), dims);
    case 'int32': return new ort.Tensor('int32', new Int32Array(size), dims);
    case 'int64': return new ort.Tensor('int64', new BigInt64Array(size), dims);
    case 'bool': return new ort.Tensor('bool', new Uint8Array(size), dims);
    default: return new ort.Tensor('float32', new Float32Array(size), dims);
  }
}

interface Measured {
  shapes: Map<string, { dims: number[]; type: string }>;
  /** The model's own outputs from the first probe run, kept for the probability check. */
  outputs: Map<string, ort.Tensor>;
}

/**
 * Runs the model on `feeds` in chunks, each chunk with a batch of tensors added as outputs, always on the CPU:
 * the probe is about shapes, and the CPU provider is the one that loads everywhere.
 */
async function measure(model: LoadedModel, names: string[], outputNames: string[], feeds: Record<string, ort.Tensor>, log: Logger): Promise<Measured> {
  const result: Measured = { shapes: new Map(), outputs: new Map() };
  let runs = 0;
  let measuredBytes = 0;
  let measuredCount = 0;
  for (let start = 0; start < names.length || runs === 0; runs++) {
    const size = runs === 0 ? FIRST_PROBE_CHUNK : Math.max(16, Math.floor(PROBE_BYTES / Math.max(1, measuredBytes / Math.max(1, measuredCount))));
    const chunk = names.slice(start, start + size);
    start += chunk.length;
    const fetch = runs === 0 ? [...new Set([...outputNames, ...chunk])] : chunk;
    const edited = addOutputs(model.proto, fetch);
    const { session } = await createSession(encodeModel(edited), 'cpu', silentLogger, model.path);
    try {
      const out = await session.run(feeds, fetch);
      for (const name of fetch) {
        const tensor = out[name];
        if (!tensor) continue;
        result.shapes.set(name, { dims: [...tensor.dims], type: tensor.type });
        if (chunk.includes(name)) { measuredBytes += tensor.size * 4; measuredCount += 1; }
        if (runs === 0 && outputNames.includes(name)) result.outputs.set(name, tensor);
      }
    } finally {
      await session.release();
    }
  }
  if (names.length > 0) log.debug(`Measured ${result.shapes.size} tensor shapes of ${model.path} with ${runs} probe run(s).`);
  return result;
}

function probabilityWarning(model: onnx.IModelProto, output: TensorInfo, sample: ort.Tensor, tensors: TensorInfo[]): string | undefined {
  const dims = [...sample.dims];
  let classAxis = dims.length - 1;
  if (dims.length === 4) classAxis = detectTensorLayout(dims).layout === 'NHWC' ? 3 : 1;
  const check = detectProbabilities(sample.data as Float32Array, dims, classAxis);
  if (!check.probabilities) return undefined;
  return describeProbabilities(model, output.name, tensors);
}

/** Warning text for a probability output, naming the pre-softmax tensors to configure instead. */
export function describeProbabilities(model: onnx.IModelProto, tensor: string, tensors: TensorInfo[]): string {
  const candidates = preSoftmaxCandidates(model, tensor, tensors);
  const hint = candidates.length > 0
    ? `Set heat.model.logitsTensor to a pre-softmax tensor: ${candidates.map((c) => `"${c}"`).join(', ')}.`
    : 'Set heat.model.logitsTensor to the tensor that feeds the final Softmax.';
  return `${probabilitiesSubject(tensor)} holds probabilities (values in [0, 1] that sum to 1 over the class axis), not logits, so its energy is constant. ${hint}`;
}

/** Returns the start of the warning describeProbabilities writes for `tensor`. */
function probabilitiesSubject(tensor: string): string {
  return `Output "${tensor}"`;
}

/** Returns whether `warning` is the probability warning about `tensor` itself, not one that names it as the fix. */
export function warnsAboutProbabilities(warning: string, tensor: string): boolean {
  return warning.startsWith(`${probabilitiesSubject(tensor)} `);
}
