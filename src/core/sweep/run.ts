/**
 * The one-pass sweep runner, image-major over the sweep split (validation by default). Each image goes
 * through the model once (SweepSession: every needed feature layer exposed, every head variant behind it).
 * Then every configuration reads its maps and normalises them with its own ScoreNormalizer; alpha and the
 * normalization mode are host-side, so they need no head variant. The maps are resized bilinearly to the
 * label and feed the configuration's own MetricAccumulator. Model forward passes = images in the split,
 * however large the grid.
 *
 * 'standardized' and 'equal' configurations need the z-score constants of the whole split before their first
 * image can be combined. Instead of a second pass, the component maps (and, for 'standardized', the
 * reliability weights) of the variants they use are kept in memory at logits resolution for every image of the
 * split, with the labels: memory ≈ images × logits pixels × 4 bytes × (maps per variant, at most 6) × those
 * variants. The result file records that figure as storedMapBytes.
 *
 * Configurations finish after the pass (reliability ones first, then the z-scored ones); each finished one is
 * reported through onRow and the result files are rewritten atomically, so a cancellation keeps them.
 */
import type { JobOptions, MethodMetrics, SweepRow } from '../api';
import { get, type HeatConfig, type SplitName } from '../config';
import { labelMappingFromConfig, listSplit, loadLabel } from '../data';
import { CancelledError, HeatError, throwIfCancelled } from '../errors';
import { MetricAccumulator } from '../eval/metrics';
import { checkOutputPath } from '../fsutil';
import { ScoreNormalizer, type ComponentStandardization, type HeatComponent } from '../heat';
import { noProgress, silentLogger } from '../log';
import { resizeBilinear, resizeNearest } from '../pipeline/resize';
import type { VariantSettings } from '../pipeline/session';
import { addDominance, combineStandardized, KnownMoments, type ComponentMaps } from './combine';
import {
  ablationConfigurations, baseConfiguration, configurationLabel, expandGrid, settingsSnippet, validateGrid, variedKeys,
  type AblationKind, type GridKey, type SweepConfiguration,
} from './grid';
import { writeSweepFiles, type SweepFiles } from './report';
import { SweepSession, type LayerGroup, type StatisticsSource } from './session';
import { layerStatistics, type LayerStatisticsRecord } from './statistics';

export interface SweepOptions extends JobOptions {
  /** Called with each configuration as soon as its metrics are known. */
  onRow?: (row: SweepRow) => void;
  /** Folder for results.json, results.csv and report.md; nothing is written when absent. */
  outDir?: string;
  /** Split the configurations are evaluated on (default 'val'). */
  split?: SplitName;
  /** Title of the report (default "Sweep"). */
  title?: string;
}

/** One finished configuration. */
export interface SweepConfigurationResult {
  /** Position in the expanded grid. */
  index: number;
  label: string;
  configuration: SweepConfiguration;
  /** Components actually combined (Mahalanobis drops out when no statistics exist). */
  componentsUsed: HeatComponent[];
  metrics: MethodMetrics;
  /** Share of logits pixels where each combined component's weighted term dominates (see combine.ts). */
  dominance: Partial<Record<HeatComponent, number>>;
  /** z-score constants of 'standardized' and 'equal' configurations. */
  standardization?: Partial<Record<HeatComponent, ComponentStandardization>>;
}

export interface SweepResult {
  title: string;
  split: SplitName;
  images: number;
  /** Model forward passes run; equals `images` for a complete sweep. */
  forwardPasses: number;
  /** Configurations in the grid. */
  configurationCount: number;
  /** Finished configurations, in the order they finished. */
  rows: SweepConfigurationResult[];
  varied: GridKey[];
  complete: boolean;
  cancelled: boolean;
  executionProvider: string;
  statistics: LayerStatisticsRecord[];
  /** Passes over the training split made to compute missing statistics: 0 when all were loaded, else 1 for all layers together. */
  statisticsPasses: number;
  /** Bytes of component maps kept in memory for 'standardized' / 'equal' configurations. */
  storedMapBytes: number;
  durationSeconds: number;
  startedAt: string;
  configSource: string;
  files?: SweepFiles;
}

/** Sweeps `grid` (default: heat.sweep.grid) over the validation split in one model pass per image. */
export async function runSweep(config: HeatConfig, grid?: unknown, options: SweepOptions = {}): Promise<SweepResult> {
  const checked = validateGrid(grid ?? get<unknown>(config, 'heat.sweep.grid'), grid === undefined ? 'heat.sweep.grid' : 'the --grid value');
  if (Object.keys(checked).length === 0) {
    options.log?.warn('The sweep grid is empty, so only the configured settings are evaluated. Set heat.sweep.grid or pass --grid.');
  }
  return runConfigurations(config, expandGrid(checked, baseConfiguration(config)), { title: 'Sweep', ...options });
}

/** Runs a predefined ablation (components, normalization or layers) like a sweep. */
export async function runAblation(config: HeatConfig, kind: AblationKind, options: SweepOptions = {}): Promise<SweepResult> {
  const configurations = ablationConfigurations(kind, baseConfiguration(config), get<string[]>(config, 'heat.ablation.layers'));
  return runConfigurations(config, configurations, { title: `Ablation: ${kind}`, ...options });
}

interface Plan {
  configuration: SweepConfiguration;
  group: number;
  suffix: string;
  /** Index of the variant in `variants` (the z-scored configurations share per-variant storage). */
  variant: number;
}

/** Evaluates explicit configurations in one pass; the engine of runSweep and runAblation. */
export async function runConfigurations(config: HeatConfig, requested: SweepConfiguration[], options: SweepOptions = {}): Promise<SweepResult> {
  let configurations = requested;
  const log = options.log ?? silentLogger;
  const progress = options.progress ?? noProgress;
  const split = options.split ?? 'val';
  const started = Date.now();
  if (options.outDir) await checkOutputPath(options.outDir, 'folder', 'the output folder (--out)');
  if (!statisticsPossible(config)) {
    // Without statistics Mahalanobis drops out of every combination, so a Mahalanobis-only configuration has nothing left to score.
    const dropped = configurations.filter((c) => c.components.every((x) => x === 'mahalanobis'));
    if (dropped.length > 0) log.warn(`${dropped.length} configuration(s) combining only Mahalanobis are skipped: heat.statistics.path and heat.data.train.images are empty.`);
    configurations = configurations.filter((c) => !dropped.includes(c));
  }
  if (configurations.length === 0) throw new HeatError('The sweep has no configuration.', 'Give every grid key at least one value, and configure statistics for Mahalanobis.');

  const samples = await listSplit(config, split, { requireLabels: true });
  if (samples.length === 0) {
    throw new HeatError(`The ${split} split has no images, and sweeps are evaluated on it.`,
      `Set heat.data.${split}.images (and heat.data.${split}.labels) to labelled images kept apart from the test split.`, `heat.data.${split}.images`);
  }

  // Head variants: one per distinct set of head options per layer; alpha, normalization and combination are host-side.
  const groups: LayerGroup[] = [];
  const variantKeys: string[] = [];
  const plans: Plan[] = configurations.map((c) => {
    let group = groups.findIndex((g) => g.layer === c.featureLayer);
    if (group < 0) group = groups.push({ layer: c.featureLayer, needsFeatures: false, needsClasswise: false, variants: [] }) - 1;
    const settings: VariantSettings = {
      temperature: c.temperature, kernelSize: c.kernelSize, spatialMethod: c.spatialMethod, padding: c.padding,
      covariance: c.covariance, components: [...c.components], combination: 'reliability',
    };
    const key = JSON.stringify([group, settings]);
    let variant = variantKeys.indexOf(key);
    if (variant < 0) {
      variant = variantKeys.push(key) - 1;
      groups[group].variants.push({ suffix: `_v${variant}`, settings });
      if (c.components.includes('mahalanobis')) {
        groups[group].needsFeatures = true;
        if (c.covariance === 'classwise') groups[group].needsClasswise = true;
      }
    }
    return { configuration: c, group, suffix: `_v${variant}`, variant };
  });

  const records: LayerStatisticsRecord[] = [];
  const result: SweepResult = {
    title: options.title ?? 'Sweep', split, images: samples.length, forwardPasses: 0, configurationCount: configurations.length, rows: [],
    varied: variedKeys(configurations), complete: false, cancelled: false, executionProvider: '', statistics: records, statisticsPasses: 0,
    storedMapBytes: 0, durationSeconds: 0, startedAt: new Date(started).toISOString(), configSource: config.source,
  };
  const statistics = statisticsSource(config, { log, progress, signal: options.signal, records, onPass: () => { result.statisticsPasses++; } });
  const save = async () => {
    result.durationSeconds = (Date.now() - started) / 1000;
    if (options.outDir) result.files = await writeSweepFiles(options.outDir, result);
  };

  const session = await SweepSession.open(config, { groups, statistics, log });
  result.executionProvider = session.executionProvider;
  try {
    const mapping = labelMappingFromConfig(config, session.classCount);
    const maxExactPixels = get<number>(config, 'heat.eval.maxExactPixels');
    const used = plans.map((p) => (session.components[p.group].get(p.suffix) ?? []) as HeatComponent[]);
    // NOTE: each accumulator keeps up to heat.eval.maxExactPixels keys (4 bytes each) before switching to its
    // histogram, so a large grid on a large split can hold K × 40 MB at the default; lower that setting if needed.
    const accumulators = plans.map((p, i) => new MetricAccumulator(configurationLabel(p.configuration, result.varied) || `configuration ${i + 1}`, { maxExactPixels }));
    const normalizers = plans.map((p) => new ScoreNormalizer({
      mode: p.configuration.normalization, alpha: p.configuration.alpha,
      mean: get<number>(config, 'heat.score.fixedMean'), std: get<number>(config, 'heat.score.fixedStd'),
    }));
    const dominance = plans.map((_, i) => new Array<number>(used[i].length).fill(0));
    const zScored = plans.map((p) => p.configuration.combination !== 'reliability');
    const dominanceOwner = plans.map((p, i) => plans.findIndex((q) => q.variant === p.variant && q.configuration.combination === p.configuration.combination));

    // Per variant needed by a z-scored configuration: moments of each component on known pixels, and stored maps.
    const zVariants = new Map<number, { group: number; suffix: string; components: HeatComponent[]; weights: boolean; moments: Map<HeatComponent, KnownMoments>; images: ComponentMaps[]; weightMaps: ComponentMaps[] }>();
    plans.forEach((p, i) => {
      if (!zScored[i]) return;
      const entry = zVariants.get(p.variant) ?? { group: p.group, suffix: p.suffix, components: used[i], weights: false, moments: new Map(used[i].map((c) => [c, new KnownMoments()])), images: [], weightMaps: [] };
      if (p.configuration.combination === 'standardized') entry.weights = true;
      zVariants.set(p.variant, entry);
    });
    // Labels and the logits grid size of every image, for the z-scored combinations after the pass.
    const stored: { anomaly: Uint8Array; width: number; height: number; image: string; gridHeight: number; gridWidth: number }[] = [];
    const mapOf = (maps: Map<string, Float32Array>, group: number, name: string, suffix: string): Float32Array => {
      const data = maps.get(`g${group}/${name}${suffix}`);
      if (!data) throw new Error(`The sweep head returned no "${name}${suffix}" map for layer group ${group}.`);
      return data;
    };

    for (let n = 0; n < samples.length; n++) {
      throwIfCancelled(options.signal, result.title);
      progress.report(n, samples.length, result.title);
      const sample = samples[n];
      const run = await session.runImage(sample.image);
      result.forwardPasses = session.forwardPasses;
      const label = await loadLabel(sample.label as string, mapping, { width: run.image.width, height: run.image.height, image: sample.image });

      // Known pixels at logits resolution (labels resized by nearest neighbour), as the z-score calibration of a single session uses.
      const known = zVariants.size > 0 ? resizeNearest(label.anomaly, label.height, label.width, run.height, run.width) : undefined;
      for (const v of zVariants.values()) {
        const scores: ComponentMaps = {};
        const weights: ComponentMaps = {};
        for (const c of v.components) {
          scores[c] = Float32Array.from(mapOf(run.maps, v.group, c, v.suffix));
          v.moments.get(c)!.add(scores[c]!, known!);
          if (v.weights) weights[c] = Float32Array.from(mapOf(run.maps, v.group, `weight_${c}`, v.suffix));
        }
        v.images.push(scores);
        v.weightMaps.push(weights);
      }
      if (zVariants.size > 0) {
        stored.push({ anomaly: label.anomaly, width: label.width, height: label.height, image: sample.image, gridHeight: run.height, gridWidth: run.width });
      }

      for (let i = 0; i < plans.length; i++) {
        if (zScored[i]) continue;
        const { group, suffix } = plans[i];
        const scores: ComponentMaps = {};
        const weights: ComponentMaps = {};
        for (const c of used[i]) {
          scores[c] = mapOf(run.maps, group, c, suffix);
          weights[c] = mapOf(run.maps, group, `weight_${c}`, suffix);
        }
        // Configurations that differ only in host-side normalization share a variant, so its dominance is counted once.
        if (dominanceOwner[i] === i) addDominance(dominance[i], scores, weights, used[i]);
        const normalized = normalizers[i].normalize(mapOf(run.maps, group, 'heat', suffix), sample.image);
        accumulators[i].add(resizeBilinear(normalized, run.height, run.width, label.height, label.width), label.anomaly, sample.image);
      }
    }
    progress.report(samples.length, samples.length, result.title);
    for (const v of zVariants.values()) {
      result.storedMapBytes += v.images.reduce((bytes, maps, k) => bytes + mapBytes(maps) + mapBytes(v.weightMaps[k]), 0);
    }
    if (result.storedMapBytes > 0) log.info(`Kept ${(result.storedMapBytes / 2 ** 20).toFixed(1)} MiB of component maps for the z-scored combinations.`);

    const finish = async (i: number, standardization?: Partial<Record<HeatComponent, ComponentStandardization>>) => {
      throwIfCancelled(options.signal, result.title);
      const evaluation = accumulators[i].finish();
      const counts = dominance[dominanceOwner[i]];
      const total = counts.reduce((a, b) => a + b, 0);
      const row: SweepConfigurationResult = {
        index: i, label: accumulators[i].method, configuration: plans[i].configuration, componentsUsed: used[i], metrics: evaluation.metrics,
        dominance: Object.fromEntries(used[i].map((c, k) => [c, total > 0 ? counts[k] / total : NaN])),
        standardization,
      };
      result.rows.push(row);
      options.onRow?.(toSweepRow(row, result.varied));
      await save();
    };

    for (let i = 0; i < plans.length; i++) if (!zScored[i]) await finish(i);

    const constants = new Map<number, Partial<Record<HeatComponent, ComponentStandardization>>>();
    for (const [variant, v] of zVariants) {
      const z: Partial<Record<HeatComponent, ComponentStandardization>> = {};
      for (const c of v.components) {
        const m = v.moments.get(c)!.result;
        if (!(Number.isFinite(m.mean) && m.std > 0)) {
          throw new HeatError(`Component "${c}" has mean ${m.mean} and std ${m.std} on the known pixels of the ${split} split, so it cannot be z-scored.`,
            `Check that heat.data.${split}.labels mark known pixels, or sweep only heat.score.combination "reliability".`, 'heat.score.combination');
        }
        z[c] = m;
      }
      constants.set(variant, z);
    }
    for (let i = 0; i < plans.length; i++) {
      if (!zScored[i]) continue;
      const v = zVariants.get(plans[i].variant)!;
      const z = constants.get(plans[i].variant)!;
      const standardized = plans[i].configuration.combination === 'standardized';
      for (let n = 0; n < stored.length; n++) {
        const weights = standardized ? v.weightMaps[n] : undefined;
        if (dominanceOwner[i] === i) addDominance(dominance[i], v.images[n], weights, used[i], z);
        const heat = combineStandardized(v.images[n], weights, used[i], z);
        const image = stored[n];
        const normalized = normalizers[i].normalize(heat, image.image);
        accumulators[i].add(resizeBilinear(normalized, image.gridHeight, image.gridWidth, image.height, image.width), image.anomaly, image.image);
      }
      await finish(i, z);
    }
    result.complete = true;
    await save();
    return result;
  } catch (error) {
    // The finished rows are kept on any failure, and a cancellation is marked. Every configuration advances one
    // image at a time, so a run stopped during the image pass has no finished row: then nothing is written, and
    // the files of an earlier run in the same folder stay as they were.
    result.cancelled = error instanceof CancelledError;
    if (result.rows.length > 0) await save();
    if (error instanceof CancelledError) {
      const where = !options.outDir ? '' : result.rows.length > 0
        ? `; the finished ones are in ${options.outDir}`
        : `; nothing was written to ${options.outDir}`;
      log.warn(`${result.title} cancelled after ${result.rows.length} of ${configurations.length} configurations${where}.`);
    }
    throw error;
  } finally {
    await session.release();
  }
}

/** Statistics per layer; without a statistics path and a training split, Mahalanobis is left out with a warning. */
function statisticsSource(config: HeatConfig, options: Parameters<typeof layerStatistics>[1]): StatisticsSource {
  const loadOrCompute = layerStatistics(config, options);
  return async (requests) => {
    if (!statisticsPossible(config)) {
      for (const { layer } of requests) options.log?.warn(`No statistics for layer ${layer}: heat.statistics.path and heat.data.train.images are empty, so Mahalanobis is left out.`);
      return new Map();
    }
    return loadOrCompute(requests);
  };
}

/** Tells whether statistics can be loaded or computed: a statistics path or a training split is configured. */
function statisticsPossible(config: HeatConfig): boolean {
  return get<string>(config, 'heat.statistics.path') !== '' || get<string>(config, 'heat.data.train.images') !== '';
}

function mapBytes(maps: ComponentMaps): number {
  return Object.values(maps).reduce((bytes, m) => bytes + (m?.byteLength ?? 0), 0);
}

/**
 * Converts a finished configuration to the engine API's row: the varied grid keys → values (all keys when
 * none varies), and the metrics.
 */
export function toSweepRow(row: SweepConfigurationResult, varied: readonly GridKey[]): SweepRow {
  const keys = varied.length > 0 ? varied : (Object.keys(row.configuration) as GridKey[]);
  const config: Record<string, unknown> = {};
  for (const key of keys) config[key] = row.configuration[key];
  return { config, metrics: row.metrics };
}

/**
 * Returns the best finished configuration by pooled AUPR, and its settings snippet. When it combines
 * Mahalanobis, the snippet also names the statistics file its layer was scored with, which can differ from
 * heat.statistics.path (a file the sweep computed for another layer, or for class-wise covariances).
 */
export function bestConfiguration(result: SweepResult): { row: SweepConfigurationResult; settings: Record<string, unknown> } | undefined {
  const [best] = sortByAupr(result.rows);
  if (!best) return undefined;
  const settings = settingsSnippet(best.configuration);
  const record = result.statistics.find((r) => r.layer === best.configuration.featureLayer);
  if (record && best.configuration.components.includes('mahalanobis')) settings['heat.statistics.path'] = record.file;
  return { row: best, settings };
}

/** Rows by pooled AUPR, highest first; rows without AUPR last. */
export function sortByAupr(rows: readonly SweepConfigurationResult[]): SweepConfigurationResult[] {
  const key = (r: SweepConfigurationResult) => r.metrics.pooled.aupr.value ?? -Infinity;
  return [...rows].sort((a, b) => key(b) - key(a) || a.index - b.index);
}
