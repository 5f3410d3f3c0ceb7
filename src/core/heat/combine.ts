/**
 * Reliability weights and the HEAT combination.
 *
 * Reliability weights of the HEAT method, before normalisation:
 *   w_E ∝ 1 / (H + 1e-6) with the softmax entropy H = −Σ_c p_c·log(p_c + 1e-8)  (confident pixel → trust energy)
 *   w_M ∝ 1
 *   w_S ∝ 1 / (v + 1e-6) with v = Σ_c avgpool_3((p_c − mean_c p)²)              (padding as configured)
 * then divided by their sum over the combined components, so the weights of every pixel sum to 1.
 * A component left out of the combination (Mahalanobis without statistics) gets weight 0 and the
 * others are renormalised among themselves.
 *
 * HEAT = Σ_i w_i·s_i with s_E = +E, s_M = M and s_S = −S (the spatial anomaly score). The energy enters
 * with a plus sign because higher energy means more anomalous, so −E would invert its ranking. Modes:
 *   'reliability'  raw s_i, reliability weights (the original HEAT combination).
 *   'standardized' s_i replaced by (s_i − mean_i)/std_i with given constants, reliability weights.
 *   'equal'        standardised s_i, equal weights 1/n.
 * HEAT is oriented like its parts: higher = more anomalous.
 */
import { HeadContext } from './context';
import { entropyHead } from './logit-heads';
import { localDeviation, Padding } from './spatial';

export type HeatComponent = 'energy' | 'mahalanobis' | 'spatial';
export type CombinationMode = 'reliability' | 'standardized' | 'equal';

export const HEAT_COMPONENTS: readonly HeatComponent[] = ['energy', 'mahalanobis', 'spatial'];

/** Epsilon added to the entropy and to the local deviation before taking the reciprocal. */
export const WEIGHT_EPSILON = 1e-6;

/** Mean and standard deviation of a component on known validation pixels, for z-scoring. */
export interface ComponentStandardization {
  mean: number;
  std: number;
}

/** Per-pixel weights [N, H, W] for every component, 0 for components that are not combined. */
export type ComponentWeights = Record<HeatComponent, string>;

/** Reliability weights normalised over `components` (a non-empty subset). */
export function reliabilityWeights(ctx: HeadContext, components: readonly HeatComponent[], padding: Padding): ComponentWeights {
  const key = `weights:${[...components].sort().join('+')}:${padding}`;
  const raw: Partial<Record<HeatComponent, string>> = {};
  if (components.includes('energy')) {
    raw.energy = ctx.once('raw_weight_energy', () =>
      ctx.g.node('Reciprocal', [ctx.addConst(entropyHead(ctx), WEIGHT_EPSILON)], {}, 'raw_weight_energy'));
  }
  if (components.includes('spatial')) {
    raw.spatial = ctx.once(`raw_weight_spatial:${padding}`, () =>
      ctx.g.node('Reciprocal', [ctx.addConst(localDeviation(ctx, padding), WEIGHT_EPSILON)], {}, 'raw_weight_spatial'));
  }

  // The Mahalanobis raw weight is the constant 1, so it enters the total as a scalar.
  const terms = [raw.energy, raw.spatial].filter((t): t is string => t !== undefined);
  const withMahalanobis = components.includes('mahalanobis');
  const total = ctx.once(`${key}:total`, () => {
    let sum = terms.length > 0 ? terms[0] : ctx.constantMap(0);
    for (const t of terms.slice(1)) sum = ctx.add(sum, t, 'weight_total');
    return withMahalanobis ? ctx.addConst(sum, 1, 'weight_total') : sum;
  });

  const weight = (c: HeatComponent): string => ctx.once(`${key}:${c}`, () => {
    if (!components.includes(c)) return zeros(ctx);
    if (c === 'mahalanobis') return ctx.g.node('Reciprocal', [total], {}, 'weight_mahalanobis');
    return ctx.div(raw[c] as string, total, `weight_${c}`);
  });
  return { energy: weight('energy'), mahalanobis: weight('mahalanobis'), spatial: weight('spatial') };
}

/** Equal weights 1/n over `components`, 0 elsewhere, as constant maps. */
export function equalWeights(ctx: HeadContext, components: readonly HeatComponent[]): ComponentWeights {
  const share = 1 / components.length;
  const weight = (c: HeatComponent): string => components.includes(c)
    ? ctx.once(`equal_weight:${share}`, () => ctx.constantMap(share, 'equal_weight'))
    : zeros(ctx);
  return { energy: weight('energy'), mahalanobis: weight('mahalanobis'), spatial: weight('spatial') };
}

/** Builds HEAT = Σ_i w_i·s_i over the combined components, z-scoring each s_i first when `standardization` is given. */
export function combine(
  ctx: HeadContext,
  scores: Partial<Record<HeatComponent, string>>,
  weights: ComponentWeights,
  components: readonly HeatComponent[],
  standardization?: Partial<Record<HeatComponent, ComponentStandardization>>,
): string {
  let heat: string | undefined;
  for (const c of components) {
    let s = scores[c] as string;
    if (standardization) {
      const z = standardization[c] as ComponentStandardization;
      s = ctx.div(ctx.sub(s, ctx.g.scalar(z.mean)), ctx.g.scalar(z.std), `standardized_${c}`);
    }
    const term = ctx.mul(weights[c], s, `weighted_${c}`);
    heat = heat === undefined ? term : ctx.add(heat, term, 'heat');
  }
  return heat as string;
}

function zeros(ctx: HeadContext): string {
  return ctx.once('zeros', () => ctx.constantMap(0, 'zeros'));
}
