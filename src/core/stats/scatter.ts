/**
 * The scatter matrix of a block of already-centred feature vectors, computed by onnxruntime (a one-node
 * ONNX graph) so that D = 1024 runs at BLAS speed rather than in JavaScript loops. The block is stored
 * channel-major, X of shape [D, n] (column j = one centred feature vector), which is how an NCHW feature map
 * is laid out, so gathering it writes contiguous memory; the scatter is then S = X·Xᵀ = Σ_j x_j·x_jᵀ.
 */
import { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';

/**
 * Precision of the per-batch product. `float32` (default) rounds the centred rows to float32 and uses the
 * fast single-precision GEMM (about 4× faster at D = 1024; relative error about 1e-7 on centred data);
 * `float64` computes it in double precision. Counts, means and the merged scatter are float64 either way.
 */
export type ScatterPrecision = 'float32' | 'float64';

/**
 * Builds the graph S = Gemm(X, X, transB = 1) = X·Xᵀ for X of shape [D, n] with dynamic D and n. Gemm reads
 * the transposed operand in place; measured here, this ran 1.3 to 2× faster than MatMul after a Transpose node.
 */
export function scatterGraph(precision: ScatterPrecision): Uint8Array {
  const elemType = precision === 'float32' ? onnx.TensorProto.DataType.FLOAT : onnx.TensorProto.DataType.DOUBLE;
  const valueInfo = (name: string, dims: string[]) => onnx.ValueInfoProto.create({
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((dimParam) => ({ dimParam })) } } },
  });
  const gemm = onnx.NodeProto.create({
    name: 'scatter', opType: 'Gemm', input: ['x', 'x'], output: ['scatter'],
    attribute: [onnx.AttributeProto.create({ name: 'transB', i: 1, type: onnx.AttributeProto.AttributeType.INT })],
  });
  const graph = onnx.GraphProto.create({
    name: 'heat_lens_scatter', node: [gemm],
    input: [valueInfo('x', ['d', 'n'])], output: [valueInfo('scatter', ['d', 'd'])],
  });
  const model = onnx.ModelProto.create({
    irVersion: 8, producerName: 'heat-lens', opsetImport: [{ domain: '', version: 13 }], graph,
  });
  return onnx.ModelProto.encode(model).finish();
}

/**
 * onnxruntime sessions computing scatter matrices: one in the chosen precision for the centred feature blocks,
 * one in float64 for the small exact products of merge terms. Reuse it for a whole statistics pass.
 */
export class ScatterEngine {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly exactSession: ort.InferenceSession,
    readonly precision: ScatterPrecision,
  ) {}

  static async create(precision: ScatterPrecision = 'float32', executionProviders: string[] = ['cpu']): Promise<ScatterEngine> {
    const options: ort.InferenceSession.SessionOptions = {
      executionProviders,
      graphOptimizationLevel: 'all',
      // The model's own session runs between scatter products; idle threads spinning here would slow it down.
      extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
    };
    const session = await ort.InferenceSession.create(scatterGraph(precision), options);
    const exactSession = precision === 'float64' ? session : await ort.InferenceSession.create(scatterGraph('float64'), options);
    return new ScatterEngine(session, exactSession, precision);
  }

  /** Computes X·Xᵀ for a float64 block X [D, n] in float64, whatever the engine's precision. */
  async exactScatter(block: Float64Array, d: number, n: number): Promise<Float64Array> {
    const output = (await this.exactSession.run({ x: new ort.Tensor('float64', block, [d, n]) })).scatter;
    return output.data as Float64Array;
  }

  /** Allocates a zeroed block of D × n values in this engine's precision, to be filled channel-major with centred values. */
  allocate(d: number, n: number): Float32Array | Float64Array {
    return this.precision === 'float32' ? new Float32Array(d * n) : new Float64Array(d * n);
  }

  /** Computes X·Xᵀ for the centred block X [D, n] from allocate(), returned [D, D] in the engine's precision (add it into float64). */
  async scatter(block: Float32Array | Float64Array, d: number, n: number): Promise<Float32Array | Float64Array> {
    const input = block instanceof Float32Array
      ? new ort.Tensor('float32', block, [d, n])
      : new ort.Tensor('float64', block, [d, n]);
    const output = (await this.session.run({ x: input })).scatter;
    return output.data as Float32Array | Float64Array;
  }

  async release(): Promise<void> {
    await this.session.release();
    if (this.exactSession !== this.session) await this.exactSession.release();
  }
}
