/**
 * The statistics head: a graph merged after the model so that, for ground-truth labels, the per-class moments
 * of each feature layer are computed inside the model's own onnxruntime session. The feature maps (32 MB per
 * image at D = 1024 on a 64 × 128 grid) and the logits never travel to JavaScript; only [D, C] class sums,
 * the upper blocks of the [D, D] scatter and two logits-sized maps come back.
 *
 * Per layer, with X [D, n] the features of the n = h·w cells and O [C, n] the one-hot cell classes (a zero
 * column for a cell left out), both fed by the caller:
 *   m = (X·Oᵀ)·diag(1/n_c)            float32 class means            [D, C]
 *   Y = X ⊙ (1ᵀO) − m·O               cells centred on their class, left-out cells zero   [D, n]
 *   r = Y·Oᵀ                          residual sums, ≈ 0 up to float32 rounding of m     [D, C]
 *   S = Y·Yᵀ                          the scatter, [D, D], from its upper blocks Y_i·Y_jᵀ over channel ranges
 *                                     (scatter.ts), the lower blocks by transposition
 * The exact class mean is m_c + r_c/n_c, applied in float64 by the caller (accumulateFusedImage).
 *
 * From the logits [1, C, H, W] it returns the per-pixel max logit and argmax, which the max-logit moments need.
 * It also returns the number of pixels with a NaN or +Inf logit, found as a class sum that is NaN or +Inf. A −Inf
 * logit is accepted, as the scoring head accepts it. The count costs one product with a ones vector, about 1 ms at
 * 19 × 512 × 1024.
 */
import type { onnx } from 'onnx-proto';
import { ElemType, GraphBuilder } from '../heat/graph';
import { blockBounds } from './linalg';

export const FUSED_LOGITS_INPUT = 'logits';
export const FUSED_MAX_LOGIT = 'max_logit';
export const FUSED_ARGMAX = 'argmax';
export const FUSED_NON_FINITE = 'non_finite_logits';

/** Names of one layer's head inputs and outputs. */
export function fusedNames(layer: number): {
  features: string; cellClasses: string; inverseCounts: string; means: string; residuals: string; scatter: string;
} {
  return {
    features: `features_${layer}`,
    cellClasses: `cell_classes_${layer}`,
    inverseCounts: `inverse_counts_${layer}`,
    means: `means_${layer}`,
    residuals: `residuals_${layer}`,
    scatter: `scatter_${layer}`,
  };
}

export interface FusedLayer {
  /** Feature dimension D. */
  dim: number;
  /** Channel ranges of the scatter blocks (scatter.ts partsFor). */
  parts: number;
}

/**
 * Builds the statistics head for `layers` (features bound as NCHW [1, D, h, w]) and logits of `classCount`
 * classes (NCHW [1, C, H, W]). Inputs `cell_classes_i` [C, n_i] and `inverse_counts_i` [1, C] are fed per image.
 */
export function buildStatisticsHead(layers: readonly FusedLayer[], classCount: number): onnx.ModelProto {
  const g = new GraphBuilder('');
  const C = classCount;
  const transB = { transB: 1 };
  layers.forEach((layer, index) => {
    const names = fusedNames(index);
    const D = layer.dim;
    const features = g.input(names.features, ElemType.FLOAT, [1, D, `h${index}`, `w${index}`]);
    const onehot = g.input(names.cellClasses, ElemType.FLOAT, [C, `n${index}`]);
    const inverse = g.input(names.inverseCounts, ElemType.FLOAT, [1, C]);
    const x = g.node('Reshape', [features, g.ints([D, -1])], {}, `x_${index}`);
    const sums = g.node('Gemm', [x, onehot], transB, `sums_${index}`);
    const means = g.node('Mul', [sums, inverse], {}, `m_${index}`);
    const mask = g.node('MatMul', [g.floats(`ones_${index}`, new Float64Array(C).fill(1), [1, C]), onehot], {}, `mask_${index}`);
    const spread = g.node('MatMul', [means, onehot], {}, `cell_means_${index}`);
    const centred = g.node('Sub', [g.node('Mul', [x, mask], {}, `x_masked_${index}`), spread], {}, `y_${index}`);
    const residuals = g.node('Gemm', [centred, onehot], transB, `r_${index}`);
    g.alias(means, names.means);
    g.output(names.means, ElemType.FLOAT, [D, C]);
    g.alias(residuals, names.residuals);
    g.output(names.residuals, ElemType.FLOAT, [D, C]);

    const bounds = blockBounds(D, layer.parts);
    const slices = bounds.slice(0, -1).map((start, i) => (layer.parts === 1
      ? centred
      : g.node('Slice', [centred, g.ints([start]), g.ints([bounds[i + 1]]), g.ints([0])], {}, `y_${index}_${i}`)));
    const upper: string[][] = slices.map(() => []);
    for (let i = 0; i < layer.parts; i++) {
      for (let j = i; j < layer.parts; j++) upper[i][j] = g.node('Gemm', [slices[i], slices[j]], transB, `s_${index}_${i}_${j}`);
    }
    // Rows of blocks, the lower ones transposed from the upper, so the caller adds one contiguous matrix.
    const rows = slices.map((_, i) => {
      const row = slices.map((__, j) => (j >= i ? upper[i][j] : g.node('Transpose', [upper[j][i]], { perm: [1, 0] }, `s_${index}_${i}_${j}`)));
      return row.length === 1 ? row[0] : g.node('Concat', row, { axis: 1 }, `s_${index}_row_${i}`);
    });
    const scatter = rows.length === 1 ? rows[0] : g.node('Concat', rows, { axis: 0 }, `s_${index}`);
    g.alias(scatter, names.scatter);
    g.output(names.scatter, ElemType.FLOAT, [D, D]);
  });

  const logits = g.input(FUSED_LOGITS_INPUT, ElemType.FLOAT, [1, C, 'H', 'W']);
  // The max logit is gathered at the argmax rather than reduced again, so each pixel reads one value instead of
  // all C planes a second time (0.6 against 3.6 ms at 19 × 512 × 1024, measured on 2 cores).
  const argmax = g.node('ArgMax', [logits], { axis: 1, keepdims: 1 }, 'argmax_z');
  g.alias(g.node('GatherElements', [logits, argmax], { axis: 1 }, 'max_z'), FUSED_MAX_LOGIT);
  g.output(FUSED_MAX_LOGIT, ElemType.FLOAT, [1, 1, 'H', 'W']);
  g.alias(g.node('Cast', [argmax], { to: ElemType.INT32 }, 'argmax_int'), FUSED_ARGMAX);
  g.output(FUSED_ARGMAX, ElemType.INT32, [1, 1, 'H', 'W']);

  const classSum = g.node('MatMul', [g.floats('logit_ones', new Float64Array(C).fill(1), [1, C]), g.node('Reshape', [logits, g.ints([C, -1])], {}, 'logit_planes')], {}, 'logit_sum');
  const bad = g.node('Or', [g.node('IsNaN', [classSum], {}, 'logit_nan'), g.node('IsInf', [classSum], { detect_negative: 0, detect_positive: 1 }, 'logit_inf')], {}, 'logit_bad');
  g.alias(g.node('ReduceSum', [g.node('Cast', [bad], { to: ElemType.FLOAT }, 'logit_bad_count')], { keepdims: 0 }, 'non_finite'), FUSED_NON_FINITE);
  g.output(FUSED_NON_FINITE, ElemType.FLOAT, []);
  return g.toModel('HEAT Lens statistics head: class means, centred scatter blocks and logit peaks.');
}
