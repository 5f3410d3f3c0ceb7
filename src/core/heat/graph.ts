/**
 * A small builder for ONNX graphs: nodes with unique output names, initializers from typed arrays,
 * graph inputs and outputs with symbolic dimensions, and encoding to a ModelProto.
 *
 * Every head of HEAT Lens is written against this builder so that the heads stay readable as formulas.
 */
import { onnx } from 'onnx-proto';

/** The single default-domain opset every head graph targets (Softmax on axis 1 needs ≥ 13, Resize ≥ 11). */
export const HEAD_OPSET = 17;

/** IR version matching opset 17 (ONNX 1.12). */
const IR_VERSION = 8;

export const ElemType = {
  FLOAT: onnx.TensorProto.DataType.FLOAT,
  INT32: onnx.TensorProto.DataType.INT32,
  INT64: onnx.TensorProto.DataType.INT64,
} as const;

/** A float attribute. Plain numbers become INT attributes, so floats are wrapped explicitly. */
export class FloatAttr {
  constructor(readonly value: number) {}
}

/** A tensor attribute (for example ConstantOfShape's `value`). */
export class TensorAttr {
  constructor(readonly tensor: onnx.ITensorProto) {}
}

export type AttrValue = number | string | number[] | FloatAttr | TensorAttr;

/** A dimension: a fixed size, or the name of a symbolic (dynamic) dimension. */
export type Dim = number | string;

export class GraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private readonly names = new Set<string>();
  private readonly scalarCache = new Map<string, string>();

  /** @param prefix prepended to every generated tensor and node name, to keep merged graphs apart. */
  constructor(readonly prefix = 'heat/') {}

  /** Returns an unused tensor name derived from `hint`. */
  fresh(hint: string): string {
    let name = `${this.prefix}${hint}`;
    for (let i = 1; this.names.has(name); i++) name = `${this.prefix}${hint}_${i}`;
    this.names.add(name);
    return name;
  }

  /** Adds a node with one output and returns the output's name. Pass '' for an omitted optional input. */
  node(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, hint = op.toLowerCase()): string {
    const output = this.fresh(hint);
    this.nodes.push({
      opType: op,
      name: output,
      input: inputs,
      output: [output],
      attribute: Object.entries(attrs).map(([name, value]) => attribute(name, value)),
    });
    return output;
  }

  /** Adds an Identity node whose output is named exactly `name` (no prefix), for graph outputs. */
  alias(source: string, name: string): string {
    if (this.names.has(name)) throw new Error(`Tensor name ${name} is already used in the head graph.`);
    this.names.add(name);
    this.nodes.push({ opType: 'Identity', name: `${this.prefix}out/${name}`, input: [source], output: [name] });
    return name;
  }

  /** Adds a float32 initializer. Float64 input is rounded to float32 here, once, at build time. */
  floats(hint: string, values: ArrayLike<number>, dims: number[]): string {
    const data = Float32Array.from(values as ArrayLike<number>);
    checkSize(hint, data.length, dims);
    const name = this.fresh(hint);
    this.initializers.push({
      name,
      dataType: ElemType.FLOAT,
      dims,
      rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    });
    return name;
  }

  /** Adds an int64 initializer (shapes, axes). */
  int64s(hint: string, values: number[], dims: number[] = [values.length]): string {
    checkSize(hint, values.length, dims);
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    const name = this.fresh(hint);
    this.initializers.push({
      name,
      dataType: ElemType.INT64,
      dims,
      rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    });
    return name;
  }

  /** Returns a float32 scalar constant, shared between all uses of the same value. */
  scalar(value: number): string {
    const key = `f:${value}`;
    let name = this.scalarCache.get(key);
    if (!name) {
      name = this.floats('const', [value], []);
      this.scalarCache.set(key, name);
    }
    return name;
  }

  /** Returns a 1-D int64 constant, shared between all uses of the same values. */
  ints(values: number[]): string {
    const key = `i:${values.join(',')}`;
    let name = this.scalarCache.get(key);
    if (!name) {
      name = this.int64s('ints', values);
      this.scalarCache.set(key, name);
    }
    return name;
  }

  input(name: string, elemType: number, dims: Dim[]): string {
    if (this.names.has(name)) throw new Error(`Input name ${name} is already used in the head graph.`);
    this.names.add(name);
    this.inputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  /** Declares an existing tensor as a graph output. */
  output(name: string, elemType: number, dims: Dim[]): void {
    this.outputs.push(valueInfo(name, elemType, dims));
  }

  outputNames(): string[] {
    return this.outputs.map((o) => o.name as string);
  }

  inputNames(): string[] {
    return this.inputs.map((o) => o.name as string);
  }

  toModel(docString = ''): onnx.ModelProto {
    return onnx.ModelProto.create({
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: HEAD_OPSET }],
      producerName: 'heat-lens',
      docString,
      graph: {
        name: 'heat_head',
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
  }
}

/** Serialises a model to the bytes `InferenceSession.create` accepts. */
export function encodeModel(model: onnx.IModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

function valueInfo(name: string, elemType: number, dims: Dim[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, value: AttrValue): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (value instanceof FloatAttr) return { name, type: T.FLOAT, f: value.value };
  if (value instanceof TensorAttr) return { name, type: T.TENSOR, t: value.tensor };
  if (typeof value === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value };
  if (!Number.isInteger(value)) throw new Error(`Attribute ${name}=${value} is not an integer; wrap floats in FloatAttr.`);
  return { name, type: T.INT, i: value };
}

function checkSize(hint: string, length: number, dims: number[]): void {
  const expected = dims.reduce((a, b) => a * b, 1);
  if (length !== expected) throw new Error(`Initializer ${hint} has ${length} values but dims ${JSON.stringify(dims)} need ${expected}.`);
}
