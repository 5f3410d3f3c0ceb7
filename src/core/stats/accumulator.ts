/**
 * Streaming per-class moments: count n, mean μ and scatter M2 = Σ (x − μ)(x − μ)ᵀ, in float64.
 *
 * Blocks of samples (one image's cells of one class) and partial results from other shards are combined
 * with the exact pairwise update of Chan, Golub and LeVeque (1979):
 *   n = na + nb,  δ = μb − μa,  μ = μa + δ·nb/n,  M2 = M2a + M2b + δ·δᵀ·na·nb/n.
 * No sample is kept: memory is O(C·D²) for class-wise scatters, O(D² + C·D) for the pooled one, whatever
 * the number of images.
 */
import { HeatError } from '../errors';
import { ScatterEngine } from './scatter';

/**
 * Mergeable per-class feature moments: what a shard file stores.
 * `classwise`: `scatters` is [C, D, D], one M2 per class (needed for class-wise covariances).
 * `pooled`: `scatters` is [D, D], the within-class scatter Σ_c M2_c, which is all the tied covariance needs.
 * Each image then costs one D×D product instead of one per class. The pooled form merges exactly too, because
 * summing the pairwise updates over classes gives an update of the sum.
 */
export interface ClassMoments {
  kind: 'classwise' | 'pooled';
  classCount: number;
  dim: number;
  /** [C] number of samples per class. */
  counts: Float64Array;
  /** [C, D] class means. */
  means: Float64Array;
  scatters: Float64Array;
}

/** Mergeable per-class moments of a scalar (the max logit): count, mean and M2 = Σ (v − mean)². */
export interface ScalarMoments {
  counts: Float64Array;
  means: Float64Array;
  m2: Float64Array;
}

export function emptyMoments(classCount: number, dim: number, kind: ClassMoments['kind'] = 'classwise'): ClassMoments {
  return {
    kind,
    classCount,
    dim,
    counts: new Float64Array(classCount),
    means: new Float64Array(classCount * dim),
    scatters: new Float64Array((kind === 'classwise' ? classCount : 1) * dim * dim),
  };
}

export function emptyScalarMoments(classCount: number): ScalarMoments {
  return { counts: new Float64Array(classCount), means: new Float64Array(classCount), m2: new Float64Array(classCount) };
}

/** Returns the [D, D] scatter that receives class `c`'s updates: its own, or the pooled one. */
function scatterOf(target: ClassMoments, c: number): Float64Array {
  const dd = target.dim * target.dim;
  return target.kind === 'classwise' ? target.scatters.subarray(c * dd, (c + 1) * dd) : target.scatters;
}

/**
 * Merges n samples with mean `mean` into class `c`: updates count and mean and adds the term δ·δᵀ·na·nb/n
 * to the class's scatter (or the pooled one). The samples' own scatter M2b is added by the caller.
 */
function mergeCountAndMean(target: ClassMoments, c: number, n: number, mean: Float64Array, addTerm = true): void {
  if (n === 0) return;
  const d = target.dim;
  const na = target.counts[c];
  const total = na + n;
  const meanA = target.means.subarray(c * d, (c + 1) * d);
  const m2 = scatterOf(target, c);

  const delta = new Float64Array(d);
  for (let i = 0; i < d; i++) delta[i] = mean[i] - meanA[i];
  if (na > 0 && addTerm) {
    const weight = (na * n) / total;
    for (let i = 0; i < d; i++) {
      const row = i * d;
      const di = delta[i] * weight;
      if (di === 0) continue;
      for (let j = 0; j < d; j++) m2[row + j] += di * delta[j];
    }
  }
  const step = n / total;
  for (let i = 0; i < d; i++) meanA[i] += delta[i] * step;
  target.counts[c] = total;
}

function addInto(target: Float64Array, source: ArrayLike<number>): void {
  for (let i = 0; i < target.length; i++) target[i] += source[i];
}

/**
 * Merges a block (n, mean [D], scatter [D, D]) of class `c` into class-wise `target` in place with the
 * pairwise update above. The arrays are read, never kept.
 */
export function mergeBlock(target: ClassMoments, c: number, n: number, mean: Float64Array, scatter: ArrayLike<number>): void {
  if (n === 0) return;
  addInto(scatterOf(target, c), scatter);
  mergeCountAndMean(target, c, n, mean);
}

/** Merges every class of `source` into `target` in place (exact; order-independent up to float64 rounding). */
export function mergeMoments(target: ClassMoments, source: ClassMoments): void {
  if (target.classCount !== source.classCount || target.dim !== source.dim || target.kind !== source.kind) {
    throw new HeatError(
      `Cannot merge ${source.kind} statistics of ${source.classCount} classes × D = ${source.dim} into ${target.kind} statistics of ${target.classCount} classes × D = ${target.dim}.`,
      'Merge only shards made with the same model, feature layer, class list and heat.statistics.covariance.',
    );
  }
  const d = source.dim;
  if (source.kind === 'pooled') addInto(target.scatters, source.scatters);
  for (let c = 0; c < source.classCount; c++) {
    const mean = source.means.subarray(c * d, (c + 1) * d);
    if (source.kind === 'classwise') mergeBlock(target, c, source.counts[c], mean, source.scatters.subarray(c * d * d, (c + 1) * d * d));
    else mergeCountAndMean(target, c, source.counts[c], mean);
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
 * for cells left out. Per class, the vectors are centred on their own float64 mean, and onnxruntime computes
 * the scatter of the centred block, which then merges exactly. Centring before the product keeps float32
 * products accurate when features carry a large common offset.
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
  for (let p = 0; p < cells; p++) {
    if (cellClass[p] >= target.classCount) {
      throw new HeatError(`Class ${cellClass[p]} is outside the ${target.classCount} classes of the statistics.`, 'Check heat.labels.map and heat.model.classNames.');
    }
  }
  if (target.kind === 'pooled') await accumulatePooled(target, engine, features, cellClass);
  else await accumulateClasswise(target, engine, features, cellClass);
}

/** Computes one product per class, over the class's cells gathered into a centred block. */
async function accumulateClasswise(target: ClassMoments, engine: ScatterEngine, features: FeatureGrid, cellClass: Int32Array): Promise<void> {
  const d = features.channels;
  const members = new Map<number, number[]>();
  for (let p = 0; p < cellClass.length; p++) {
    const c = cellClass[p];
    if (c < 0) continue;
    let list = members.get(c);
    if (!list) members.set(c, (list = []));
    list.push(p);
  }
  for (const [c, list] of [...members].sort((a, b) => a[0] - b[0])) {
    const n = list.length;
    const mean = new Float64Array(d);
    const block = engine.allocate(d, n);
    centredBlock(features, Int32Array.from(list), mean, block);
    await engine.addScatter(scatterOf(target, c), block, d, n);
    mergeCountAndMean(target, c, n, mean);
  }
}

/**
 * Computes one product per image. Every cell is centred on its class's mean in this image and left-out cells
 * are zero columns, so X·Xᵀ = Σ_c M2_c of the image. Then each class's count and mean merge with their δ·δᵀ term.
 */
async function accumulatePooled(target: ClassMoments, engine: ScatterEngine, features: FeatureGrid, cellClass: Int32Array): Promise<void> {
  const d = features.channels;
  const cells = cellClass.length;
  const classCount = target.classCount;
  const counts = new Float64Array(classCount);
  for (let p = 0; p < cells; p++) if (cellClass[p] >= 0) counts[cellClass[p]]++;
  const present = [...counts.keys()].filter((c) => counts[c] > 0);
  if (present.length === 0) return;

  const { data } = features;
  const [cellStride, channelStride] = features.layout === 'NCHW' ? [1, cells] : [d, 1];
  const means = new Float64Array(classCount * d);
  const sums = new Float64Array(classCount);
  const block = engine.allocate(d, cells);
  for (let i = 0; i < d; i++) {
    const channel = i * channelStride;
    sums.fill(0);
    for (let p = 0; p < cells; p++) {
      const c = cellClass[p];
      if (c >= 0) sums[c] += data[channel + p * cellStride];
    }
    for (const c of present) means[c * d + i] = sums[c] / counts[c];
    const row = i * cells;
    for (let p = 0; p < cells; p++) {
      const c = cellClass[p];
      if (c >= 0) block[row + p] = data[channel + p * cellStride] - means[c * d + i];
    }
  }
  await engine.addScatter(target.scatters, block, d, cells);
  await mergeImageMeans(target, engine, counts, means, present);
}

/**
 * Second half of a pooled image update, once the image's within-class scatter is in `target.scatters`: adds
 * Σ_c δ_c·δ_cᵀ·na·nb/n as one float64 product Y·Yᵀ, with column c of Y [D, K] = sqrt(na·nb/n)·δ_c, then
 * merges each present class's count and mean ([C, D] `means`). With `terms` the columns are collected there
 * and added later, many images in one product.
 */
async function mergeImageMeans(
  target: ClassMoments, engine: ScatterEngine, counts: Float64Array, means: Float64Array, present: number[], terms?: MergeTerms,
): Promise<void> {
  const d = target.dim;
  const merging = present.filter((c) => target.counts[c] > 0);
  if (merging.length > 0) {
    const y = new Float64Array(d * merging.length);
    merging.forEach((c, k) => {
      const na = target.counts[c];
      const scale = Math.sqrt((na * counts[c]) / (na + counts[c]));
      for (let i = 0; i < d; i++) y[i * merging.length + k] = scale * (means[c * d + i] - target.means[c * d + i]);
    });
    if (terms) await terms.add(y, merging.length);
    else await engine.addExactScatter(target.scatters, y, d, merging.length);
  }
  for (const c of present) mergeCountAndMean(target, c, counts[c], means.subarray(c * d, (c + 1) * d), false);
}

/**
 * Rank-one terms of pooled moments waiting to be added to (or subtracted from) their scatter: the merge terms
 * δ·δᵀ·na·nb/n, and for the fused path the mean corrections. One image brings about one column per class
 * present. A float64 product of a few columns costs about as much in call and D×D summing overhead as in
 * arithmetic, so the columns of many images go into one product. Call flush() before the scatter is read.
 */
export class MergeTerms {
  private readonly pending = { 1: [] as { y: Float64Array; columns: number }[], [-1]: [] as { y: Float64Array; columns: number }[] };
  private columns = 0;

  constructor(private readonly target: ClassMoments, private readonly engine: ScatterEngine, private readonly capacity = 256) {}

  /** Queues the columns of y [D, columns] (row-major, as mergeImageMeans builds it) to be added (sign 1) or subtracted (−1) as y·yᵀ. */
  async add(y: Float64Array, columns: number, sign: 1 | -1 = 1): Promise<void> {
    this.pending[sign].push({ y, columns });
    this.columns += columns;
    if (this.columns >= this.capacity) await this.flush();
  }

  async flush(): Promise<void> {
    const d = this.target.dim;
    for (const sign of [1, -1] as const) {
      const parts = this.pending[sign];
      const total = parts.reduce((sum, part) => sum + part.columns, 0);
      if (total === 0) continue;
      const block = new Float64Array(d * total);
      let offset = 0;
      for (const { y, columns } of parts) {
        for (let i = 0; i < d; i++) {
          for (let k = 0; k < columns; k++) block[i * total + offset + k] = y[i * columns + k];
        }
        offset += columns;
      }
      parts.length = 0;
      await this.engine.addExactScatter(this.target.scatters, block, d, total, sign);
    }
    this.columns = 0;
  }
}

/** One layer's outputs of the statistics head (fused.ts) for one image. */
export interface FusedImageMoments {
  /** [C] cells per class in this image. */
  counts: Float64Array;
  /** [D, C] float32 class means m, as the head computed them. */
  means: Float32Array;
  /** [D, C] residual sums r of the cells centred on m. */
  residuals: Float32Array;
  /** [D, D] scatter of the cells centred on m. */
  scatter: Float32Array;
}

/**
 * Merges one image's statistics-head outputs into the pooled `target`. The exact class mean is m_c + r_c/n_c,
 * in float64. The head's scatter is taken about m_c, so the scatter about the exact mean is smaller by
 * n_c·(r_c/n_c)(r_c/n_c)ᵀ. That term is subtracted as one more rank-one term per class. It is tiny for features
 * near zero, but for features offset by 1e4 it reaches about 1e-7 of the scatter (float32 rounding moves m_c by
 * about 1e4·6e-8). With `terms` the rank-one terms are queued there (see MergeTerms).
 */
export async function accumulateFusedImage(target: ClassMoments, engine: ScatterEngine, image: FusedImageMoments, terms?: MergeTerms): Promise<void> {
  if (target.kind !== 'pooled') throw new Error('accumulateFusedImage needs pooled moments.');
  const d = target.dim;
  const classCount = target.classCount;
  const { counts, means: m, residuals: r } = image;
  const present = [...counts.keys()].filter((c) => counts[c] > 0);
  if (present.length === 0) return;
  const scatter = target.scatters;
  const block = image.scatter;
  for (let i = 0; i < scatter.length; i++) scatter[i] += block[i];

  const means = new Float64Array(classCount * d);
  // Column k of the correction [D, K] is r_c/√n_c, so that its product is Σ_c n_c·(r_c/n_c)(r_c/n_c)ᵀ.
  const correction = new Float64Array(d * present.length);
  present.forEach((c, k) => {
    const n = counts[c];
    for (let i = 0; i < d; i++) {
      const residual = r[i * classCount + c];
      means[c * d + i] = m[i * classCount + c] + residual / n;
      correction[i * present.length + k] = residual / Math.sqrt(n);
    }
  });
  if (terms) await terms.add(correction, present.length, -1);
  else await engine.addExactScatter(scatter, correction, d, present.length, -1);
  await mergeImageMeans(target, engine, counts, means, present, terms);
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
