/**
 * Mahalanobis head: M = min over known classes c of sqrt(max(d²_c, 0)), with
 * d²_c = (f − μ_c)ᵀ P (f − μ_c) for the feature vector f of a cell, the class mean μ_c and a precision
 * matrix P (the inverse of the regularised covariance). Anomaly score = +M: higher = more anomalous.
 *
 * Computed at feature resolution [N, D, h, w], then bilinearly upsampled to the logits' H × W
 * (Resize linear, half_pixel: the same sampling as torch F.interpolate(mode='bilinear', align_corners=False)).
 *
 * Covariance modes:
 *  - 'tied': one shared P. The nearest class comes from the class-dependent part of the expanded form
 *    (a D × C MatMul), then d² = Σ_D (f − μ_ĉ) ⊙ P(f − μ_ĉ) is computed directly: one D × D MatMul per image,
 *    or from D = 512 on ‖Lᵀ(f − μ_ĉ)‖² with the Cholesky factor P = L·Lᵀ, in triangular row blocks.
 *  - 'classwise': one P_c per class. Direct form d²_c = Σ_D (P_c (f − μ_c)) ⊙ (f − μ_c), one MatMul per class.
 *  - 'lowrank': the top-k eigenpairs (v_j, λ_j) of the regularised tied covariance,
 *    d²_c = Σ_j ((f − μ_c)·v_j)² / λ_j = ‖W (f − μ_c)‖² with W = Λ^{-1/2} Vᵀ (k × D), nearest class as for 'tied'.
 * All constants are precomputed in float64 and rounded to float32 once. Rounding can still leave d²
 * slightly negative, hence the clamp at 0 before the root.
 * Classes listed in `emptyClasses` (or with a zero count) are left out of the minimum.
 * NaN features give NaN distances (Relu, ReduceMin and Min propagate NaN in onnxruntime).
 */
import { HeatError } from '../errors';
import type { ClassStatistics } from '../stats/types';
import { blockBounds, cholesky } from '../stats/linalg';
import { FEATURES_INPUT, HeadContext } from './context';

export type CovarianceMode = 'tied' | 'classwise' | 'lowrank';

/** Builds the [N, H, W] Mahalanobis map from the features input `featuresInput` and returns its name. */
export function mahalanobisHead(ctx: HeadContext, stats: ClassStatistics, covariance: CovarianceMode, statsKey: string, featuresInput = FEATURES_INPUT): string {
  return ctx.once(`mahalanobis:${statsKey}:${covariance}:${featuresInput}`, () => {
    checkMeans(stats);
    const classes = activeClasses(stats);
    const features = ctx.features(stats.dim, featuresInput);
    const flat = ctx.g.node('Reshape', [features, ctx.g.ints([0, stats.dim, -1])], {}, 'features_flat');
    const squared = covariance === 'classwise'
      ? classwiseDistances(ctx, stats, classes, flat)
      : sharedCovarianceDistances(ctx, stats, classes, flat, covariance);
    const clamped = ctx.g.node('Relu', [squared], {}, 'd2_clamped');
    const distance = ctx.g.node('Sqrt', [clamped], {}, 'mahalanobis_coarse');
    return upsampleToLogits(ctx, distance, features);
  });
}

/** Returns the classes that enter the minimum, and throws when none is left. */
export function activeClasses(stats: ClassStatistics): number[] {
  const empty = new Set(stats.emptyClasses);
  const classes: number[] = [];
  for (let c = 0; c < stats.classCount; c++) if (!empty.has(c) && stats.counts[c] > 0) classes.push(c);
  if (classes.length === 0) {
    throw new HeatError('The statistics have no class with training pixels, so no Mahalanobis distance can be computed.',
      'Recompute the statistics on labelled images that contain known classes.', 'heat.statistics.path');
  }
  return classes;
}

/**
 * Tied and low-rank, as [N, hw]. The nearest class ĉ minimises the class-dependent part of the expanded
 * form, s_c = μ_cᵀAμ_c − 2·fᵀAμ_c = d²_c − fᵀAf, which needs only a C × D MatMul. Its distance is then
 * computed in the direct form from f − μ_ĉ, because the expanded form cancels badly near a class mean:
 * at D = 1024 it gave 0.085 for a true distance of 0.090. A near-tie between two classes can pick the
 * slightly farther one, which changes d² by no more than that rounding.
 */
function sharedCovarianceDistances(ctx: HeadContext, stats: ClassStatistics, classes: number[], flat: string, covariance: 'tied' | 'lowrank'): string {
  const D = stats.dim;
  const C = classes.length;
  const P = covariance === 'tied' ? symmetrised(require64(stats.tiedPrecision, D * D, 'tiedPrecision', 'tied'), D) : undefined;
  const W = covariance === 'lowrank' ? whitening(stats) : undefined;
  const k = W ? W.length / D : D;

  // A·μ_c in float64, with A = P or A = WᵀW (W = Λ^{-1/2} Vᵀ).
  const applyA = (m: Float64Array): Float64Array => (P ? matVec(P, m, D, D) : matTVec(W as Float64Array, matVec(W as Float64Array, m, k, D), k, D));
  const cross = new Float64Array(C * D); // [C, D], row c = −2·A·μ_c
  const offset = new Float64Array(C); // μ_cᵀAμ_c
  const meansT = new Float64Array(D * C); // [D, C], column c = μ_c
  classes.forEach((c, i) => {
    const mean = rowOf(stats.means, c, D);
    const Am = applyA(mean);
    for (let d = 0; d < D; d++) {
      cross[i * D + d] = -2 * Am[d];
      meansT[d * C + i] = mean[d];
    }
    offset[i] = dot(mean, Am);
  });

  const partial = ctx.add(ctx.g.node('MatMul', [ctx.g.floats('cross', cross, [C, D]), flat], {}, 'cross'),
    ctx.g.floats('offset', offset, [C, 1]), 'd2_partial'); // [N, C, hw]
  const nearest = ctx.g.node('ArgMin', [partial], { axis: 1, keepdims: 0 }, 'nearest_class'); // [N, hw]
  // μ_ĉ per cell as a MatMul with the one-hot class map: no gather along D and no transpose.
  const oneHot = ctx.g.node('OneHot', [nearest, ctx.g.ints([C]), ctx.g.floats('one_hot_values', [0, 1], [2])], { axis: 1 }, 'nearest_one_hot');
  const nearestMean = ctx.g.node('MatMul', [ctx.g.floats('class_means_t', meansT, [D, C]), oneHot], {}, 'nearest_mean'); // [N, D, hw]
  const diff = ctx.sub(flat, nearestMean, 'diff_nearest');
  if (P) {
    const factor = D >= TRIANGULAR_MIN_DIM ? upperFactor(P, D) : undefined;
    if (factor) return triangularDistances(ctx, factor, D, diff);
    const Pdiff = ctx.g.node('MatMul', [ctx.g.floats('tied_precision', P, [D, D]), diff], {}, 'p_diff');
    return sumOverRows(ctx, ctx.mul(diff, Pdiff), D, 'd2_min');
  }
  const z = ctx.g.node('MatMul', [ctx.g.floats('lowrank_whitening', W as Float64Array, [k, D]), diff], {}, 'z');
  return sumOverRows(ctx, ctx.mul(z, z), k, 'd2_min');
}

/**
 * Smallest D for the triangular product. Below it the node overhead outweighed the saving: with DeepLabV3's
 * D = 256 on 33 × 33 cells the head was slower (measured on a 2-core CPU).
 */
const TRIANGULAR_MIN_DIM = 512;

/**
 * Returns U = Lᵀ for the Cholesky factor P = L·Lᵀ (float64, row-major, upper triangular), or undefined when
 * rounding left P not positive definite, in which case the full product is used.
 */
function upperFactor(P: Float64Array, D: number): Float64Array | undefined {
  let L: Float64Array;
  try {
    L = cholesky(P, D, 'tied precision');
  } catch {
    return undefined;
  }
  const U = new Float64Array(D * D);
  for (let i = 0; i < D; i++) for (let j = 0; j <= i; j++) U[j * D + i] = L[i * D + j];
  return U;
}

/**
 * d² = diffᵀ·P·diff = ‖U·diff‖² with the upper-triangular U = Lᵀ, as [N, 1, hw]. Row block k of U is zero left of
 * column b_k, so it multiplies only diff[b_k:]: with 4 row blocks that is 10/16 of the multiply-adds of the
 * full D × D product, the dominant cost of the head at D = 1024.
 */
function triangularDistances(ctx: HeadContext, U: Float64Array, D: number, diff: string): string {
  const parts = 4;
  const bounds = blockBounds(D, parts);
  let total: string | undefined;
  for (let k = 0; k < parts; k++) {
    const start = bounds[k];
    const rows = bounds[k + 1] - start;
    const cols = D - start;
    const block = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) block[r * cols + c] = U[(start + r) * D + start + c];
    const tail = start === 0 ? diff : ctx.g.node('Slice', [diff, ctx.g.ints([start]), ctx.g.ints([D]), ctx.g.ints([1])], {}, 'diff_tail');
    const y = ctx.g.node('MatMul', [ctx.g.floats('tied_factor', block, [rows, cols]), tail], {}, 'whitened');
    const part = sumOverRows(ctx, ctx.mul(y, y), rows, 'd2_part');
    total = total === undefined ? part : ctx.add(total, part, 'd2_min');
  }
  return total as string;
}

/**
 * Sums [N, rows, hw] over axis 1 into [N, 1, hw] with a MatMul by a row of ones. At 1024 × 8192 on a
 * 2-core CPU this took 7 ms against 139 ms for onnxruntime's ReduceSum over the middle axis.
 */
function sumOverRows(ctx: HeadContext, x: string, rows: number, hint: string): string {
  return ctx.g.node('MatMul', [ctx.g.floats(`ones_${rows}`, new Float64Array(rows).fill(1), [1, rows]), x], {}, hint);
}

/** Class-wise: min_c of Σ_D (P_c (f − μ_c)) ⊙ (f − μ_c), as [N, 1, hw]. One D × D MatMul per class. */
function classwiseDistances(ctx: HeadContext, stats: ClassStatistics, classes: number[], flat: string): string {
  const D = stats.dim;
  const all = require64(stats.classPrecisions, stats.classCount * D * D, 'classPrecisions', 'classwise');
  const perClass = classes.map((c) => {
    const P = symmetrised(all.subarray(c * D * D, (c + 1) * D * D), D);
    const diff = ctx.sub(flat, ctx.g.floats(`mean_${c}`, rowOf(stats.means, c, D), [D, 1]), `diff_${c}`);
    const Pdiff = ctx.g.node('MatMul', [ctx.g.floats(`precision_${c}`, P, [D, D]), diff], {}, `p_diff_${c}`);
    return sumOverRows(ctx, ctx.mul(Pdiff, diff), D, `d2_${c}`);
  });
  return perClass.length === 1 ? perClass[0] : ctx.g.node('Min', perClass, {}, 'd2_min');
}

/** Upsamples [N, hw] or [N, 1, hw] at feature resolution to [N, H, W] at logits resolution, bilinear with half-pixel centres. */
function upsampleToLogits(ctx: HeadContext, coarse: string, features: string): string {
  const g = ctx.g;
  const one = g.ints([1]);
  const coarseShape = g.node('Concat', [
    g.node('Shape', [features], { start: 0, end: 1 }, 'n'), one, g.node('Shape', [features], { start: 2 }, 'hw'),
  ], { axis: 0 }, 'coarse_shape');
  const grid = g.node('Reshape', [coarse, coarseShape], {}, 'mahalanobis_grid');
  const sizes = g.node('Concat', [
    g.node('Shape', [ctx.logits], { start: 0, end: 1 }, 'n'), one, g.node('Shape', [ctx.logits], { start: 2 }, 'HW'),
  ], { axis: 0 }, 'logits_sizes');
  const fine = g.node('Resize', [grid, '', '', sizes], {
    mode: 'linear',
    coordinate_transformation_mode: 'half_pixel',
  }, 'mahalanobis_fine');
  return g.node('Squeeze', [fine, one], {}, 'mahalanobis');
}

/** W = Λ^{-1/2} Vᵀ, k × D row-major, from the low-rank eigenpairs (V is D × k, column j = v_j). */
function whitening(stats: ClassStatistics): Float64Array {
  const lr = stats.lowRank;
  if (!lr) throw missing('lowRank', 'lowrank');
  const D = stats.dim;
  const k = lr.rank;
  if (lr.vectors.length !== D * k || lr.values.length !== k) {
    throw new HeatError(`Invalid low-rank statistics: ${lr.vectors.length} vector values and ${lr.values.length} eigenvalues, expected ${D * k} and ${k} for rank ${k} and D = ${D}.`,
      'Recompute the statistics file.', 'heat.statistics.path');
  }
  const W = new Float64Array(k * D);
  for (let j = 0; j < k; j++) {
    const lambda = lr.values[j];
    if (!(lambda > 0)) {
      throw new HeatError(`Low-rank eigenvalue ${j} is ${lambda}; eigenvalues must be positive.`,
        'Increase heat.statistics.regularization or lower heat.statistics.rank, then recompute the statistics.', 'heat.statistics.rank');
    }
    const scale = 1 / Math.sqrt(lambda);
    for (let d = 0; d < D; d++) W[j * D + d] = lr.vectors[d * k + j] * scale;
  }
  return W;
}

function checkMeans(stats: ClassStatistics): void {
  const D = stats.dim;
  if (!(Number.isInteger(D) && D > 0) || stats.means.length !== stats.classCount * D || stats.counts.length !== stats.classCount) {
    throw new HeatError(`Invalid statistics: ${stats.means.length} mean values and ${stats.counts.length} counts, expected ${stats.classCount * D} and ${stats.classCount} for ${stats.classCount} classes × D = ${D}.`,
      'Recompute the statistics file.', 'heat.statistics.path');
  }
}

function require64(values: Float64Array | undefined, length: number, field: string, mode: CovarianceMode): Float64Array {
  if (!values) throw missing(field, mode);
  if (values.length !== length) {
    throw new HeatError(`Invalid statistics: ${field} has ${values.length} values, expected ${length}.`, 'Recompute the statistics file.', 'heat.statistics.path');
  }
  return values;
}

function missing(field: string, mode: CovarianceMode): HeatError {
  return new HeatError(`heat.statistics.covariance is "${mode}" but the statistics file has no ${field}.`,
    `Set heat.statistics.covariance to a mode the file holds, or recompute the statistics with covariance "${mode}".`,
    'heat.statistics.covariance');
}

/** (P + Pᵀ)/2: a precision from a float64 inverse is symmetric only up to rounding. */
function symmetrised(P: Float64Array, D: number): Float64Array {
  const S = new Float64Array(D * D);
  for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) S[i * D + j] = 0.5 * (P[i * D + j] + P[j * D + i]);
  return S;
}

function rowOf(matrix: Float64Array, row: number, width: number): Float64Array {
  return matrix.subarray(row * width, (row + 1) * width);
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Row-major (rows × cols) matrix times a vector of length cols. */
function matVec(M: Float64Array, v: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += M[i * cols + j] * v[j];
    out[i] = s;
  }
  return out;
}

/** Mᵀ·v for a row-major (rows × cols) matrix M and a vector of length rows. */
function matTVec(M: Float64Array, v: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j] += M[i * cols + j] * v[i];
  return out;
}
