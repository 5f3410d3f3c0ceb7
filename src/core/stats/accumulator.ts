/**
 * Streaming per-class moments: count n, mean μ and scatter M2 = Σ (x − μ)(x − μ)ᵀ, in float64.
 *
 * Blocks of samples (one image's pixels of one class) and partial results from other shards are combined
 * with the exact pairwise update of Chan, Golub and LeVeque (1979):
 *   n = na + nb,  δ = μb − μa,  μ = μa + δ·nb/n,  M2 = M2a + M2b + δ·δᵀ·na·nb/n.
 * Memory is O(C·D²) whatever the number of images; no sample is kept.
 */
import { HeatError } from '../errors';
import { ScatterEngine } from './scatter';

/** Mergeable per-class feature moments: what a shard file stores. */
export interface ClassMoments {
  classCount: number;
  dim: number;
  /** [C] number of samples per class. */
  counts: Float64Array;
  /** [C, D] class means. */
  means: Float64Array;
  /** [C, D, D] class scatter matrices Σ (x − μc)(x − μc)ᵀ. */
  scatters: Float64Array;
}

/** Mergeable per-class moments of a scalar (the max logit): count, mean and M2 = Σ (v − mean)². */
export interface ScalarMoments {
  counts: Float64Array;
  means: Float64Array;
  m2: Float64Array;
}

export function emptyMoments(classCount: number, dim: number): ClassMoments {
  return {
    classCount,
    dim,
    counts: new Float64Array(classCount),
    means: new Float64Array(classCount * dim),
    scatters: new Float64Array(classCount * dim * dim),
  };
}

export function emptyScalarMoments(classCount: number): ScalarMoments {
  return { counts: new Float64Array(classCount), means: new Float64Array(classCount), m2: new Float64Array(classCount) };
}

/**
 * Merges a block (n, mean, scatter) into class `c` of `target` in place with the pairwise update above.
 * `mean` is [D] and `scatter` [D, D]; both are read, never kept.
 */
export function mergeBlock(target: ClassMoments, c: number, n: number, mean: Float64Array, scatter: Float64Array): void {
  if (n === 0) return;
  const d = target.dim;
  const na = target.counts[c];
  const total = na + n;
  const meanA = target.means.subarray(c * d, (c + 1) * d);
  const m2 = target.scatters.subarray(c * d * d, (c + 1) * d * d);

  const delta = new Float64Array(d);
  for (let i = 0; i < d; i++) delta[i] = mean[i] - meanA[i];
  const weight = (na * n) / total;
  for (let i = 0; i < d; i++) {
    const row = i * d;
    const di = delta[i] * weight;
    for (let j = 0; j < d; j++) m2[row + j] += scatter[row + j] + di * delta[j];
  }
  const step = n / total;
  for (let i = 0; i < d; i++) meanA[i] += delta[i] * step;
  target.counts[c] = total;
}

/** Merges every class of `source` into `target` in place (exact; order-independent up to float64 rounding). */
export function mergeMoments(target: ClassMoments, source: ClassMoments): void {
  if (target.classCount !== source.classCount || target.dim !== source.dim) {
    throw new HeatError(
      `Cannot merge statistics of ${source.classCount} classes × D = ${source.dim} into ${target.classCount} classes × D = ${target.dim}.`,
      'Merge only shards made with the same model, feature layer and class list.',
    );
  }
  const d = source.dim;
  for (let c = 0; c < source.classCount; c++) {
    mergeBlock(target, c, source.counts[c], source.means.subarray(c * d, (c + 1) * d), source.scatters.subarray(c * d * d, (c + 1) * d * d));
  }
}

/** Merges scalar block (n, mean, m2) into class `c` of `target`, same pairwise update with D = 1. */
export function mergeScalarBlock(target: ScalarMoments, c: number, n: number, mean: number, m2: number): void {
  if (n === 0) return;
  const na = target.counts[c];
  const total = na + n;
  const delta = mean - target.means[c];
  target.m2[c] += m2 + delta * delta * (na * n) / total;
  target.means[c] += delta * (n / total);
  target.counts[c] = total;
}

export function mergeScalarMoments(target: ScalarMoments, source: ScalarMoments): void {
  for (let c = 0; c < source.counts.length; c++) mergeScalarBlock(target, c, source.counts[c], source.means[c], source.m2[c]);
}

/** A feature map of one image, batch dimension removed. */
export interface FeatureGrid {
  data: Float32Array;
  /** Feature dimension D. */
  channels: number;
  height: number;
  width: number;
  /** 'NCHW': data is [D, h, w]; 'NHWC': data is [h, w, D]. */
  layout: 'NCHW' | 'NHWC';
}

/**
 * Adds one image's labelled feature cells to `target`. `cellClass` [h·w] gives each cell's class, or −1
 * for cells left out. Per class, the rows are centred on their own float64 mean and the scatter of the
 * centred rows is computed by onnxruntime; the block then merges exactly. Centring before the product is
 * what keeps float32 products accurate when features carry a large common offset.
 */
export async function accumulateFeatures(
  target: ClassMoments, engine: ScatterEngine, features: FeatureGrid, cellClass: Int32Array,
): Promise<void> {
  const d = features.channels;
  const cells = features.height * features.width;
  if (d !== target.dim) {
    throw new HeatError(`The feature map has ${d} channels but the statistics expect D = ${target.dim}.`, 'Use the same feature layer for every image.');
  }
  if (cellClass.length !== cells) throw new Error(`cellClass has ${cellClass.length} entries for a ${features.height}×${features.width} grid.`);

  const members = new Map<number, number[]>();
  for (let p = 0; p < cells; p++) {
    const c = cellClass[p];
    if (c < 0) continue;
    if (c >= target.classCount) throw new HeatError(`Class ${c} is outside the ${target.classCount} classes of the statistics.`, 'Check heat.labels.map and heat.model.classNames.');
    let list = members.get(c);
    if (!list) members.set(c, (list = []));
    list.push(p);
  }

  for (const [c, list] of [...members].sort((a, b) => a[0] - b[0])) {
    const n = list.length;
    const rows = gatherRows(features, list);
    const mean = new Float64Array(d);
    for (let r = 0; r < n; r++) for (let i = 0; i < d; i++) mean[i] += rows[r * d + i];
    for (let i = 0; i < d; i++) mean[i] /= n;
    for (let r = 0; r < n; r++) for (let i = 0; i < d; i++) rows[r * d + i] -= mean[i];
    const scatter = await engine.scatter(rows, n, d);
    mergeBlock(target, c, n, mean, scatter);
  }
}

/** Copies the feature vectors of the listed cells into a float64 [n, D] row-major block. */
function gatherRows(features: FeatureGrid, cellIndices: number[]): Float64Array {
  const d = features.channels;
  const plane = features.height * features.width;
  const rows = new Float64Array(cellIndices.length * d);
  if (features.layout === 'NHWC') {
    cellIndices.forEach((p, r) => { for (let i = 0; i < d; i++) rows[r * d + i] = features.data[p * d + i]; });
  } else {
    for (let i = 0; i < d; i++) {
      const channel = i * plane;
      for (let r = 0; r < cellIndices.length; r++) rows[r * d + i] = features.data[channel + cellIndices[r]];
    }
  }
  return rows;
}

/**
 * Adds one image's per-pixel scalar values (the max logit) to `target`, grouped by `pixelClass` (−1 = left
 * out), with a two-pass mean and M2 per class and the exact merge.
 */
export function accumulateScalars(target: ScalarMoments, values: Float32Array, pixelClass: Int32Array): void {
  const classCount = target.counts.length;
  const n = new Float64Array(classCount);
  const sum = new Float64Array(classCount);
  for (let p = 0; p < values.length; p++) {
    const c = pixelClass[p];
    if (c < 0 || c >= classCount) continue;
    n[c] += 1;
    sum[c] += values[p];
  }
  const m2 = new Float64Array(classCount);
  for (let p = 0; p < values.length; p++) {
    const c = pixelClass[p];
    if (c < 0 || c >= classCount) continue;
    const deviation = values[p] - sum[c] / n[c];
    m2[c] += deviation * deviation;
  }
  for (let c = 0; c < classCount; c++) if (n[c] > 0) mergeScalarBlock(target, c, n[c], sum[c] / n[c], m2[c]);
}
