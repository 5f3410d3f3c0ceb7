/**
 * Small helpers over the `onnx-proto` message classes: integer fields, data type names, shapes and the
 * producer of every tensor. Everything else in src/core/model builds on these.
 */
import { onnx } from 'onnx-proto';

export { onnx };

type LongLike = number | { toNumber(): number } | null | undefined;

/** protobufjs decodes 64-bit fields as Long objects; ONNX dimensions and versions always fit a double. */
export function toNumber(value: LongLike): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'number' ? value : value.toNumber();
}

const DTYPE_NAMES: Record<number, string> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string',
  9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 14: 'complex64', 15: 'complex128', 16: 'bfloat16',
};

const DTYPE_CODES: Record<string, number> = Object.fromEntries(Object.entries(DTYPE_NAMES).map(([code, name]) => [name, Number(code)]));

/** onnxruntime's name for an ONNX element type, for example 1 → "float32"; "unknown" when not set. */
export function dtypeName(elemType: number | null | undefined): string {
  return (elemType && DTYPE_NAMES[elemType]) || 'unknown';
}

/** ONNX element type for an onnxruntime type name; 0 (undefined) for names ONNX has no code for. */
export function dtypeCode(name: string): number {
  return DTYPE_CODES[name] ?? 0;
}

/** Dimensions of a value: numbers for fixed dims, strings for symbolic ones, null when the shape is absent. */
export function valueShape(value: onnx.IValueInfoProto | undefined): (number | string)[] | null {
  const shape = value?.type?.tensorType?.shape;
  if (!shape) return null;
  return (shape.dim ?? []).map((dim) => {
    if (dim.dimParam) return dim.dimParam;
    if (dim.dimValue !== null && dim.dimValue !== undefined) return toNumber(dim.dimValue);
    return '?';
  });
}

export function valueDtype(value: onnx.IValueInfoProto | undefined): string {
  return dtypeName(value?.type?.tensorType?.elemType);
}

/** Builds a ValueInfoProto for a tensor. A null shape leaves the shape out, so onnxruntime infers it. */
export function makeValueInfo(name: string, dtype: string, shape: (number | string)[] | null): onnx.ValueInfoProto {
  const tensorType: onnx.TypeProto.ITensor = { elemType: dtypeCode(dtype) || undefined };
  if (shape) {
    tensorType.shape = { dim: shape.map((d) => (typeof d === 'number' && d >= 0 ? { dimValue: d } : { dimParam: String(d) })) };
  }
  return new onnx.ValueInfoProto({ name, type: { tensorType } });
}

/** Version of the default ("" or "ai.onnx") operator set the model imports. */
export function defaultOpset(model: onnx.IModelProto): number {
  const entry = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  return toNumber(entry?.version);
}

/** Producer of a tensor: the node and its position in graph order (ONNX requires topological order). */
export interface Producer {
  node: onnx.INodeProto;
  index: number;
}

export function producers(graph: onnx.IGraphProto): Map<string, Producer> {
  const map = new Map<string, Producer>();
  (graph.node ?? []).forEach((node, index) => {
    for (const output of node.output ?? []) if (output) map.set(output, { node, index });
  });
  return map;
}

/** Names of every value the graph declares a type for: inputs, outputs and value_info. */
export function declaredValues(graph: onnx.IGraphProto): Map<string, onnx.IValueInfoProto> {
  const map = new Map<string, onnx.IValueInfoProto>();
  for (const list of [graph.valueInfo, graph.input, graph.output]) for (const v of list ?? []) if (v.name) map.set(v.name, v);
  return map;
}

export function initializerNames(graph: onnx.IGraphProto): Set<string> {
  return new Set([...(graph.initializer ?? []).map((t) => t.name ?? ''), ...(graph.sparseInitializer ?? []).map((t) => t.values?.name ?? '')]);
}

/** Graph inputs that are real feeds, not initializers listed as inputs (IR version < 4 lists both). */
export function feedInputs(graph: onnx.IGraphProto): onnx.IValueInfoProto[] {
  const inits = initializerNames(graph);
  return (graph.input ?? []).filter((v) => !inits.has(v.name ?? ''));
}

export function encodeModel(model: onnx.IModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

/** Integer attribute of a node, or `fallback` when absent. */
export function intAttribute(node: onnx.INodeProto, name: string, fallback: number): number {
  const attribute = (node.attribute ?? []).find((a) => a.name === name);
  return attribute ? toNumber(attribute.i) : fallback;
}
