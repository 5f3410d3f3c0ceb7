/**
 * Phase 5 — combination and normalization. HEAT = Σ_i w_i·s_i with per-pixel weights that sum to 1.
 * The host normaliser then standardises HEAT with an EMA of batch mean and std:
 * state_k = alpha·state_{k−1} + (1 − alpha)·batch_k, and the first batch initialises the state.
 */
import { get } from '../config';
import { batchMoments, type NormalizationMode } from '../heat';
import { makeNormalizer } from '../pipeline/score';
import type { HeatConfig } from '../config';
import { fail, num, pass, pct, skip, warn, type CheckDefinition, type CheckOutcome } from './types';

export type Component = 'energy' | 'mahalanobis' | 'spatial';
const COMPONENTS: readonly Component[] = ['energy', 'mahalanobis', 'spatial'];

/** Weight maps and component scores of one image; absent components are left out. */
export interface CombinationInput {
  weights: Partial<Record<Component, Float32Array>>;
  scores: Partial<Record<Component, Float32Array>>;
  heat?: Float32Array;
}

/** Judges Σ_i w_i = 1 at every pixel and w_i ≥ 0. */
export function judgeWeightsSum(images: readonly CombinationInput[]): CheckOutcome {
  let worst = 0;
  let negative = 0;
  let pixels = 0;
  for (const { weights } of images) {
    const maps = COMPONENTS.map((c) => weights[c]).filter((w): w is Float32Array => w !== undefined);
    if (maps.length === 0) continue;
    for (let i = 0; i < maps[0].length; i++) {
      let sum = 0;
      for (const w of maps) { sum += w[i]; if (w[i] < 0) negative++; }
      const error = Math.abs(sum - 1);
      worst = Number.isNaN(error) ? Infinity : Math.max(worst, error);
      pixels++;
    }
  }
  if (pixels === 0) return skip('No weight map was produced.');
  const evidence = `Over ${pixels} pixels of ${images.length} images, max |Σw − 1| = ${num(worst)}${negative > 0 ? ` and ${negative} weights are negative` : ''}`;
  if (negative > 0 || worst > 1e-3) return fail(`${evidence}.`);
  if (worst > 1e-5) return warn(`${evidence} (more than float32 rounding).`);
  return pass(`${evidence}.`);
}

/** Judges the combined score: finite everywhere, with its range and spread. */
export function judgeHeatRange(maps: readonly Float32Array[]): CheckOutcome {
  if (maps.length === 0) return skip('No HEAT map was produced.');
  let pixels = 0;
  let nonFinite = 0;
  let min = Infinity;
  let max = -Infinity;
  const finite: number[] = [];
  for (const map of maps) {
    for (let i = 0; i < map.length; i++) {
      pixels++;
      if (!Number.isFinite(map[i])) { nonFinite++; continue; }
      min = Math.min(min, map[i]);
      max = Math.max(max, map[i]);
    }
  }
  for (const map of maps) for (let i = 0; i < map.length; i += Math.max(1, Math.floor(map.length / 2000))) if (Number.isFinite(map[i])) finite.push(map[i]);
  const { mean, std } = finite.length > 0 ? batchMoments(finite) : { mean: NaN, std: NaN };
  const evidence = `HEAT over ${pixels} pixels of ${maps.length} images: min ${num(min)}, max ${num(max)}, mean ${num(mean)}, std ${num(std)}`;
  if (nonFinite > 0) return fail(`${evidence}; ${nonFinite} values are NaN or infinite.`);
  if (Math.max(Math.abs(min), Math.abs(max)) > 1e6) return warn(`${evidence}; magnitudes above 1e6 suggest a component blows up (a near-zero entropy or deviation in a weight).`);
  if (std === 0) return warn(`${evidence}; the score is constant.`);
  return pass(`${evidence}.`);
}

/** Normaliser state after each image, and the batch moments computed independently in float64. */
export interface NormalizerTrace {
  mode: NormalizationMode;
  alpha: number;
  states: { mean: number; std: number }[];
  batches: { mean: number; std: number }[];
}

/** Feeds the HEAT maps, in order, to the configured normaliser and records its state after each. */
export function traceNormalizer(config: HeatConfig, maps: readonly Float32Array[]): NormalizerTrace {
  const normalizer = makeNormalizer(config);
  const states: { mean: number; std: number }[] = [];
  const batches: { mean: number; std: number }[] = [];
  for (const map of maps) {
    normalizer.normalize(map);
    const s = normalizer.current;
    states.push(s ? { mean: s.mean, std: s.std } : { mean: NaN, std: NaN });
    batches.push(moments(map));
  }
  return { mode: normalizer.mode, alpha: get<number>(config, 'heat.score.alpha'), states, batches };
}

/** Mean and unbiased std in float64, written here so the normaliser is checked against its formula. */
function moments(values: Float32Array): { mean: number; std: number } {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  const mean = sum / values.length;
  let squares = 0;
  for (let i = 0; i < values.length; i++) squares += (values[i] - mean) ** 2;
  return { mean, std: values.length > 1 ? Math.sqrt(squares / (values.length - 1)) : 0 };
}

/** Judges the normaliser: the adaptive state follows the EMA formula and changes from image to image, and a fixed state stays constant. */
export function judgeNormalizerUpdates(trace: NormalizerTrace, fixed: { mean: number; std: number }): CheckOutcome {
  const n = trace.states.length;
  if (trace.mode === 'none') return skip('heat.score.normalization is "none", so there is no state to update.', { settings: ['heat.score.normalization'] });
  if (n === 0) return skip('No HEAT map was produced.');
  if (trace.mode === 'fixed') {
    const moved = trace.states.filter((s) => s.mean !== fixed.mean || s.std !== fixed.std).length;
    const evidence = `Fixed normalization kept mean ${num(fixed.mean)} and std ${num(fixed.std)} over ${n} images`;
    return moved === 0 ? pass(`${evidence}.`) : fail(`${evidence} except at ${moved} images, where the state moved.`);
  }
  let worst = 0;
  let expected = trace.batches[0];
  let changes = 0;
  for (let k = 0; k < n; k++) {
    if (k > 0) {
      const a = trace.alpha;
      expected = { mean: a * expected.mean + (1 - a) * trace.batches[k].mean, std: a * expected.std + (1 - a) * trace.batches[k].std };
      if (trace.states[k].mean !== trace.states[k - 1].mean || trace.states[k].std !== trace.states[k - 1].std) changes++;
    }
    const scale = Math.max(1e-12, Math.abs(expected.std));
    worst = Math.max(worst, Math.abs(trace.states[k].mean - expected.mean) / scale, Math.abs(trace.states[k].std - expected.std) / scale);
  }
  const last = trace.states[n - 1];
  const evidence = `Adaptive state (alpha ${num(trace.alpha)}) changed at ${changes} of ${n - 1} updates and ended at mean ${num(last.mean)}, std ${num(last.std)}; ` +
    `largest deviation from the EMA formula ${num(worst)} (in units of std)`;
  if (!(worst <= 1e-6)) return fail(`${evidence}.`);
  if (n > 1 && changes === 0 && trace.alpha < 1) return fail(`${evidence}; the state never moved.`);
  if (trace.alpha === 0) return warn(`${evidence}; alpha 0 standardises each image by itself rather than adapting.`, { settings: ['heat.score.alpha'] });
  return pass(`${evidence}.`);
}

/** Relative change at the last update above which the EMA has not settled. */
export const EMA_SETTLED = 0.05;

/** Judges whether the EMA settles: relative change of mean and std (in units of the state's std) at the last updates. */
export function judgeEmaStable(trace: NormalizerTrace): CheckOutcome {
  if (trace.mode !== 'adaptive') return skip(`heat.score.normalization is "${trace.mode}", which has no moving average.`, { settings: ['heat.score.normalization'] });
  const n = trace.states.length;
  if (n < 3) return skip(`Only ${n} images were scored; at least 3 are needed to see the moving average settle.`);
  const change = (k: number) => {
    const s = trace.states[k];
    const p = trace.states[k - 1];
    const scale = Math.max(1e-12, s.std);
    return Math.max(Math.abs(s.mean - p.mean), Math.abs(s.std - p.std)) / scale;
  };
  const changes = Array.from({ length: n - 1 }, (_, i) => change(i + 1));
  const first = changes[0];
  const final = changes[changes.length - 1];
  const evidence = `Relative change of the EMA mean/std per image: ${num(first)} at the 2nd image, ${num(final)} at the ${n}th (alpha ${num(trace.alpha)})`;
  if (final <= EMA_SETTLED) return pass(`${evidence}; settled below ${num(EMA_SETTLED)}.`);
  return warn(`${evidence}; still above ${num(EMA_SETTLED)} — it needs more images or a larger alpha.`, { settings: ['heat.score.alpha'] });
}

/** Share of pixels above which one component dominates HEAT. */
export const DOMINANCE = 0.9;

/**
 * Judges dominance: the share of pixels where each component has the largest weight (as the viewer shows),
 * and the share where it has the largest contribution |w_i·s_i| to HEAT (s_i z-scored in the 'standardized'
 * and 'equal' modes). With 'reliability' either share above 90 % warns; with the z-scored modes the
 * contribution share decides, since they already correct the components' scales.
 */
export function judgeDominance(images: readonly CombinationInput[], combination = 'reliability'): CheckOutcome {
  const byWeight: Record<Component, number> = { energy: 0, mahalanobis: 0, spatial: 0 };
  const byTerm: Record<Component, number> = { energy: 0, mahalanobis: 0, spatial: 0 };
  let pixels = 0;
  for (const { weights, scores } of images) {
    const present = COMPONENTS.filter((c) => weights[c] !== undefined);
    if (present.length === 0) continue;
    const n = (weights[present[0]] as Float32Array).length;
    for (let i = 0; i < n; i++) {
      let wBest: Component | undefined;
      let tBest: Component | undefined;
      let wMax = -Infinity;
      let tMax = -Infinity;
      for (const c of present) {
        const w = (weights[c] as Float32Array)[i];
        if (w > wMax) { wMax = w; wBest = c; }
        const s = scores[c]?.[i];
        const term = s === undefined ? -Infinity : Math.abs(w * s);
        if (term > tMax) { tMax = term; tBest = c; }
      }
      if (wBest) byWeight[wBest]++;
      if (tBest) byTerm[tBest]++;
      pixels++;
    }
  }
  if (pixels === 0) return skip('No weight map was produced.');
  const list = (counts: Record<Component, number>) => COMPONENTS.map((c) => `${c} ${pct(counts[c] / pixels)}`).join(', ');
  const reliability = combination === 'reliability';
  const evidence = `Largest weight: ${list(byWeight)}; largest contribution |w·${reliability ? 's' : 'z'}| (${combination}): ${list(byTerm)} (${pixels} pixels)`;
  const byContribution = COMPONENTS.find((c) => byTerm[c] / pixels > DOMINANCE);
  const top = reliability ? COMPONENTS.find((c) => byWeight[c] / pixels > DOMINANCE) ?? byContribution : byContribution;
  if (top) {
    const fix = reliability
      ? { description: 'Z-score each component on known validation pixels before weighting.', setting: 'heat.score.combination', value: 'standardized' }
      : combination === 'standardized'
        ? { description: 'Give the z-scored components equal weights.', setting: 'heat.score.combination', value: 'equal' }
        : undefined;
    return warn(`${evidence}; ${top} dominates, so HEAT behaves like ${top} alone.`, fix ? { fix } : {});
  }
  return pass(`${evidence}; no component takes more than ${pct(DOMINANCE)}.`);
}

/** Weights, combined terms and HEAT of each sampled image; terms are z-scores in the 'standardized' and 'equal' modes. */
async function combinationInputs(m: Parameters<CheckDefinition['run']>[0]): Promise<CombinationInput[]> {
  const { runs, components, standardization } = await m.sessionRuns();
  return runs.map(({ run }) => {
    const weights: CombinationInput['weights'] = {};
    const scores: CombinationInput['scores'] = {};
    for (const c of components) {
      const w = run.maps.get(`weight_${c}`);
      const s = run.maps.get(c);
      const z = standardization?.[c];
      if (w) weights[c] = w;
      if (s) scores[c] = z ? s.map((v) => (v - z.mean) / z.std) : s;
    }
    return { weights, scores, heat: run.maps.get('heat') };
  });
}

export const PHASE5_CHECKS: CheckDefinition[] = [
  {
    id: 'phase5.weights-sum', phase: 5,
    title: 'Reliability weights sum to 1 at every pixel',
    settings: ['heat.score.components', 'heat.score.combination'],
    async run(m) {
      return judgeWeightsSum(await combinationInputs(m));
    },
  },
  {
    id: 'phase5.heat-range', phase: 5,
    title: 'Combined HEAT score is finite and in a sensible range',
    settings: ['heat.score.combination', 'heat.score.components'],
    async run(m) {
      return judgeHeatRange((await combinationInputs(m)).map((x) => x.heat).filter((x): x is Float32Array => x !== undefined));
    },
  },
  {
    id: 'phase5.normalizer-updates', phase: 5,
    title: 'Adaptive normalization updates its mean and std from image to image',
    settings: ['heat.score.normalization', 'heat.score.alpha'],
    async run(m) {
      const maps = (await combinationInputs(m)).map((x) => x.heat).filter((x): x is Float32Array => x !== undefined);
      return judgeNormalizerUpdates(traceNormalizer(m.config, maps), { mean: get<number>(m.config, 'heat.score.fixedMean'), std: get<number>(m.config, 'heat.score.fixedStd') });
    },
  },
  {
    id: 'phase5.ema-stable', phase: 5,
    title: 'EMA statistics stabilise after a few images',
    settings: ['heat.score.alpha', 'heat.score.normalization'],
    async run(m) {
      const maps = (await combinationInputs(m)).map((x) => x.heat).filter((x): x is Float32Array => x !== undefined);
      return judgeEmaStable(traceNormalizer(m.config, maps));
    },
  },
  {
    id: 'phase5.dominance', phase: 5,
    title: 'No component dominates the combination (share of pixels per component)',
    settings: ['heat.score.combination', 'heat.score.components'],
    async run(m) {
      const { combination } = await m.sessionRuns();
      return judgeDominance(await combinationInputs(m), combination);
    },
  },
];
