/**
 * Raising a model's default opset to the head's, so that both run in one graph. Most ops kept their meaning
 * across versions and are simply relabelled. Ops whose attributes became inputs (Clip at 11; Squeeze,
 * Unsqueeze, ReduceSum and Split at 13; the other reductions at 18) and the legacy Upsample (removed at 10)
 * are rewritten into their modern form. Anything else that changed meaning blocks the raise, and the caller
 * runs the head in a second session instead.
 */
import { dtypeName, onnx, toNumber } from './onnx';

/**
 * Versions at which a default-domain op changed incompatibly. Versions that only added types or optional
 * inputs are not listed. Softmax-family changes matter only off the last axis.
 */
const BREAKING_VERSIONS: Record<string, number[]> = {
  Add: [7], Sub: [7], Mul: [7], Div: [7], Pow: [7], And: [7], Or: [7], Xor: [7], Equal: [7], Greater: [7], Less: [7],
  BatchNormalization: [7, 9], Dropout: [7, 10, 12], Reshape: [5], Upsample: [9, 10], Slice: [10], TopK: [10],
  Resize: [11], Clip: [11], Pad: [11], Scatter: [11], Concat: [4],
  Squeeze: [13], Unsqueeze: [13], ReduceSum: [13], Split: [13, 18],
  ReduceMax: [18], ReduceMin: [18], ReduceMean: [18], ReduceProd: [18], ReduceL1: [18], ReduceL2: [18],
  ReduceLogSum: [18], ReduceLogSumExp: [18], ReduceSumSquare: [18],
  Softmax: [13], LogSoftmax: [13], Hardmax: [13],
  If: [11, 13], Loop: [11, 13], Scan: [8, 9, 11], GroupNormalization: [21],
};

const SOFTMAX_FAMILY = new Set(['Softmax', 'LogSoftmax', 'Hardmax']);
const AXES_TO_INPUT_AT_13 = new Set(['Squeeze', 'Unsqueeze', 'ReduceSum']);
const AXES_TO_INPUT_AT_18 = new Set(['ReduceMax', 'ReduceMin', 'ReduceMean', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare']);

/** State shared by the rewrites of one model: constants to read and new initializers to add. */
class Rewrite {
  readonly initializers: onnx.TensorProto[] = [];
  private readonly constants = new Map<string, onnx.ITensorProto>();
  private readonly used = new Set<string>();

  constructor(model: onnx.IModelProto, readonly from: number, readonly to: number, readonly dtypes: Map<string, string>) {
    const graph = model.graph ?? {};
    for (const tensor of graph.initializer ?? []) {
      this.constants.set(tensor.name ?? '', tensor);
      this.used.add(tensor.name ?? '');
    }
    for (const node of graph.node ?? []) {
      for (const output of node.output ?? []) this.used.add(output);
      const value = (node.attribute ?? []).find((a) => a.name === 'value')?.t;
      if (node.opType === 'Constant' && value && node.output?.[0]) this.constants.set(node.output[0], value);
    }
    for (const input of graph.input ?? []) this.used.add(input.name ?? '');
  }

  /** Float values of a constant tensor, or undefined when the tensor is not a float32 constant. */
  floats(name: string): number[] | undefined {
    const tensor = this.constants.get(name);
    if (!tensor || tensor.dataType !== onnx.TensorProto.DataType.FLOAT) return undefined;
    if (tensor.floatData && tensor.floatData.length > 0) return [...tensor.floatData];
    const raw = tensor.rawData;
    if (!raw) return undefined;
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    return Array.from({ length: raw.byteLength / 4 }, (_, i) => view.getFloat32(i * 4, true));
  }

  /** Adds an initializer under a name no tensor uses yet and returns that name. */
  add(base: string, dataType: number, dims: number[], values: number[]): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    const tensor = new onnx.TensorProto({ name, dataType, dims });
    if (dataType === onnx.TensorProto.DataType.INT64) tensor.int64Data = values;
    else tensor.floatData = values;
    this.initializers.push(tensor);
    return name;
  }
}

interface Converter {
  /** Breaking versions the rewrite covers. */
  covers: number[];
  /** Reason the node cannot be rewritten, or undefined. */
  check(node: onnx.INodeProto, rewrite: Rewrite): string | undefined;
  convert(node: onnx.INodeProto, rewrite: Rewrite): onnx.NodeProto;
}

function attribute(node: onnx.INodeProto, name: string): onnx.IAttributeProto | undefined {
  return (node.attribute ?? []).find((a) => a.name === name);
}

function withoutAttributes(node: onnx.INodeProto, names: string[]): onnx.IAttributeProto[] {
  return (node.attribute ?? []).filter((a) => !names.includes(a.name ?? ''));
}

function baseName(node: onnx.INodeProto): string {
  return node.name || node.output?.[0] || node.opType || 'node';
}

const STRING = onnx.AttributeProto.AttributeType.STRING;
const INT = onnx.AttributeProto.AttributeType.INT;
const text = (value: string) => new TextEncoder().encode(value);

/** Clip before 11 takes min and max as attributes; from 11 they are optional inputs. */
const clip: Converter = {
  covers: [11],
  check: (node, rewrite) => {
    const dtype = rewrite.dtypes.get(node.input?.[0] ?? '') ?? 'float32';
    return dtype === 'float32' ? undefined : `Clip node "${node.name}" works on ${dtype}`;
  },
  convert: (node, rewrite) => {
    const bound = (name: string) => {
      const a = attribute(node, name);
      return a ? rewrite.add(`${baseName(node)}/${name}`, onnx.TensorProto.DataType.FLOAT, [], [a.f ?? 0]) : '';
    };
    const inputs = [node.input?.[0] ?? '', bound('min'), bound('max')];
    while (inputs[inputs.length - 1] === '') inputs.pop();
    return new onnx.NodeProto({ ...node, input: inputs, attribute: withoutAttributes(node, ['min', 'max']) });
  },
};

/**
 * Upsample (opset 7 to 9) becomes Resize with asymmetric coordinates: out(x) = in(x / scale), with nearest
 * rounding down, which is how onnxruntime evaluates the legacy op when it enlarges.
 * NOTE: shrinking (a scale below 1) rounds differently in the legacy op, so such nodes are not rewritten.
 */
const upsample: Converter = {
  covers: [9, 10],
  check: (node, rewrite) => {
    const mode = new TextDecoder().decode(attribute(node, 'mode')?.s ?? text('nearest'));
    if (mode !== 'nearest' && mode !== 'linear') return `Upsample node "${node.name}" uses mode "${mode}"`;
    const scales = upsampleScales(node, rewrite);
    if (!scales) return `Upsample node "${node.name}" has scales that are not constant`;
    if (scales.some((s) => s < 1)) return `Upsample node "${node.name}" shrinks (scales ${scales.join(', ')})`;
    return undefined;
  },
  convert: (node, rewrite) => {
    const mode = new TextDecoder().decode(attribute(node, 'mode')?.s ?? text('nearest'));
    // Opset 9 already passes the scales as a float tensor, which Resize takes as it is; opset 7 has an attribute.
    let scalesName = attribute(node, 'scales') ? '' : node.input?.[1] ?? '';
    if (!scalesName) {
      const scales = upsampleScales(node, rewrite)!;
      scalesName = rewrite.add(`${baseName(node)}/scales`, onnx.TensorProto.DataType.FLOAT, [scales.length], scales);
    }
    const roi = rewrite.to >= 13 ? '' : rewrite.add(`${baseName(node)}/roi`, onnx.TensorProto.DataType.FLOAT, [0], []);
    return new onnx.NodeProto({
      ...node,
      opType: 'Resize',
      input: [node.input?.[0] ?? '', roi, scalesName],
      attribute: [
        { name: 'mode', type: STRING, s: text(mode) },
        { name: 'coordinate_transformation_mode', type: STRING, s: text('asymmetric') },
        { name: 'nearest_mode', type: STRING, s: text('floor') },
      ],
    });
  },
};

function upsampleScales(node: onnx.INodeProto, rewrite: Rewrite): number[] | undefined {
  const fromAttribute = attribute(node, 'scales')?.floats;
  if (fromAttribute && fromAttribute.length > 0) return [...fromAttribute];
  return node.input?.[1] ? rewrite.floats(node.input[1]) : undefined;
}

/** Squeeze, Unsqueeze and reductions: the `axes` attribute becomes an int64 input (at 13, or 18 for most reductions). */
function axesToInput(version: number): Converter {
  return {
    covers: [version],
    check: () => undefined,
    convert: (node, rewrite) => {
      const axes = attribute(node, 'axes');
      const inputs = [...(node.input ?? [])];
      if (axes) inputs[1] = rewrite.add(`${baseName(node)}/axes`, onnx.TensorProto.DataType.INT64, [axes.ints?.length ?? 0], (axes.ints ?? []).map(toNumber));
      return new onnx.NodeProto({ ...node, input: inputs, attribute: withoutAttributes(node, ['axes']) });
    },
  };
}

/** Split: the `split` attribute becomes an int64 input at 13; from 18 an even split must state num_outputs. */
const split: Converter = {
  covers: [13, 18],
  check: () => undefined,
  convert: (node, rewrite) => {
    const sizes = attribute(node, 'split');
    const inputs = [...(node.input ?? [])];
    const attributes = withoutAttributes(node, ['split']);
    if (sizes && (sizes.ints?.length ?? 0) > 0) {
      inputs[1] = rewrite.add(`${baseName(node)}/split`, onnx.TensorProto.DataType.INT64, [sizes.ints!.length], sizes.ints!.map(toNumber));
    } else if (rewrite.to >= 18) {
      attributes.push({ name: 'num_outputs', type: INT, i: (node.output ?? []).length });
    }
    return new onnx.NodeProto({ ...node, input: inputs, attribute: attributes });
  },
};

function converterFor(op: string): Converter | undefined {
  if (op === 'Clip') return clip;
  if (op === 'Upsample') return upsample;
  if (op === 'Split') return split;
  if (AXES_TO_INPUT_AT_13.has(op)) return axesToInput(13);
  if (AXES_TO_INPUT_AT_18.has(op)) return axesToInput(18);
  return undefined;
}

function defaultDomain(node: onnx.INodeProto): boolean {
  return !node.domain || node.domain === 'ai.onnx';
}

/** Inputs of the default-domain Softmax-family nodes: the tensors whose rank decides whether the raise is safe. */
export function softmaxInputs(model: onnx.IModelProto): string[] {
  return (model.graph?.node ?? [])
    .filter((n) => defaultDomain(n) && SOFTMAX_FAMILY.has(n.opType ?? '') && n.input?.[0])
    .map((n) => n.input![0]);
}

function softmaxOnLastAxis(node: onnx.INodeProto, opset: number, ranks?: Map<string, number>): boolean {
  // Before opset 13 the default axis is 1 (flatten to 2-D from axis 1); from 13 it is -1.
  let axis = opset < 13 ? 1 : -1;
  const axisAttribute = attribute(node, 'axis');
  if (axisAttribute) axis = toNumber(axisAttribute.i);
  if (axis === -1) return true;
  const rank = ranks?.get(node.input?.[0] ?? '');
  return rank !== undefined && axis === rank - 1;
}

function declaredDtypes(model: onnx.IModelProto): Map<string, string> {
  const graph = model.graph ?? {};
  const map = new Map<string, string>();
  for (const list of [graph.valueInfo, graph.input, graph.output]) for (const v of list ?? []) map.set(v.name ?? '', dtypeName(v.type?.tensorType?.elemType));
  return map;
}

/** Breaking changes a node meets between `from` and `to` that no rewrite covers, as a reason; undefined when none. */
function nodeBlocker(node: onnx.INodeProto, from: number, to: number, rewrite: Rewrite, ranks?: Map<string, number>): string | undefined {
  const op = node.opType ?? '';
  const breaking = (BREAKING_VERSIONS[op] ?? []).filter((v) => v > from && v <= to);
  if (breaking.length === 0) return undefined;
  if (SOFTMAX_FAMILY.has(op) && breaking.length === 1 && softmaxOnLastAxis(node, from, ranks)) return undefined;
  const converter = converterFor(op);
  if (converter && breaking.every((v) => converter.covers.includes(v))) return converter.check(node, rewrite);
  return `${op} node "${node.name}" changed meaning at opset ${breaking[0]}`;
}

/**
 * Returns why the model's default opset cannot be raised to `to`, or undefined when it can (by relabelling and
 * the rewrites above). `ranks` (tensor name → rank) lets a Softmax on the last axis pass.
 */
export function relabelBlocker(model: onnx.IModelProto, to: number, ranks?: Map<string, number>): string | undefined {
  const from = defaultOpsetOf(model);
  if (from >= to) return undefined;
  const rewrite = new Rewrite(model, from, to, declaredDtypes(model));
  for (const node of model.graph?.node ?? []) {
    if (!defaultDomain(node)) continue;
    const blocker = nodeBlocker(node, from, to, rewrite, ranks);
    if (blocker) return blocker;
  }
  return undefined;
}

/**
 * Returns the model at default opset `to`, with the rewrites applied. Throws when relabelBlocker reports a
 * blocker. A model already at or above `to` is returned unchanged.
 */
export function upgradeOpset(model: onnx.IModelProto, to: number, ranks?: Map<string, number>): onnx.IModelProto {
  const from = defaultOpsetOf(model);
  if (from >= to) return model;
  const blocker = relabelBlocker(model, to, ranks);
  if (blocker) throw new Error(`Cannot raise the model from opset ${from} to ${to}: ${blocker}.`);

  const rewrite = new Rewrite(model, from, to, declaredDtypes(model));
  const nodes = (model.graph?.node ?? []).map((node) => {
    if (!defaultDomain(node)) return node;
    const breaking = (BREAKING_VERSIONS[node.opType ?? ''] ?? []).filter((v) => v > from && v <= to);
    const converter = breaking.length > 0 ? converterFor(node.opType ?? '') : undefined;
    return converter ? converter.convert(node, rewrite) : node;
  });
  const opsetImport = (model.opsetImport ?? []).map((o) => (!o.domain || o.domain === 'ai.onnx' ? new onnx.OperatorSetIdProto({ domain: '', version: to }) : o));
  const graph = new onnx.GraphProto({ ...model.graph, node: nodes, initializer: [...(model.graph?.initializer ?? []), ...rewrite.initializers] });
  return new onnx.ModelProto({ ...model, opsetImport, graph });
}

/**
 * Returns why `model` and `head` cannot share one default opset (the higher of the two), or undefined when
 * they can: the older graph is raised, so either side may block.
 */
export function mergeBlocker(model: onnx.IModelProto, head: onnx.IModelProto, ranks?: Map<string, number>): string | undefined {
  const target = Math.max(defaultOpsetOf(model), defaultOpsetOf(head));
  const modelBlocker = relabelBlocker(model, target, ranks);
  if (modelBlocker) return modelBlocker;
  const headBlocker = relabelBlocker(head, target);
  return headBlocker ? `the head cannot be raised to opset ${target}: ${headBlocker}` : undefined;
}

function defaultOpsetOf(model: onnx.IModelProto): number {
  const entry = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  return toNumber(entry?.version);
}
