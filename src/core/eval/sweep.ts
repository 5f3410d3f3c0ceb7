/**
 * One pass over score groups from the highest score down, computing every ranking metric at once.
 *
 * A group is a set of pixels sharing one threshold: all pixels with exactly the same score (exact mode) or
 * all pixels in one histogram bin (histogram mode). Groups must arrive in strictly decreasing score order.
 * With P anomaly (positive) pixels and N known (negative) pixels, and TP, FP the cumulative counts after a
 * group (pixels with score ≥ that group's threshold):
 *
 * - AUPR, average precision as scikit-learn's `average_precision_score`:
 *   AP = Σ_groups (p_g / P) · TP / (TP + FP), the step-wise sum over recall increments.
 * - AUROC as scikit-learn's `roc_auc_score` (trapezoids over the ROC curve, so tied pixels count half):
 *   AUROC = Σ_groups n_g · (TP_before + p_g / 2) / (P · N).
 * - FPR95: FP / N at the first group, scanning down, after which TP / P ≥ 0.95.
 * - F1-optimal threshold: the group maximising F1 = 2·TP / (2·TP + FP + (P − TP)); the highest such
 *   threshold wins ties. Predicting "anomaly" for score ≥ threshold reproduces that F1.
 */

/** A point on a curve drawn in a plot. */
export interface CurvePoint {
  x: number;
  y: number;
}

/** Downsampled curves for plots. ROC: x = FPR, y = TPR. PR: x = recall, y = precision. */
export interface Curves {
  roc: CurvePoint[];
  pr: CurvePoint[];
}

export interface SweepResult {
  aupr: number;
  auroc: number;
  fpr95: number;
  /** Threshold of FPR95's operating point. */
  fpr95Threshold: number;
  bestF1: number;
  bestF1Threshold: number;
  bestF1Precision: number;
  bestF1Recall: number;
  curves: Curves;
}

/** Accumulates the sweep group by group. P and N must be known up front and both be positive. */
export class Sweep {
  private tp = 0;
  private fp = 0;
  private apSum = 0;
  private aucSum = 0;
  private fpr95 = Number.NaN;
  private fpr95Threshold = Number.NaN;
  private bestF1 = -1;
  private bestF1Threshold = Number.NaN;
  private bestF1Tp = 0;
  private bestF1Fp = 0;
  private readonly roc: CurvePoint[] = [{ x: 0, y: 0 }];
  private readonly pr: CurvePoint[] = [];
  private lastRoc: CurvePoint = { x: 0, y: 0 };
  private lastPrRecall = -1;

  /** @param curveSteps curves get a point whenever a coordinate moved by at least 1/curveSteps; 0 keeps no curves. */
  constructor(private readonly positives: number, private readonly negatives: number, private readonly curveSteps = 256) {}

  /**
   * Adds one group: `p` positives and `n` negatives sharing `threshold`, which must be lower than every
   * earlier group's. `threshold` is only passed back in the result (callers pass order keys, not floats).
   */
  push(threshold: number, p: number, n: number): void {
    const P = this.positives;
    const N = this.negatives;
    this.aucSum += n * (this.tp + p / 2);
    this.tp += p;
    this.fp += n;
    const tp = this.tp;
    const fp = this.fp;
    if (p > 0) this.apSum += p * (tp / (tp + fp));

    if (Number.isNaN(this.fpr95) && tp / P >= 0.95) {
      this.fpr95 = fp / N;
      this.fpr95Threshold = threshold;
    }

    const f1 = (2 * tp) / (2 * tp + fp + (P - tp));
    if (f1 > this.bestF1) {
      this.bestF1 = f1;
      this.bestF1Threshold = threshold;
      this.bestF1Tp = tp;
      this.bestF1Fp = fp;
    }

    if (this.curveSteps > 0) this.addCurvePoints(tp, fp);
  }

  private addCurvePoints(tp: number, fp: number): void {
    const step = 1 / this.curveSteps;
    const tpr = tp / this.positives;
    const fpr = fp / this.negatives;
    if (tpr - this.lastRoc.y >= step || fpr - this.lastRoc.x >= step || (tpr === 1 && fpr === 1)) {
      this.lastRoc = { x: fpr, y: tpr };
      this.roc.push(this.lastRoc);
    }
    if (tp > 0 && (tpr - this.lastPrRecall >= step || tpr === 1)) {
      if (this.lastPrRecall !== 1) this.pr.push({ x: tpr, y: tp / (tp + fp) });
      this.lastPrRecall = tpr;
    }
  }

  finish(): SweepResult {
    const P = this.positives;
    const N = this.negatives;
    const last = this.roc[this.roc.length - 1];
    if (last.x !== 1 || last.y !== 1) this.roc.push({ x: 1, y: 1 });
    return {
      aupr: this.apSum / P,
      auroc: this.aucSum / (P * N),
      fpr95: this.fpr95,
      fpr95Threshold: this.fpr95Threshold,
      bestF1: this.bestF1,
      bestF1Threshold: this.bestF1Threshold,
      bestF1Precision: this.bestF1Tp / (this.bestF1Tp + this.bestF1Fp),
      bestF1Recall: this.bestF1Tp / P,
      curves: { roc: this.roc, pr: this.pr },
    };
  }
}

/**
 * Feeds two ascending key arrays (positives[0, p), negatives[0, n)) to a sweep as groups of equal keys,
 * from the highest key down. Negatives above the highest remaining positive go in as one group, because TPR
 * is constant over them: the ROC segment they span is straight, and no precision, FPR95 or best F1 falls
 * inside the run. That keeps the loop tight where most pixels are.
 */
export function sweepSorted(sweep: Sweep, positives: Uint32Array, p: number, negatives: Uint32Array, n: number): void {
  let i = p - 1;
  let j = n - 1;
  while (i >= 0 || j >= 0) {
    const key = i >= 0 ? positives[i] : -1;
    const runStart = j;
    while (j >= 0 && negatives[j] > key) j--;
    if (j < runStart) sweep.push(negatives[j + 1], 0, runStart - j);
    if (i < 0) break;

    let groupP = 0;
    let groupN = 0;
    while (i >= 0 && positives[i] === key) {
      groupP++;
      i--;
    }
    while (j >= 0 && negatives[j] === key) {
      groupN++;
      j--;
    }
    sweep.push(key, groupP, groupN);
  }
}
