/**
 * Streaming anomaly-segmentation metrics for one scoring method: AUPR, AUROC, FPR95 and thresholds,
 * pooled over all evaluated pixels and as the mean over images.
 *
 * Conventions (see DESIGN.md "Conventions that must be explicit in output"):
 * - Scores are raw, higher = more anomalous; nothing is squashed or clipped (energies of -20 to -40 are normal).
 * - Labels: 1 = anomaly (the positive class), 0 = known, 255 = ignore (never counted). Any other value is an error.
 * - AUPR = average precision as scikit-learn's `average_precision_score`; AUROC as `roc_auc_score`
 *   (ties count half); FPR95 = FPR at the first threshold, scanning down, where TPR ≥ 0.95.
 * - Each `add` call is one image. Per-image metrics are computed exactly for every image that has both
 *   anomaly and known pixels; the others are counted as skipped.
 *
 * Memory: pooled scores are kept exactly, as order keys, up to `maxExactPixels` evaluated pixels. When an
 * image would take the total past that, everything collected so far is folded into a histogram over the
 * top 20 bits of the order key: 2^20 bins, each 2^-11 of the score's magnitude wide. All later pixels go
 * there too. Memory then stays at 16 MB whatever the number of pixels, and every pooled metric
 * carries `bound`, the largest change the exact value could show, computed from the bin counts.
 */
import type { MethodMetrics, MetricValue } from '../api';
import { HeatError } from '../errors';
import { floatToKey, keyToFloat, radixSortKeys, radixSortRuns } from './keys';
import { Curves, Sweep, SweepResult, sweepSorted } from './sweep';

export const DEFAULT_MAX_EXACT_PIXELS = 10_000_000;
/** Histogram bins: the top HISTOGRAM_BITS bits of the 32-bit order key. */
export const HISTOGRAM_BITS = 20;
const BIN_SHIFT = 32 - HISTOGRAM_BITS;
const BIN_COUNT = 1 << HISTOGRAM_BITS;
const CHUNK = 1 << 20;

export interface MetricsOptions {
  /** Pooled pixels kept exactly before switching to the histogram (`heat.eval.maxExactPixels`). */
  maxExactPixels?: number;
  /** Curves get a point whenever a coordinate moved by 1/curveSteps, so at most 2·curveSteps + 2 points (default 255: 512). */
  curveSteps?: number;
  /** Bins of the known-vs-anomaly score histogram drawn in reports. */
  plotBins?: number;
}

export interface PixelCounts {
  images: number;
  known: number;
  anomaly: number;
  ignored: number;
  /** Evaluated pixels whose score is NaN; any makes the metrics undefined. */
  nan: number;
}

/** A threshold applied to the scores: pixels with score ≥ threshold are predicted anomaly. */
export interface ThresholdStats {
  threshold: number;
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  trueNegatives: number;
  precision: MetricValue;
  recall: MetricValue;
  f1: MetricValue;
  /** Histogram mode: pixels sharing the threshold's bin, counted as above it although some may lie below. */
  uncertainPixels: number;
}

/** Known and anomaly score counts over equal-width bins, for plotting. Scores outside the edges are counted in the end bins. */
export interface ScoreHistogram {
  /** bins + 1 increasing bin edges, from the lower of the two classes' 0.1 % quantiles to the higher of their 99.9 % quantiles. */
  edges: number[];
  known: number[];
  anomaly: number[];
  /** Pixels below the first edge or above the last one, counted in the end bins. */
  clampedBelow: number;
  clampedAbove: number;
}

/** One image's own metrics. */
export interface ImageMetrics {
  image: string;
  known: number;
  anomaly: number;
  aupr: number | null;
  auroc: number | null;
  fpr95: number | null;
}

/** Everything the reports need about one method. */
export interface MethodEvaluation {
  metrics: MethodMetrics;
  counts: PixelCounts;
  curves: Curves;
  histogram: ScoreHistogram | null;
  /** The F1-optimal threshold on this data (choose it on the validation split only). */
  bestF1: ThresholdStats | null;
  /** The threshold given to `finish`, applied to this data. */
  atThreshold: ThresholdStats | null;
  images: ImageMetrics[];
}

/**
 * Returns the F1-optimal threshold of a validation-split evaluation, to pass to the test split's `finish`,
 * or null when it is undefined (no anomaly or no known pixels, or NaN scores).
 */
export function validationThreshold(validation: MethodEvaluation): GivenThreshold | null {
  return validation.bestF1 ? { value: validation.bestF1.threshold, source: 'validation' } : null;
}

/** A threshold to apply when finishing, and where it came from. */
export interface GivenThreshold {
  value: number;
  source: 'validation' | 'none';
}

interface PerImageSums {
  aupr: number;
  auroc: number;
  fpr95: number;
  used: number;
  skipped: number;
}

/** Growable storage of uint32 keys in fixed-size chunks (no copying while growing). */
class KeyStore {
  private chunks: Uint32Array[] = [];
  length = 0;

  /** Keys the allocated chunks can hold. */
  get capacity(): number {
    return this.chunks.length * CHUNK;
  }

  append(source: Uint32Array, count: number): void {
    let done = 0;
    while (done < count) {
      const offset = this.length % CHUNK;
      if (offset === 0) this.chunks.push(new Uint32Array(CHUNK));
      const take = Math.min(count - done, CHUNK - offset);
      this.chunks[this.chunks.length - 1].set(source.subarray(done, done + take), offset);
      done += take;
      this.length += take;
    }
  }

  forEach(visit: (chunk: Uint32Array, count: number) => void): void {
    let left = this.length;
    for (const chunk of this.chunks) {
      visit(chunk, Math.min(left, CHUNK));
      left -= CHUNK;
    }
  }

  /** Returns all keys sorted ascending in one array and releases the chunks. */
  sorted(): Uint32Array {
    let left = this.length;
    const runs = this.chunks.map((keys) => {
      const count = Math.min(left, CHUNK);
      left -= CHUNK;
      return { keys, count };
    });
    this.chunks = [];
    return radixSortRuns(runs, this.length, new Uint32Array(this.length), new Uint32Array(this.length));
  }
}

/** Sorted pooled keys (exact mode) or suffix sums of bin counts (histogram mode), ready for queries. */
type Finished =
  | { mode: 'exact'; positives: Uint32Array; negatives: Uint32Array }
  | { mode: 'histogram'; positivesAtLeast: Float64Array; negativesAtLeast: Float64Array };

/**
 * Collects one method's scores image by image and computes its metrics.
 *
 * ```ts
 * const acc = new MetricAccumulator('energy', { maxExactPixels: 1e7 });
 * for (const image of images) acc.add(scores, labels, name); // labels: 1 anomaly, 0 known, 255 ignore
 * const evaluation = acc.finish({ value: thresholdFromValidation, source: 'validation' });
 * ```
 */
export class MetricAccumulator {
  private readonly maxExactPixels: number;
  private readonly curveSteps: number;
  private readonly plotBins: number;
  private readonly counts: PixelCounts = { images: 0, known: 0, anomaly: 0, ignored: 0, nan: 0 };
  private firstNanImage = '';
  private positiveStore: KeyStore | null = new KeyStore();
  private negativeStore: KeyStore | null = new KeyStore();
  private positiveBins: Float64Array | null = null;
  private negativeBins: Float64Array | null = null;
  private scratch = { positives: new Uint32Array(0), negatives: new Uint32Array(0), sort: new Uint32Array(0) };
  private readonly perImage: PerImageSums = { aupr: 0, auroc: 0, fpr95: 0, used: 0, skipped: 0 };
  private readonly images: ImageMetrics[] = [];
  private finished: Finished | null = null;
  private peakBytes = 0;

  constructor(readonly method: string, options: MetricsOptions = {}) {
    this.maxExactPixels = options.maxExactPixels ?? DEFAULT_MAX_EXACT_PIXELS;
    this.curveSteps = options.curveSteps ?? 255;
    this.plotBins = options.plotBins ?? 60;
    if (!(this.maxExactPixels >= 1)) {
      throw new HeatError(`heat.eval.maxExactPixels is ${this.maxExactPixels}.`, 'Set it to a positive integer (default 10000000).');
    }
  }

  /** 'exact' until the pooled pixel count passes maxExactPixels, then 'histogram'. */
  get mode(): 'exact' | 'histogram' {
    if (this.finished) return this.finished.mode;
    return this.positiveBins ? 'histogram' : 'exact';
  }

  /** Largest number of bytes this accumulator held in typed arrays at once (scratch, kept keys, bins, sort buffers). */
  get peakAllocatedBytes(): number {
    return this.peakBytes;
  }

  private noteAllocation(extraBytes = 0): void {
    const scratch = this.scratch.positives.byteLength + this.scratch.negatives.byteLength + this.scratch.sort.byteLength;
    const kept = (this.positiveStore?.capacity ?? 0) * 4 + (this.negativeStore?.capacity ?? 0) * 4;
    const bins = (this.positiveBins?.byteLength ?? 0) + (this.negativeBins?.byteLength ?? 0);
    this.peakBytes = Math.max(this.peakBytes, scratch + kept + bins + extraBytes);
  }

  get pixelCounts(): PixelCounts {
    return { ...this.counts };
  }

  /**
   * Adds one image: `scores[i]` (higher = more anomalous) with `labels[i]` (1 anomaly, 0 known, 255 ignore).
   * The arrays are only read during the call.
   */
  add(scores: Float32Array, labels: Uint8Array, image = `image ${this.counts.images + 1}`): void {
    if (this.finished) throw new Error(`MetricAccumulator(${this.method}).add after finish`);
    if (scores.length !== labels.length) {
      throw new HeatError(
        `${this.method}: ${image} has ${scores.length} scores but ${labels.length} labels.`,
        'Resize the score map to the label resolution before evaluation.',
      );
    }
    this.reserveScratch(scores.length);
    const { positives, negatives } = this.scratch;
    const bits = new Uint32Array(scores.buffer, scores.byteOffset, scores.length);
    let p = 0;
    let n = 0;
    let ignored = 0;
    let nan = 0;
    let badIndex = -1;
    // Hot loop: the order-key mapping of keys.ts (bitsToKey) is written out here, since a call per pixel
    // through a module binding costs more than the rest of the loop.
    for (let i = 0; i < bits.length; i++) {
      const label = labels[i];
      if (label === 255) {
        ignored++;
        continue;
      }
      const b = bits[i];
      if ((b & 0x7fffffff) > 0x7f800000) {
        nan++;
        continue;
      }
      const key = b === 0x80000000 ? 0x80000000 : (b & 0x80000000) !== 0 ? ~b : b | 0x80000000;
      if (label === 0) negatives[n++] = key;
      else if (label === 1) positives[p++] = key;
      else if (badIndex < 0) badIndex = i;
    }
    if (badIndex >= 0) {
      throw new HeatError(
        `${this.method}: ${image} has label value ${labels[badIndex]} at pixel ${badIndex}; evaluation expects 1 (anomaly), 0 (known) or 255 (ignore).`,
        'Map dataset labels with heat.labels.anomaly, heat.labels.ignore, heat.labels.offset and heat.labels.map.',
      );
    }

    this.counts.images++;
    this.counts.known += n;
    this.counts.anomaly += p;
    this.counts.ignored += ignored;
    if (nan > 0 && this.counts.nan === 0) this.firstNanImage = image;
    this.counts.nan += nan;

    // Each sort leaves its result in its input or in the spare buffer; the other one is then free.
    const sortedPositives = radixSortKeys(positives, p, this.scratch.sort);
    const spare = sortedPositives === positives ? this.scratch.sort : positives;
    const sortedNegatives = radixSortKeys(negatives, n, spare);
    this.addImageMetrics(image, sortedPositives, p, sortedNegatives, n, nan);
    this.addPooled(sortedPositives, p, sortedNegatives, n);
    this.noteAllocation();
  }

  private reserveScratch(size: number): void {
    if (this.scratch.sort.length >= size) return;
    const capacity = Math.max(size, 1024);
    this.scratch = { positives: new Uint32Array(capacity), negatives: new Uint32Array(capacity), sort: new Uint32Array(capacity) };
  }

  private addImageMetrics(image: string, positives: Uint32Array, p: number, negatives: Uint32Array, n: number, nan: number): void {
    if (p === 0 || n === 0 || nan > 0) {
      this.perImage.skipped++;
      this.images.push({ image, known: n, anomaly: p, aupr: null, auroc: null, fpr95: null });
      return;
    }
    const sweep = new Sweep(p, n, 0);
    sweepSorted(sweep, positives, p, negatives, n);
    const result = sweep.finish();
    this.perImage.aupr += result.aupr;
    this.perImage.auroc += result.auroc;
    this.perImage.fpr95 += result.fpr95;
    this.perImage.used++;
    this.images.push({ image, known: n, anomaly: p, aupr: result.aupr, auroc: result.auroc, fpr95: result.fpr95 });
  }

  private addPooled(positives: Uint32Array, p: number, negatives: Uint32Array, n: number): void {
    if (this.positiveStore && this.negativeStore) {
      if (this.positiveStore.length + this.negativeStore.length + p + n <= this.maxExactPixels) {
        this.positiveStore.append(positives, p);
        this.negativeStore.append(negatives, n);
        return;
      }
      this.switchToHistogram();
    }
    addToBins(this.positiveBins!, positives, p);
    addToBins(this.negativeBins!, negatives, n);
  }

  /** Folds the exactly kept keys into the histogram and releases them. */
  private switchToHistogram(): void {
    const positiveBins = new Float64Array(BIN_COUNT);
    const negativeBins = new Float64Array(BIN_COUNT);
    this.positiveStore!.forEach((chunk, count) => addToBins(positiveBins, chunk, count));
    this.negativeStore!.forEach((chunk, count) => addToBins(negativeBins, chunk, count));
    this.noteAllocation(positiveBins.byteLength + negativeBins.byteLength);
    this.positiveStore = null;
    this.negativeStore = null;
    this.positiveBins = positiveBins;
    this.negativeBins = negativeBins;
  }

  /**
   * Computes every metric. Call once, after the last `add`; `threshold` (chosen on the validation split)
   * is applied to this data and reported with its source.
   */
  finish(threshold?: GivenThreshold): MethodEvaluation {
    if (this.finished) throw new Error(`MetricAccumulator(${this.method}).finish called twice`);
    this.scratch = { positives: new Uint32Array(0), negatives: new Uint32Array(0), sort: new Uint32Array(0) };
    this.noteAllocation();
    const P = this.counts.anomaly;
    const N = this.counts.known;
    const undefinedReason = this.undefinedReason();

    let sweep: SweepResult | null = null;
    let bounds: { aupr: number; auroc: number; fpr95: number } | null = null;
    let range: [number, number] | null = null;
    if (this.mode === 'exact') {
      // Sorting needs two buffers per class next to the kept keys.
      this.noteAllocation(2 * 4 * (P + N));
      const positives = this.positiveStore!.sorted();
      const negatives = this.negativeStore!.sorted();
      this.finished = { mode: 'exact', positives, negatives };
      if (!undefinedReason) {
        const s = new Sweep(P, N, this.curveSteps);
        sweepSorted(s, positives, P, negatives, N);
        sweep = s.finish();
      }
      range = exactQuantileRange(positives, negatives);
    } else {
      const positiveBins = this.positiveBins!;
      const negativeBins = this.negativeBins!;
      if (!undefinedReason) ({ sweep, bounds } = sweepBins(positiveBins, negativeBins, P, N, this.curveSteps));
      range = binQuantileRange(positiveBins, negativeBins);
      this.finished = { mode: 'histogram', positivesAtLeast: suffixSums(positiveBins), negativesAtLeast: suffixSums(negativeBins) };
      this.positiveBins = null;
      this.negativeBins = null;
    }

    const metrics = this.methodMetrics(sweep, bounds, undefinedReason);
    const bestF1 = sweep ? this.thresholdStats(keyToThreshold(sweep.bestF1Threshold)) : null;
    const atThreshold = threshold ? this.thresholdStats(threshold.value) : null;
    if (threshold) metrics.threshold = { value: threshold.value, source: threshold.source, f1: atThreshold?.f1.value ?? undefined };
    return {
      metrics,
      counts: this.pixelCounts,
      curves: sweep ? sweep.curves : { roc: [], pr: [] },
      histogram: range ? this.scoreHistogram(range) : null,
      bestF1,
      atThreshold,
      images: this.images,
    };
  }

  private undefinedReason(): string | undefined {
    const { anomaly, known, nan } = this.counts;
    if (nan > 0) {
      return `${nan} of ${anomaly + known + nan} evaluated scores are NaN (first in ${this.firstNanImage}); NaN has no rank. Check the score for a division by zero or a log of 0.`;
    }
    if (anomaly === 0) return `no anomaly pixels (label 1) among ${known} evaluated pixels`;
    if (known === 0) return `no known pixels (label 0) among ${anomaly} evaluated pixels`;
    return undefined;
  }

  private methodMetrics(sweep: SweepResult | null, bounds: { aupr: number; auroc: number; fpr95: number } | null, reason?: string): MethodMetrics {
    const pooledValue = (value: number | undefined, bound: number | undefined): MetricValue => {
      if (sweep === null || value === undefined) return { value: null, reason };
      return bound === undefined ? { value } : { value, bound };
    };
    const used = this.perImage.used;
    const imageReason = reason && this.counts.nan > 0
      ? reason
      : `no image has both anomaly and known pixels (${this.perImage.skipped} skipped)`;
    const imageValue = (sum: number): MetricValue => (used > 0 && this.counts.nan === 0 ? { value: sum / used } : { value: null, reason: imageReason });
    return {
      method: this.method,
      computation: this.mode,
      pooled: {
        aupr: pooledValue(sweep?.aupr, bounds?.aupr),
        auroc: pooledValue(sweep?.auroc, bounds?.auroc),
        fpr95: pooledValue(sweep?.fpr95, bounds?.fpr95),
      },
      perImage: {
        aupr: imageValue(this.perImage.aupr),
        auroc: imageValue(this.perImage.auroc),
        fpr95: imageValue(this.perImage.fpr95),
        imagesUsed: used,
        imagesSkipped: this.perImage.skipped,
      },
    };
  }

  /** Counts of positives and negatives with score ≥ the value whose order key is `key`. */
  private countAtLeast(key: number): { p: number; n: number; uncertain: number } {
    const f = this.finished!;
    if (f.mode === 'exact') {
      return { p: f.positives.length - lowerBound(f.positives, key), n: f.negatives.length - lowerBound(f.negatives, key), uncertain: 0 };
    }
    const bin = key >>> BIN_SHIFT;
    const p = f.positivesAtLeast[bin];
    const n = f.negativesAtLeast[bin];
    // A threshold on the bin's lower edge splits nothing; anywhere else the bin's pixels may fall either side.
    const onEdge = (key & ((1 << BIN_SHIFT) - 1)) === 0;
    const inBin = p - f.positivesAtLeast[bin + 1] + n - f.negativesAtLeast[bin + 1];
    return { p, n, uncertain: onEdge ? 0 : inBin };
  }

  /** Precision, recall and F1 of predicting anomaly for score ≥ `threshold`. Only after `finish`. */
  thresholdStats(threshold: number): ThresholdStats {
    if (!this.finished) throw new Error(`MetricAccumulator(${this.method}).thresholdStats before finish`);
    if (Number.isNaN(threshold)) {
      throw new HeatError(`${this.method}: the threshold is NaN.`, 'Choose the threshold on a validation split whose scores have no NaN.');
    }
    const P = this.counts.anomaly;
    const N = this.counts.known;
    const { p: tp, n: fp, uncertain } = this.countAtLeast(floatToKey(threshold));
    const ratio = (a: number, b: number, what: string): MetricValue => (b > 0 ? { value: a / b } : { value: null, reason: what });
    return {
      threshold,
      truePositives: tp,
      falsePositives: fp,
      falseNegatives: P - tp,
      trueNegatives: N - fp,
      precision: ratio(tp, tp + fp, 'no pixel scores at or above the threshold'),
      recall: ratio(tp, P, 'no anomaly pixels'),
      f1: ratio(2 * tp, 2 * tp + fp + (P - tp), 'no anomaly pixels and no pixel at or above the threshold'),
      uncertainPixels: uncertain,
    };
  }

  private scoreHistogram([low, high]: [number, number]): ScoreHistogram {
    const bins = this.plotBins;
    const edges = Array.from({ length: bins + 1 }, (_, i) => low + ((high - low) * i) / bins);
    edges[bins] = high;
    const P = this.counts.anomaly;
    const N = this.counts.known;
    const atLeast = edges.map((edge) => this.countAtLeast(floatToKey(edge)));
    const known: number[] = [];
    const anomaly: number[] = [];
    for (let i = 0; i < bins; i++) {
      // Bin i covers [edge_i, edge_i+1); the first bin also takes everything below, the last everything above.
      const upperP = i === bins - 1 ? 0 : atLeast[i + 1].p;
      const upperN = i === bins - 1 ? 0 : atLeast[i + 1].n;
      const lowerP = i === 0 ? P : atLeast[i].p;
      const lowerN = i === 0 ? N : atLeast[i].n;
      anomaly.push(lowerP - upperP);
      known.push(lowerN - upperN);
    }
    const aboveHigh = this.countAtLeast(nextKeyAbove(high));
    return {
      edges,
      known,
      anomaly,
      clampedBelow: P + N - atLeast[0].p - atLeast[0].n,
      clampedAbove: aboveHigh.p + aboveHigh.n,
    };
  }
}

function addToBins(bins: Float64Array, keys: Uint32Array, count: number): void {
  for (let i = 0; i < count; i++) bins[keys[i] >>> BIN_SHIFT]++;
}

/**
 * Sweeps histogram bins from the top and bounds how far the exact metrics can lie from the binned ones.
 * Binning treats every bin as one tie; the exact scores may order the bin's pixels any way. Per bin with
 * p positives, n negatives and tp0, fp0 pixels in higher bins:
 * - AUROC: the bin contributes p·n/2 as a tie, anything in [0, p·n] exactly, so the bound is Σ p·n / (2·P·N).
 * - FPR95: the first TPR ≥ 0.95 falls inside the crossing bin, so the exact FPR lies within that bin's n / N.
 * - AUPR: the j-th positive of the bin has precision of at least (tp0 + j) / (tp0 + j + fp0 + n), reached
 *   when all of the bin's negatives rank before it. It is at most (tp0 + p) / (tp0 + p + fp0), reached when
 *   no negative ranks before it and ties end at the bin's last positive.
 *   The lower sum is bounded below by its integral, p − c·ln((tp0 + p + c) / (tp0 + c)) with c = fp0 + n.
 */
function sweepBins(positiveBins: Float64Array, negativeBins: Float64Array, P: number, N: number, curveSteps: number): { sweep: SweepResult; bounds: { aupr: number; auroc: number; fpr95: number } } {
  const sweep = new Sweep(P, N, curveSteps);
  let tp0 = 0;
  let fp0 = 0;
  let tiedPairs = 0;
  let apLow = 0;
  let apHigh = 0;
  for (let bin = BIN_COUNT - 1; bin >= 0; bin--) {
    const p = positiveBins[bin];
    const n = negativeBins[bin];
    if (p === 0 && n === 0) continue;
    sweep.push(bin << BIN_SHIFT >>> 0, p, n);
    tiedPairs += p * n;
    if (p > 0) {
      const c = fp0 + n;
      apLow += c === 0 ? p : p - c * Math.log((tp0 + p + c) / (tp0 + c));
      apHigh += (p * (tp0 + p)) / (tp0 + p + fp0);
    }
    tp0 += p;
    fp0 += n;
  }
  const result = sweep.finish();
  const ap = result.aupr * P;
  const crossingBin = result.fpr95Threshold >>> BIN_SHIFT;
  return {
    sweep: result,
    bounds: {
      aupr: Math.max(apHigh - ap, ap - apLow, 0) / P,
      auroc: tiedPairs / (2 * P * N),
      fpr95: negativeBins[crossingBin] / N,
    },
  };
}

/** counts → atLeast[b] = Σ counts[b..]; one extra zero entry at the end. */
function suffixSums(counts: Float64Array): Float64Array {
  const atLeast = new Float64Array(counts.length + 1);
  for (let b = counts.length - 1; b >= 0; b--) atLeast[b] = atLeast[b + 1] + counts[b];
  return atLeast;
}

/** Index of the first element ≥ key in an ascending array. */
function lowerBound(sorted: Uint32Array, key: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Converts a sweep group's key to its threshold. A bin's lower edge below -Infinity is a NaN pattern, so it becomes -Infinity. */
function keyToThreshold(key: number): number {
  const value = keyToFloat(key);
  return Number.isNaN(value) ? Number.NEGATIVE_INFINITY : value;
}

function nextKeyAbove(value: number): number {
  return Math.min(floatToKey(value) + 1, 0xffffffff);
}

/**
 * Plot range: from the lowest to the highest of the two classes' 0.1 % and 99.9 % quantiles, so the tail of
 * a small anomaly class is not cut off by the known class's quantiles. null without evaluated pixels.
 */
function exactQuantileRange(positives: Uint32Array, negatives: Uint32Array): [number, number] | null {
  const classes = [positives, negatives].filter((keys) => keys.length > 0);
  if (classes.length === 0) return null;
  const low = Math.min(...classes.map((keys) => keys[Math.floor(0.001 * (keys.length - 1))]));
  const high = Math.max(...classes.map((keys) => keys[Math.ceil(0.999 * (keys.length - 1))]));
  return widen(keyToFloat(low), keyToFloat(high));
}

/** As exactQuantileRange, at bin resolution: the low end is a bin's lower edge, the high end a bin's upper edge. */
function binQuantileRange(positiveBins: Float64Array, negativeBins: Float64Array): [number, number] | null {
  const ranges = [positiveBins, negativeBins].map(binRange).filter((r): r is [number, number] => r !== null);
  if (ranges.length === 0) return null;
  const low = Math.min(...ranges.map((r) => r[0]));
  const high = Math.max(...ranges.map((r) => r[1]));
  return widen(keyToThreshold(low << BIN_SHIFT >>> 0), keyToFloat((((high + 1) << BIN_SHIFT) - 1) >>> 0));
}

/** Returns the bins of one class's 0.1 % and 99.9 % quantiles. */
function binRange(bins: Float64Array): [number, number] | null {
  let total = 0;
  for (let b = 0; b < BIN_COUNT; b++) total += bins[b];
  if (total === 0) return null;
  let cumulative = 0;
  let low = -1;
  for (let b = 0; b < BIN_COUNT; b++) {
    cumulative += bins[b];
    if (low < 0 && cumulative > 0.001 * (total - 1)) low = b;
    if (cumulative > Math.ceil(0.999 * (total - 1))) return [low, b];
  }
  return [low, BIN_COUNT - 1];
}

/** Makes a plot range finite and non-empty. */
function widen(low: number, high: number): [number, number] {
  const largest = 3.4e38;
  const clamp = (x: number, fallback: number): number => (Number.isNaN(x) ? fallback : Math.max(-largest, Math.min(largest, x)));
  let lo = clamp(low, -largest);
  let hi = clamp(high, largest);
  if (hi <= lo) {
    const pad = Math.max(Math.abs(lo) * 1e-3, 0.5);
    lo -= pad;
    hi = lo + 2 * pad;
  }
  return [lo, hi];
}
