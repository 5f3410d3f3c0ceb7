/**
 * Host-side parts of the sweep's combination modes and the dominance figures.
 *
 * With the components s_c (oriented higher = more anomalous: s_E = +E, s_M = M, s_S = −S) and per-pixel
 * reliability weights w_c from the head (they sum to 1 over the combined components), as in heat/combine.ts:
 *   'reliability'   HEAT = Σ_c w_c·s_c                         (computed by the head itself)
 *   'standardized'  HEAT = Σ_c w_c·(s_c − μ_c)/σ_c
 *   'equal'         HEAT = Σ_c (1/n)·(s_c − μ_c)/σ_c           (n = number of combined components)
 * μ_c and σ_c are the mean and the unbiased standard deviation of s_c over the KNOWN pixels (label 0, not
 * anomaly, not void) of the sweep split, at logits resolution with the labels resized by nearest neighbour,
 * as pipeline/calibrate.ts computes them for a single session. The combination runs at logits resolution too.
 *
 * Dominance: at a pixel, the component whose weighted term |w_c·t_c| is largest dominates (t_c = s_c for
 * 'reliability', the z-score otherwise; w_c = 1/n for 'equal'); ties go to the earlier component in the
 * order energy, mahalanobis, spatial. Shares are over every logits pixel of the split.
 */
import type { ComponentStandardization, HeatComponent } from '../heat';

export type ComponentMaps = Partial<Record<HeatComponent, Float32Array>>;

/** Mean and unbiased variance of known pixels, merged image by image with the pairwise update, in float64. */
export class KnownMoments {
  count = 0;
  mean = 0;
  private m2 = 0;

  /** Adds the values whose label is 0 (known). */
  add(values: Float32Array, labels: Uint8Array): void {
    let n = 0;
    let sum = 0;
    for (let i = 0; i < values.length; i++) if (labels[i] === 0) { n++; sum += values[i]; }
    if (n === 0) return;
    const mean = sum / n;
    let m2 = 0;
    for (let i = 0; i < values.length; i++) if (labels[i] === 0) m2 += (values[i] - mean) ** 2;
    const total = this.count + n;
    const delta = mean - this.mean;
    this.m2 += m2 + (delta * delta * this.count * n) / total;
    this.mean += (delta * n) / total;
    this.count = total;
  }

  get std(): number {
    return this.count > 1 ? Math.sqrt(this.m2 / (this.count - 1)) : 0;
  }

  get result(): ComponentStandardization {
    return { mean: this.mean, std: this.std };
  }
}

/** Combines z-scored components: 'standardized' when weights are given, 'equal' when they are undefined. */
export function combineStandardized(
  scores: ComponentMaps, weights: ComponentMaps | undefined, components: readonly HeatComponent[],
  z: Partial<Record<HeatComponent, ComponentStandardization>>,
): Float32Array {
  const n = (scores[components[0]] as Float32Array).length;
  const out = new Float64Array(n);
  for (const c of components) {
    const s = scores[c] as Float32Array;
    const { mean, std } = z[c] as ComponentStandardization;
    const w = weights?.[c];
    const share = 1 / components.length;
    for (let i = 0; i < n; i++) out[i] += (w ? w[i] : share) * ((s[i] - mean) / std);
  }
  return Float32Array.from(out);
}

/**
 * Adds to `counts` (one slot per entry of `components`) how many pixels each component's weighted term
 * dominates. Terms are z-scores when `z` is given; weights are equal when `weights` is undefined.
 */
export function addDominance(
  counts: number[], scores: ComponentMaps, weights: ComponentMaps | undefined, components: readonly HeatComponent[],
  z?: Partial<Record<HeatComponent, ComponentStandardization>>,
): void {
  // Hot loop over every pixel: component arrays and constants are hoisted out of the per-pixel work.
  const terms = components.map((c) => scores[c] as Float32Array);
  const weightMaps = weights ? components.map((c) => weights[c] as Float32Array) : undefined;
  const means = components.map((c) => (z ? (z[c] as ComponentStandardization).mean : 0));
  const scales = components.map((c) => (z ? 1 / (z[c] as ComponentStandardization).std : 1));
  const share = 1 / components.length;
  const k = components.length;
  const n = terms[0].length;
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestMagnitude = -1;
    for (let j = 0; j < k; j++) {
      const weight = weightMaps ? weightMaps[j][i] : share;
      const magnitude = Math.abs(weight * (terms[j][i] - means[j]) * scales[j]);
      if (magnitude > bestMagnitude) {
        bestMagnitude = magnitude;
        best = j;
      }
    }
    counts[best]++;
  }
}
