/**
 * Assembles the HEAT heads into one standalone ONNX graph (opset 17).
 *
 * Inputs:  `logits`   float32 [N, C, H, W]
 *          `features` float32 [N, D, h, w], only when a variant computes Mahalanobis (h, w may differ from H, W)
 * Outputs: float32 [N, H, W] maps, every score oriented so that higher = more anomalous:
 *          energy (+E), max_logit (−max z), max_softmax (−max p), entropy (+H), mahalanobis (+M),
 *          spatial (−S), heat, sml (on request). The weights weight_energy, weight_mahalanobis and
 *          weight_spatial sum to 1. prediction is int32 [N, H, W]. probabilities is float32 [N, C, H, W], on request.
 *
 * Several variants (for sweeps) can share one graph. The outputs that depend on a variant's options
 * (energy, mahalanobis, spatial, weights, heat, sml) carry its suffix. The others (max_logit, max_softmax,
 * entropy, prediction, probabilities) appear once, without suffix. Equal intermediate maps (the softmax,
 * an energy at the same T, a Mahalanobis map for the same statistics) are computed once.
 */
import type { onnx } from 'onnx-proto';
import { HeatError } from '../errors';
import type { ClassStatistics } from '../stats/types';
import {
  combine, CombinationMode, ComponentStandardization, ComponentWeights, equalWeights, HEAT_COMPONENTS, HeatComponent, reliabilityWeights,
} from './combine';
import { FEATURES_INPUT, HeadContext, LOGITS_INPUT } from './context';
import { Dim, ElemType, encodeModel } from './graph';
import { energyHead, entropyHead, maxLogitHead, maxSoftmaxHead, predictionHead, softmax, standardizedMaxLogitHead } from './logit-heads';
import { CovarianceMode, mahalanobisHead } from './mahalanobis';
import { Padding, spatialHead, SpatialMethod } from './spatial';

export type HeatOutputName =
  | 'energy' | 'max_logit' | 'max_softmax' | 'entropy' | 'mahalanobis' | 'spatial'
  | 'weight_energy' | 'weight_mahalanobis' | 'weight_spatial' | 'heat' | 'prediction' | 'probabilities' | 'sml';

/** Every output a head graph can have. */
export const HEAT_OUTPUTS: readonly HeatOutputName[] = [
  'energy', 'max_logit', 'max_softmax', 'entropy', 'mahalanobis', 'spatial',
  'weight_energy', 'weight_mahalanobis', 'weight_spatial', 'heat', 'prediction', 'probabilities', 'sml',
];

/** Outputs produced only when listed in `outputs`: the softmax is large, and SML needs max-logit statistics. */
const OPT_IN_OUTPUTS: ReadonlySet<HeatOutputName> = new Set(['probabilities', 'sml']);

/** Outputs that do not depend on a variant's options and so appear once, without suffix. */
const SHARED_OUTPUTS: ReadonlySet<HeatOutputName> = new Set(['max_logit', 'max_softmax', 'entropy', 'prediction', 'probabilities']);

export interface HeatHeadOptions {
  /** Energy temperature T > 0 (default 1). */
  temperature?: number;
  /** Odd neighbourhood size k of the spatial consistency (default 3). */
  kernelSize?: number;
  /** Spatial consistency variant (default 'kl'). */
  spatialMethod?: SpatialMethod;
  /** Neighbourhood padding (default 'exclude'). 'zero' counts padded zeros, as torch avg_pool2d does by default. */
  padding?: Padding;
  /** Covariance used by Mahalanobis (default 'tied'). */
  covariance?: CovarianceMode;
  /** Class statistics. Without them Mahalanobis is left out and HEAT combines energy and spatial only. */
  statistics?: ClassStatistics;
  /** Components combined into HEAT (default all three). */
  components?: HeatComponent[];
  /** Combination mode (default 'reliability'). */
  combination?: CombinationMode;
  /** Per-component z-score constants, required by 'standardized' and 'equal'. */
  standardization?: Partial<Record<HeatComponent, ComponentStandardization>>;
  /** Outputs to produce (default: all but `probabilities` and `sml`). */
  outputs?: HeatOutputName[];
  /** Number of classes, when known. It fixes the class axis of `logits` in the graph. */
  classCount?: number;
  /** Graph input carrying this variant's features (default 'features'). Variants using different layers need different inputs. */
  featuresInput?: string;
}

export interface HeatHeadVariant extends HeatHeadOptions {
  /** Appended to the variant's output names, for example '_T2' gives 'heat_T2'. Unique per graph. */
  suffix: string;
}

export interface HeatVariantInfo {
  suffix: string;
  /** Components actually combined into this variant's `heat`. */
  components: HeatComponent[];
  /** True when Mahalanobis was requested but no statistics were given, so HEAT combines energy and spatial only. */
  withoutMahalanobis: boolean;
  /** Human-readable notes for the summary. */
  notes: string[];
  /** Graph output name of each map this variant produced (shared maps included). */
  outputs: Partial<Record<HeatOutputName, string>>;
}

export interface HeatHead {
  model: onnx.ModelProto;
  /** Encoded model, ready for `InferenceSession.create`. */
  bytes: Uint8Array;
  /** Graph input names: always 'logits', plus 'features' (or each variant's featuresInput) when a variant computes Mahalanobis. */
  inputs: string[];
  outputs: string[];
  variants: HeatVariantInfo[];
}

/** Builds one head graph whose output names carry no suffix. */
export function buildHeatHead(options: HeatHeadOptions = {}): HeatHead {
  return buildHeatHeads([{ ...options, suffix: '' }]);
}

/** Builds one graph holding several variants that share the softmax and other equal intermediate maps. */
export function buildHeatHeads(variants: HeatHeadVariant[]): HeatHead {
  if (variants.length === 0) throw new HeatError('No head variant was given.', 'Pass at least one variant.');
  const suffixes = new Set(variants.map((v) => v.suffix));
  if (suffixes.size !== variants.length) throw new HeatError('Two head variants share a suffix.', 'Give every variant its own suffix.');
  const classCounts = new Set(variants.map((v) => v.classCount).filter((c) => c !== undefined));
  if (classCounts.size > 1) throw new HeatError(`Head variants disagree on the class count (${[...classCounts].join(', ')}).`, 'Use one class count for all variants.');

  const ctx = new HeadContext({ classCount: variants.find((v) => v.classCount !== undefined)?.classCount });
  const statsKeys = new Map<ClassStatistics, string>();
  const emitted = new Map<string, string>();
  const emit = (name: string, tensor: string, elemType: number, dims: Dim[]): string => {
    const existing = emitted.get(name);
    if (existing === undefined) {
      ctx.g.alias(tensor, name);
      ctx.g.output(name, elemType, dims);
      emitted.set(name, tensor);
    }
    return name;
  };

  const infos = variants.map((variant) => {
    const resolved = resolveOptions(variant);
    if (resolved.statistics && !statsKeys.has(resolved.statistics)) statsKeys.set(resolved.statistics, `s${statsKeys.size}`);
    const maps = buildVariant(ctx, resolved, statsKeys.get(resolved.statistics as ClassStatistics) ?? '');
    const outputs: Partial<Record<HeatOutputName, string>> = {};
    for (const name of resolved.outputs) {
      const make = maps[name];
      if (!make) continue;
      const outName = SHARED_OUTPUTS.has(name) ? name : `${name}${variant.suffix}`;
      const [elemType, dims] = outputType(name, resolved.classCount);
      outputs[name] = emit(outName, make(), elemType, dims);
    }
    return { suffix: variant.suffix, components: resolved.components, withoutMahalanobis: resolved.withoutMahalanobis, notes: resolved.notes, outputs };
  });

  const model = ctx.g.toModel('HEAT Lens score heads: every score map is oriented so that higher = more anomalous.');
  return { model, bytes: encodeModel(model), inputs: ctx.g.inputNames(), outputs: ctx.g.outputNames(), variants: infos };
}

interface ResolvedOptions {
  temperature: number;
  kernelSize: number;
  spatialMethod: SpatialMethod;
  padding: Padding;
  covariance: CovarianceMode;
  statistics?: ClassStatistics;
  components: HeatComponent[];
  combination: CombinationMode;
  standardization?: Partial<Record<HeatComponent, ComponentStandardization>>;
  outputs: HeatOutputName[];
  classCount?: number;
  featuresInput: string;
  withoutMahalanobis: boolean;
  notes: string[];
}

/** Returns lazy builders for the maps of one variant, so only requested maps add nodes to the graph. */
function buildVariant(ctx: HeadContext, o: ResolvedOptions, statsKey: string): Partial<Record<HeatOutputName, () => string>> {
  const scores: Partial<Record<HeatComponent, () => string>> = {
    energy: () => energyHead(ctx, o.temperature),
    spatial: () => spatialHead(ctx, o.kernelSize, o.spatialMethod, o.padding),
  };
  if (o.statistics) {
    const stats = o.statistics;
    scores.mahalanobis = () => mahalanobisHead(ctx, stats, o.covariance, statsKey, o.featuresInput);
  }
  let weights: ComponentWeights | undefined;
  const getWeights = (): ComponentWeights => {
    weights ??= o.combination === 'equal' ? equalWeights(ctx, o.components) : reliabilityWeights(ctx, o.components, o.padding);
    return weights;
  };
  const heat = (): string => {
    const built: Partial<Record<HeatComponent, string>> = {};
    for (const c of o.components) built[c] = (scores[c] as () => string)();
    const standardization = o.combination === 'reliability' ? undefined : o.standardization;
    return combine(ctx, built, getWeights(), o.components, standardization);
  };
  return {
    energy: scores.energy,
    max_logit: () => maxLogitHead(ctx),
    max_softmax: () => maxSoftmaxHead(ctx),
    entropy: () => entropyHead(ctx),
    mahalanobis: scores.mahalanobis,
    spatial: scores.spatial,
    weight_energy: () => getWeights().energy,
    weight_mahalanobis: () => getWeights().mahalanobis,
    weight_spatial: () => getWeights().spatial,
    heat,
    prediction: () => predictionHead(ctx),
    probabilities: () => softmax(ctx),
    sml: o.statistics?.maxLogit ? () => standardizedMaxLogit(ctx, o.statistics as ClassStatistics, statsKey) : undefined,
  };
}

/** SML with classes that have no pixels mapped to mean 0 and std 1, so a prediction of such a class stays finite. */
function standardizedMaxLogit(ctx: HeadContext, stats: ClassStatistics, statsKey: string): string {
  const { mean, std } = stats.maxLogit as { mean: Float64Array; std: Float64Array };
  const usable = (c: number): boolean => !stats.emptyClasses.includes(c) && stats.counts[c] > 0;
  const means = Array.from(mean, (m, c) => (usable(c) ? m : 0));
  const stds = Array.from(std, (s, c) => (usable(c) ? s : 1));
  return standardizedMaxLogitHead(ctx, means, stds, statsKey);
}

function outputType(name: HeatOutputName, classCount: number | undefined): [number, Dim[]] {
  if (name === 'prediction') return [ElemType.INT32, ['N', 'H', 'W']];
  if (name === 'probabilities') return [ElemType.FLOAT, ['N', classCount ?? 'C', 'H', 'W']];
  return [ElemType.FLOAT, ['N', 'H', 'W']];
}

/** Applies defaults and checks every option, naming the setting and the allowed values. */
function resolveOptions(v: HeatHeadOptions): ResolvedOptions {
  const temperature = v.temperature ?? 1;
  if (!(Number.isFinite(temperature) && temperature > 0)) {
    throw new HeatError(`Invalid temperature ${temperature}.`, 'Set heat.score.temperature to a positive number such as 1.', 'heat.score.temperature');
  }
  const kernelSize = v.kernelSize ?? 3;
  if (!(Number.isInteger(kernelSize) && kernelSize >= 1 && kernelSize % 2 === 1)) {
    throw new HeatError(`Invalid kernel size ${kernelSize}.`, 'Set heat.score.kernelSize to an odd integer such as 3 or 5.', 'heat.score.kernelSize');
  }
  const spatialMethod = oneOf(v.spatialMethod ?? 'kl', ['kl', 'variance'] as const, 'heat.score.spatialMethod');
  const padding = oneOf(v.padding ?? 'exclude', ['exclude', 'zero'] as const, 'heat.score.padding');
  const covariance = oneOf(v.covariance ?? 'tied', ['tied', 'classwise', 'lowrank'] as const, 'heat.statistics.covariance');
  const combination = oneOf(v.combination ?? 'reliability', ['reliability', 'standardized', 'equal'] as const, 'heat.score.combination');
  const outputs = v.outputs ?? HEAT_OUTPUTS.filter((o) => !OPT_IN_OUTPUTS.has(o));
  for (const o of outputs) oneOf(o, HEAT_OUTPUTS, 'outputs');
  if (outputs.includes('sml')) checkMaxLogitStatistics(v.statistics);
  if (v.statistics && v.classCount !== undefined && v.statistics.classCount !== v.classCount) {
    throw new HeatError(`The statistics describe ${v.statistics.classCount} classes but the model has ${v.classCount}.`,
      'Recompute the statistics with this model, or point heat.statistics.path at the file made for it.', 'heat.statistics.path');
  }
  if (v.featuresInput === LOGITS_INPUT) {
    throw new HeatError(`featuresInput "${LOGITS_INPUT}" would collide with the logits input.`, 'Choose another input name, such as "features".');
  }

  const requested = v.components ?? [...HEAT_COMPONENTS];
  for (const c of requested) oneOf(c, HEAT_COMPONENTS, 'heat.score.components');
  const notes: string[] = [];
  const withoutMahalanobis = requested.includes('mahalanobis') && !v.statistics;
  if (withoutMahalanobis) notes.push('No statistics are configured, so HEAT combines energy and spatial consistency only, with their weights renormalised.');
  const components = HEAT_COMPONENTS.filter((c) => requested.includes(c) && (c !== 'mahalanobis' || v.statistics));
  if (components.length === 0) {
    throw new HeatError(`No HEAT component is left to combine from ${JSON.stringify(requested)}.`,
      requested.length === 0
        ? 'List at least one of "energy", "mahalanobis", "spatial" in heat.score.components.'
        : 'Add "energy" or "spatial" to heat.score.components, or configure heat.statistics.path.', 'heat.score.components');
  }
  if (combination !== 'reliability') checkStandardization(v.standardization, components, combination);

  return {
    temperature, kernelSize, spatialMethod, padding, covariance, statistics: v.statistics, components, combination,
    standardization: v.standardization, outputs, classCount: v.classCount, featuresInput: v.featuresInput ?? FEATURES_INPUT, withoutMahalanobis, notes,
  };
}

/** SML needs per-class max-logit statistics with a positive std for every class that has pixels. */
function checkMaxLogitStatistics(stats: ClassStatistics | undefined): void {
  if (!stats?.maxLogit) {
    throw new HeatError('The standardized max logit (sml) needs per-class max-logit statistics, and none are loaded.',
      'Configure heat.statistics.path with a statistics file that contains max_logit_mean and max_logit_std.', 'heat.statistics.path');
  }
  const { mean, std } = stats.maxLogit;
  if (mean.length !== stats.classCount || std.length !== stats.classCount) {
    throw new HeatError(`Invalid max-logit statistics: ${mean.length} means and ${std.length} stds, expected ${stats.classCount} of each.`,
      'Recompute the statistics file.', 'heat.statistics.path');
  }
  for (let c = 0; c < stats.classCount; c++) {
    if (stats.emptyClasses.includes(c) || stats.counts[c] === 0) continue;
    if (!(Number.isFinite(mean[c]) && Number.isFinite(std[c]) && std[c] > 0)) {
      throw new HeatError(`Invalid max-logit statistics for class ${c}: mean ${mean[c]}, std ${std[c]}. The standardized max logit needs a finite mean and a positive std.`,
        'Recompute the statistics on more labelled pixels of that class.', 'heat.statistics.path');
    }
  }
}

function checkStandardization(
  z: Partial<Record<HeatComponent, ComponentStandardization>> | undefined, components: HeatComponent[], mode: CombinationMode,
): void {
  for (const c of components) {
    const s = z?.[c];
    if (!s || !Number.isFinite(s.mean) || !(Number.isFinite(s.std) && s.std > 0)) {
      throw new HeatError(`Combination "${mode}" needs the mean and a positive std of component "${c}", got ${JSON.stringify(s ?? null)}.`,
        'Compute them on known validation pixels first, or set heat.score.combination to "reliability".', 'heat.score.combination');
    }
  }
}

function oneOf<T extends string>(value: string, allowed: readonly T[], key: string): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new HeatError(`Invalid value ${JSON.stringify(value)} for ${key}.`, `Allowed: ${allowed.map((a) => `"${a}"`).join(', ')}.`, key);
  }
  return value as T;
}

export { FEATURES_INPUT, LOGITS_INPUT };
