/**
 * The scatter matrix XᵀX of a block of already-centred feature rows, computed by onnxruntime (a one-node
 * ONNX graph, MatMul(Transpose(X), X)) so that D = 1024 runs at BLAS speed rather than in JavaScript loops.
 */
import { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';

/**
 * Precision of the per-batch product. `float32` (default) rounds the centred rows to float32 and uses the
 * fast single-precision GEMM (about 4× faster at D = 1024; relative error about 1e-7 on centred data);
 * `float64` computes it in double precision. Counts, means and the merged scatter are float64 either way.
 */
export type ScatterPrecision = 'float32' | 'float64';

/** Builds the graph S = MatMul(Transpose(X), X) for X of shape [n, D] with dynamic n and D. */
export function scatterGraph(precision: ScatterPrecision): Uint8Array {
  const elemType = precision === 'float32' ? onnx.TensorProto.DataType.FLOAT : onnx.TensorProto.DataType.DOUBLE;
  const valueInfo = (name: string, dims: string[]) => onnx.ValueInfoProto.create({
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((dimParam) => ({ dimParam })) } } },
  });
  const transpose = onnx.NodeProto.create({
    name: 'transpose', opType: 'Transpose', input: ['x'], output: ['x_t'],
    attribute: [onnx.AttributeProto.create({ name: 'perm', ints: [1, 0], type: onnx.AttributeProto.AttributeType.INTS })],
  });
  const matmul = onnx.NodeProto.create({ name: 'scatter', opType: 'MatMul', input: ['x_t', 'x'], output: ['scatter'] });
  const graph = onnx.GraphProto.create({
    name: 'heat_lens_scatter', node: [transpose, matmul],
    input: [valueInfo('x', ['n', 'd'])], output: [valueInfo('scatter', ['d', 'd'])],
  });
  const model = onnx.ModelProto.create({
    irVersion: 8, producerName: 'heat-lens', opsetImport: [{ domain: '', version: 13 }], graph,
  });
  return onnx.ModelProto.encode(model).finish();
}

/** One onnxruntime session computing centred scatter matrices; reuse it for a whole statistics pass. */
export class ScatterEngine {
  private constructor(private readonly session: ort.InferenceSession, readonly precision: ScatterPrecision) {}

  static async create(precision: ScatterPrecision = 'float32', executionProviders: string[] = ['cpu']): Promise<ScatterEngine> {
    const session = await ort.InferenceSession.create(scatterGraph(precision), {
      executionProviders,
      graphOptimizationLevel: 'all',
    });
    return new ScatterEngine(session, precision);
  }

  /** XᵀX for `rows` [n, D] row-major (already centred), returned as float64 [D, D]. */
  async scatter(rows: Float64Array, n: number, d: number): Promise<Float64Array> {
    const input = this.precision === 'float32'
      ? new ort.Tensor('float32', Float32Array.from(rows), [n, d])
      : new ort.Tensor('float64', rows, [n, d]);
    const output = (await this.session.run({ x: input })).scatter;
    const data = output.data as Float32Array | Float64Array;
    const result = data instanceof Float64Array ? data : Float64Array.from(data);
    output.dispose();
    return result;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
