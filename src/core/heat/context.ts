/**
 * Shared state of one head graph while it is being built: the graph inputs, and a memo so that
 * intermediate maps (softmax, entropy, a pooled map) are computed once however many heads or
 * variants use them.
 *
 * Map conventions: `logits` is float32 [N, C, H, W]; `features` is float32 [N, D, h, w]; every score
 * map a head returns is float32 [N, H, W].
 */
import { ElemType, GraphBuilder, TensorAttr } from './graph';

export const LOGITS_INPUT = 'logits';
export const FEATURES_INPUT = 'features';

export interface HeadContextOptions {
  /** Number of classes C when known; otherwise the class axis is a symbolic dimension. */
  classCount?: number;
  /** Feature dimension D; needed only when a Mahalanobis head is built. */
  featureDim?: number;
}

export class HeadContext {
  readonly g = new GraphBuilder();
  readonly logits: string;
  private featuresName?: string;
  private readonly memo = new Map<string, string>();

  constructor(private readonly options: HeadContextOptions = {}) {
    this.logits = this.g.input(LOGITS_INPUT, ElemType.FLOAT, ['N', options.classCount ?? 'C', 'H', 'W']);
  }

  /** The features input, declared on first use so that heads without Mahalanobis do not require it. */
  features(dim: number): string {
    if (this.options.featureDim !== undefined && this.options.featureDim !== dim) {
      throw new Error(`Feature dimension ${dim} differs from the declared ${this.options.featureDim}.`);
    }
    if (!this.featuresName) {
      this.options.featureDim = dim;
      this.featuresName = this.g.input(FEATURES_INPUT, ElemType.FLOAT, ['N', dim, 'h', 'w']);
    }
    return this.featuresName;
  }

  /** Returns the memoised tensor for `key`, building it with `make` the first time. */
  once(key: string, make: () => string): string {
    let name = this.memo.get(key);
    if (name === undefined) {
      name = make();
      this.memo.set(key, name);
    }
    return name;
  }

  // Small op helpers; opset 17 takes ReduceSum/Squeeze axes as an input and ReduceMax/Min/Mean axes as an attribute.

  sumOver(x: string, axis: number, keepdims: boolean, hint?: string): string {
    return this.g.node('ReduceSum', [x, this.g.ints([axis])], { keepdims: keepdims ? 1 : 0 }, hint);
  }

  reduce(op: 'ReduceMax' | 'ReduceMin' | 'ReduceMean' | 'ReduceLogSumExp', x: string, axis: number, keepdims: boolean, hint?: string): string {
    return this.g.node(op, [x], { axes: [axis], keepdims: keepdims ? 1 : 0 }, hint);
  }

  add(a: string, b: string, hint?: string): string { return this.g.node('Add', [a, b], {}, hint); }
  sub(a: string, b: string, hint?: string): string { return this.g.node('Sub', [a, b], {}, hint); }
  mul(a: string, b: string, hint?: string): string { return this.g.node('Mul', [a, b], {}, hint); }
  div(a: string, b: string, hint?: string): string { return this.g.node('Div', [a, b], {}, hint); }
  neg(a: string, hint?: string): string { return this.g.node('Neg', [a], {}, hint); }
  log(a: string, hint?: string): string { return this.g.node('Log', [a], {}, hint); }

  /** a + c for a float constant c. */
  addConst(a: string, c: number, hint?: string): string { return this.add(a, this.g.scalar(c), hint); }

  /**
   * Mean over a k × k neighbourhood with stride 1 and "same" size output.
   * padding 'exclude': the mean is taken over the cells inside the image only (count_include_pad = 0);
   * padding 'zero': padded cells count as zeros (count_include_pad = 1, like torch avg_pool2d's default).
   */
  avgPool(x: string, kernelSize: number, padding: 'exclude' | 'zero', hint?: string): string {
    const r = (kernelSize - 1) / 2;
    return this.g.node('AveragePool', [x], {
      kernel_shape: [kernelSize, kernelSize],
      strides: [1, 1],
      pads: [r, r, r, r],
      count_include_pad: padding === 'zero' ? 1 : 0,
    }, hint);
  }

  /** A [N, H, W] map filled with `value`, shaped like the logits without their class axis. */
  constantMap(value: number, hint?: string): string {
    const shape = this.once('map_shape', () => this.g.node('Concat', [
      this.g.node('Shape', [this.logits], { start: 0, end: 1 }, 'n'),
      this.g.node('Shape', [this.logits], { start: 2 }, 'HW'),
    ], { axis: 0 }, 'map_shape'));
    const fill = new TensorAttr({ dataType: ElemType.FLOAT, dims: [1], floatData: [value] });
    return this.g.node('ConstantOfShape', [shape], { value: fill }, hint);
  }
}
