/**
 * Sweep grids: validation of `heat.sweep.grid`, expansion into configurations, and the predefined ablation grids.
 *
 * A configuration fixes every option a sweep can vary. Options missing from the grid keep their value from
 * the configuration file. The expansion is the Cartesian product of the grid's lists, in key order, with
 * configurations that cannot differ removed: alpha matters only for adaptive normalization, so a
 * non-adaptive configuration keeps one alpha.
 */
import { get, type HeatConfig } from '../config';
import { HeatError } from '../errors';
import { HEAT_COMPONENTS, type CombinationMode, type HeatComponent, type NormalizationMode } from '../heat';
import type { CovarianceMode } from '../heat/mahalanobis';
import type { Padding, SpatialMethod } from '../heat/spatial';

/** Every option a sweep configuration fixes. Keys are the grid keys. */
export interface SweepConfiguration {
  temperature: number;
  alpha: number;
  kernelSize: number;
  covariance: CovarianceMode;
  featureLayer: string;
  spatialMethod: SpatialMethod;
  padding: Padding;
  combination: CombinationMode;
  normalization: NormalizationMode;
  components: HeatComponent[];
}

export type GridKey = keyof SweepConfiguration;

/** A grid: each key maps to the list of values tried. */
export type SweepGrid = Partial<{ [K in GridKey]: SweepConfiguration[K][] }>;

/** The heat.* setting each grid key varies (the settings snippet of the best configuration uses these). */
export const GRID_SETTINGS: Record<GridKey, string> = {
  temperature: 'heat.score.temperature',
  alpha: 'heat.score.alpha',
  kernelSize: 'heat.score.kernelSize',
  covariance: 'heat.statistics.covariance',
  featureLayer: 'heat.model.featureLayer',
  spatialMethod: 'heat.score.spatialMethod',
  padding: 'heat.score.padding',
  combination: 'heat.score.combination',
  normalization: 'heat.score.normalization',
  components: 'heat.score.components',
};

export const GRID_KEYS = Object.keys(GRID_SETTINGS) as GridKey[];

const ENUMS: Partial<Record<GridKey, readonly string[]>> = {
  covariance: ['tied', 'classwise', 'lowrank'],
  spatialMethod: ['kl', 'variance'],
  padding: ['exclude', 'zero'],
  combination: ['reliability', 'standardized', 'equal'],
  normalization: ['adaptive', 'fixed', 'none'],
};

/** Reads the configured values of every grid key: the base that grid values replace. */
export function baseConfiguration(config: HeatConfig): SweepConfiguration {
  return {
    temperature: get<number>(config, 'heat.score.temperature'),
    alpha: get<number>(config, 'heat.score.alpha'),
    kernelSize: get<number>(config, 'heat.score.kernelSize'),
    covariance: get<CovarianceMode>(config, 'heat.statistics.covariance'),
    featureLayer: get<string>(config, 'heat.model.featureLayer'),
    spatialMethod: get<SpatialMethod>(config, 'heat.score.spatialMethod'),
    padding: get<Padding>(config, 'heat.score.padding'),
    combination: get<CombinationMode>(config, 'heat.score.combination'),
    normalization: get<NormalizationMode>(config, 'heat.score.normalization'),
    components: [...get<HeatComponent[]>(config, 'heat.score.components')],
  };
}

/**
 * Checks a grid value by value; every error names the grid key, the bad value and the allowed ones.
 * `source` names where the grid came from (a setting or --grid).
 */
export function validateGrid(raw: unknown, source = 'heat.sweep.grid'): SweepGrid {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new HeatError(`${capitalized(source)} must be an object of lists, got ${JSON.stringify(raw)}.`,
      'Write it like {"temperature": [0.5, 1, 2], "kernelSize": [3, 5]}.', source);
  }
  const grid: SweepGrid = {};
  for (const [key, values] of Object.entries(raw as Record<string, unknown>)) {
    if (!(GRID_KEYS as string[]).includes(key)) {
      throw new HeatError(`Unknown key "${key}" in ${source}.`, `Use any of: ${GRID_KEYS.join(', ')}.`, source);
    }
    const where = source.startsWith('heat.') ? `${source}.${key}` : `key "${key}" of ${source}`;
    if (!Array.isArray(values) || values.length === 0) {
      throw new HeatError(`${capitalized(where)} must be a non-empty list, got ${JSON.stringify(values)}.`, `Write ${key} as a list, for example "${key}": [${example(key as GridKey)}].`, source);
    }
    for (const v of values) checkValue(key as GridKey, v, where, source);
    const unique = new Set(values.map((v) => JSON.stringify(v)));
    if (unique.size !== values.length) throw new HeatError(`${capitalized(where)} lists a value twice: ${JSON.stringify(values)}.`, 'List each value once.', source);
    (grid as Record<string, unknown[]>)[key] = values.map((v) => (Array.isArray(v) ? [...v] : v));
  }
  return grid;
}

/** Capitalises a sentence's first word, but leaves a setting key such as heat.sweep.grid as written. */
function capitalized(text: string): string {
  return text.startsWith('heat.') ? text : text.charAt(0).toUpperCase() + text.slice(1);
}

function checkValue(key: GridKey, v: unknown, where: string, source: string): void {
  const bad = (expected: string) => new HeatError(`Invalid value ${JSON.stringify(v)} in ${where}.`, expected, source);
  switch (key) {
    case 'temperature':
      if (!(typeof v === 'number' && Number.isFinite(v) && v > 0)) throw bad('Temperatures are positive numbers, such as 0.5, 1 or 2.');
      return;
    case 'alpha':
      if (!(typeof v === 'number' && v >= 0 && v <= 1)) throw bad('alpha is a number from 0 to 1, such as 0.9.');
      return;
    case 'kernelSize':
      if (!(typeof v === 'number' && Number.isInteger(v) && v >= 3 && v % 2 === 1)) throw bad('Kernel sizes are odd integers from 3, such as 3 or 5 (with 1 the spatial score is 0 everywhere).');
      return;
    case 'featureLayer':
      if (!(typeof v === 'string' && v.trim() !== '')) throw bad('Feature layers are module paths or tensor names, such as "layer3".');
      return;
    case 'components':
      if (!(Array.isArray(v) && v.length > 0 && v.every((c) => (HEAT_COMPONENTS as readonly unknown[]).includes(c)) && new Set(v).size === v.length)) {
        throw bad('Each entry is a non-empty list of distinct components from "energy", "mahalanobis", "spatial".');
      }
      return;
    default: {
      const allowed = ENUMS[key] as readonly string[];
      if (!(typeof v === 'string' && allowed.includes(v))) throw bad(`Allowed: ${allowed.map((a) => `"${a}"`).join(', ')}.`);
    }
  }
}

function example(key: GridKey): string {
  const examples: Record<GridKey, string> = {
    temperature: '0.5, 1, 2', alpha: '0.8, 0.9', kernelSize: '3, 5', covariance: '"tied", "classwise"', featureLayer: '"layer2", "layer3"',
    spatialMethod: '"kl", "variance"', padding: '"exclude", "zero"', combination: '"reliability", "equal"', normalization: '"adaptive", "none"',
    components: '["energy"], ["energy", "spatial"]',
  };
  return examples[key];
}

/** Expands the grid over `base` into its Cartesian product, without duplicates (see the module comment). */
export function expandGrid(grid: SweepGrid, base: SweepConfiguration): SweepConfiguration[] {
  let configurations: SweepConfiguration[] = [{ ...base, components: [...base.components] }];
  for (const key of GRID_KEYS) {
    const values = grid[key] as unknown[] | undefined;
    if (!values) continue;
    configurations = configurations.flatMap((c) => values.map((v) => ({ ...c, [key]: Array.isArray(v) ? [...v] : v })));
  }
  const seen = new Set<string>();
  const out: SweepConfiguration[] = [];
  for (const c of configurations) {
    const canonical = c.normalization === 'adaptive' ? c : { ...c, alpha: base.alpha };
    const key = configurationKey(canonical);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(canonical);
  }
  return out;
}

/** Returns a stable identity of a configuration. */
export function configurationKey(c: SweepConfiguration): string {
  return JSON.stringify(GRID_KEYS.map((k) => c[k]));
}

/** Returns a short label naming only the varied keys, for example "temperature=2 kernelSize=5". */
export function configurationLabel(c: SweepConfiguration, varied: readonly GridKey[]): string {
  if (varied.length === 0) return 'configured';
  // alpha only acts on adaptive normalization, so other normalizations leave it out of their label.
  const labelled = varied.filter((k) => !(k === 'alpha' && c.normalization !== 'adaptive'));
  return labelled.map((k) => `${k}=${Array.isArray(c[k]) ? (c[k] as string[]).join('+') : String(c[k])}`).join(' ');
}

/** Returns the grid keys whose value differs between some configurations. */
export function variedKeys(configurations: readonly SweepConfiguration[]): GridKey[] {
  return GRID_KEYS.filter((k) => new Set(configurations.map((c) => JSON.stringify(c[k]))).size > 1);
}

/** Returns the settings snippet that selects a configuration in `.vscode/settings.json`. */
export function settingsSnippet(c: SweepConfiguration): Record<string, unknown> {
  return Object.fromEntries(GRID_KEYS.map((k) => [GRID_SETTINGS[k], c[k]]));
}

export type AblationKind = 'components' | 'normalization' | 'layers';
export const ABLATION_KINDS: readonly AblationKind[] = ['components', 'normalization', 'layers'];

/** Alpha values the normalization ablation tries with adaptive normalization. */
export const ABLATION_ALPHAS = [0, 0.5, 0.9, 0.99];

/**
 * Returns the predefined configurations of an ablation over `base`:
 *  - components: every non-empty subset of the three components (each alone, the pairs, all three);
 *  - normalization: adaptive at each alpha of ABLATION_ALPHAS, fixed (heat.score.fixedMean/fixedStd), none;
 *  - layers: each layer of heat.ablation.layers (the configured featureLayer when the list is empty).
 */
export function ablationConfigurations(kind: AblationKind, base: SweepConfiguration, layers: readonly string[]): SweepConfiguration[] {
  switch (kind) {
    case 'components': {
      const subsets: HeatComponent[][] = [['energy'], ['mahalanobis'], ['spatial'],
        ['energy', 'mahalanobis'], ['energy', 'spatial'], ['mahalanobis', 'spatial'], ['energy', 'mahalanobis', 'spatial']];
      return subsets.map((components) => ({ ...base, components }));
    }
    case 'normalization':
      return [
        ...ABLATION_ALPHAS.map((alpha) => ({ ...base, normalization: 'adaptive' as const, alpha, components: [...base.components] })),
        { ...base, normalization: 'fixed', components: [...base.components] },
        { ...base, normalization: 'none', components: [...base.components] },
      ];
    case 'layers': {
      const list = layers.length > 0 ? [...layers] : [base.featureLayer];
      validateGrid({ featureLayer: list }, 'heat.ablation.layers');
      return list.map((featureLayer) => ({ ...base, featureLayer, components: [...base.components] }));
    }
    default:
      throw new HeatError(`Unknown ablation "${String(kind)}".`, `Use one of: ${ABLATION_KINDS.join(', ')}.`);
  }
}
