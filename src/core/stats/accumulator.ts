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
 * for cells left out. Per class, the vectors are centred on their own float64 mean and the scatter of the
 * centred block is computed by onnxruntime; the block then merges exactly. Centring before the product is
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
    const mean = new Float64Array(d);
    const block = engine.allocate(d, n);
    centredBlock(features, Int32Array.from(list), mean, block);
    const scatter = await engine.scatter(block, d, n);
    mergeBlock(target, c, n, mean, scatter);
  }
}

/**
 * Fills `block` [D, n] (channel-major) with the listed cells' feature vectors minus their mean, and `mean` [D]
 * with that mean, summed in float64. Each centred value is rounded once into the block's precision.
 */
function centredBlock(features: FeatureGrid, cells: Int32Array, mean: Float64Array, block: Float32Array | Float64Array): void {
  const d = features.channels;
  const n = cells.length;
  const data = features.data;
  const [cellStride, channelStride] = features.layout === 'NCHW' ? [1, features.height * features.width] : [d, 1];
  for (let i = 0; i < d; i++) {
    const channel = i * channelStride;
    let sum = 0;
    for (let j = 0; j < n; j++) sum += data[channel + cells[j] * cellStride];
    const m = sum / n;
    mean[i] = m;
    const row = i * n;
    for (let j = 0; j < n; j++) block[row + j] = data[channel + cells[j] * cellStride] - m;
  }
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
