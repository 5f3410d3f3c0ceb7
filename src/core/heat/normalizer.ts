/**
 * Test-time normalisation of the HEAT score, run on the host after the head graph.
 *
 *  - 'adaptive': exponential moving average of the batch mean and standard deviation. For each batch,
 *    first UPDATE the state (the first batch initialises it, later ones give
 *    state = alpha·state + (1 − alpha)·batch), THEN APPLY (x − mean)/(std + 1e-6), so a batch is normalised with statistics that include it.
 *    The batch std is the unbiased one (divides by n − 1, as torch's Tensor.std()). alpha = 0 therefore
 *    standardises every batch by its own statistics. It does not switch adaptation off.
 *  - 'fixed': (x − mean)/(std + 1e-6) with a given mean and std (for example from a calibration split).
 *  - 'none': scores unchanged.
 * Sums are accumulated in float64. The orientation is kept: higher = more anomalous.
 */
import { HeatError } from '../errors';

export type NormalizationMode = 'adaptive' | 'fixed' | 'none';

/** Epsilon added to the std before dividing. */
export const NORMALIZER_EPSILON = 1e-6;

export interface NormalizerOptions {
  mode: NormalizationMode;
  /** EMA factor for 'adaptive', in [0, 1] (default 0.9). */
  alpha?: number;
  /** Mean for 'fixed'. */
  mean?: number;
  /** Standard deviation for 'fixed', ≥ 0. */
  std?: number;
}

/** Mean and std that the normaliser applies. */
export interface NormalizerState {
  mean: number;
  std: number;
  /** Batches seen so far (adaptive only). */
  batches: number;
}

export class ScoreNormalizer {
  private state?: NormalizerState;
  readonly mode: NormalizationMode;
  private readonly alpha: number;

  constructor(options: NormalizerOptions) {
    this.mode = options.mode;
    this.alpha = options.alpha ?? 0.9;
    if (!['adaptive', 'fixed', 'none'].includes(options.mode)) {
      throw new HeatError(`Invalid value ${JSON.stringify(options.mode)} for heat.score.normalization.`, 'Allowed: "adaptive", "fixed", "none".', 'heat.score.normalization');
    }
    if (options.mode === 'adaptive' && !(this.alpha >= 0 && this.alpha <= 1)) {
      throw new HeatError(`Invalid value ${this.alpha} for heat.score.alpha.`, 'Expected a number from 0 to 1, such as 0.9.', 'heat.score.alpha');
    }
    if (options.mode === 'fixed') {
      const { mean, std } = options;
      if (!Number.isFinite(mean) || !(Number.isFinite(std) && (std as number) >= 0)) {
        throw new HeatError(`Fixed normalization needs a finite mean and a std ≥ 0, got mean ${mean} and std ${std}.`,
          'Set heat.score.fixedMean and heat.score.fixedStd, for example from a calibration split.', 'heat.score.fixedStd');
      }
      this.state = { mean: mean as number, std: std as number, batches: 0 };
    }
  }

  /** Current mean and std (a copy), or undefined for 'none' and for 'adaptive' before the first batch. */
  get current(): NormalizerState | undefined {
    return this.state && { ...this.state };
  }

  /**
   * Updates the state with this batch (adaptive), then returns the normalised batch as a new array. `source`
   * (the image) is named in the error for a non-finite score.
   */
  normalize(batch: ArrayLike<number>, source?: string): Float32Array {
    if (this.mode === 'adaptive') this.update(batch, source);
    return this.apply(batch);
  }

  /** Folds one batch into the EMA state. Does nothing unless the mode is 'adaptive'. */
  update(batch: ArrayLike<number>, source?: string): void {
    if (this.mode !== 'adaptive') return;
    const { mean, std } = batchMoments(batch, source);
    if (!this.state) {
      this.state = { mean, std, batches: 1 };
      return;
    }
    const a = this.alpha;
    this.state = { mean: a * this.state.mean + (1 - a) * mean, std: a * this.state.std + (1 - a) * std, batches: this.state.batches + 1 };
  }

  /** Returns (x − mean)/(std + 1e-6) with the current state, or the scores unchanged for 'none' or an empty adaptive state. */
  apply(batch: ArrayLike<number>): Float32Array {
    const out = new Float32Array(batch.length);
    if (this.mode === 'none' || !this.state) {
      out.set(batch);
      return out;
    }
    const { mean } = this.state;
    const denominator = this.state.std + NORMALIZER_EPSILON;
    for (let i = 0; i < out.length; i++) out[i] = (batch[i] - mean) / denominator;
    return out;
  }

  /** Forgets the adaptive state (fixed and none keep theirs). */
  reset(): void {
    if (this.mode === 'adaptive') this.state = undefined;
  }
}

/**
 * Mean and unbiased std of a batch, in float64 (two passes, so no cancellation). A batch of one value
 * has std 0 (torch would give NaN). Non-finite scores are refused: one NaN would poison the EMA state
 * for every later batch.
 */
export function batchMoments(batch: ArrayLike<number>, source?: string): { mean: number; std: number } {
  const n = batch.length;
  if (n === 0) throw new HeatError('Cannot normalise an empty score batch.', 'Score at least one pixel.');
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const v = batch[i];
    if (!Number.isFinite(v)) {
      throw new HeatError(`${source ? `${source}: ` : ''}Score ${i} of the batch is ${v}; the normaliser needs finite scores.`,
        'Check the model output for NaN or infinite logits and features.');
    }
    sum += v;
  }
  const mean = sum / n;
  let squares = 0;
  for (let i = 0; i < n; i++) squares += (batch[i] - mean) ** 2;
  return { mean, std: n > 1 ? Math.sqrt(squares / (n - 1)) : 0 };
}
