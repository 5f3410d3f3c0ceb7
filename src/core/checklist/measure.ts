/**
 * Measurements the checks share. Each is computed at most once per checklist run, and only when a check
 * requests it: a scoring pass over a few images, one model run exposing the feature tensor, the statistics
 * file loaded against the current model, an evaluation of the labelled splits, and two small head-graph
 * probes (Mahalanobis on real features, spatial consistency on a uniform map).
 * A measurement that fails rejects for every check that needs it, and each such check reports the error.
 */
import { promises as fs } from 'node:fs';
import * as ort from 'onnxruntime-node';
import type { JobOptions } from '../api';
import { get, type HeatConfig, type SplitName } from '../config';
import { HeatError, throwIfCancelled } from '../errors';
import { labelMappingFromConfig, listSplit, loadLabel, type LabelImage, type Sample } from '../data';
import {
  buildHeatHead, type CombinationMode, type ComponentStandardization, type CovarianceMode, type HeatComponent, type Padding, type SpatialMethod,
} from '../heat';
import { noProgress, silentLogger, type Logger, type Progress } from '../log';
import { createSession, type ProviderSetting } from '../model';
import { evaluate, type EvaluationResult } from '../pipeline/evaluate';
import { resizeBilinear } from '../pipeline/resize';
import { HeatSession, type ImageRun } from '../pipeline/session';
import { combineStandardized, KnownMoments } from '../sweep/combine';
import { loadStatistics, readStatistics } from '../stats/file';
import type { FeatureGrid } from '../stats/accumulator';
import { StatisticsModel } from '../stats/model';
import type { ClassStatistics } from '../stats/types';

export interface MeasureOptions extends JobOptions {
  /** Images scored for the map checks (default 8), spread evenly over the validation split, then the test split. */
  images?: number;
}

/** One scored image of the sample, with its anomaly ground truth when the split has labels. */
export interface SampledRun {
  sample: Sample;
  split: SplitName;
  run: ImageRun;
  label?: LabelImage;
}

export interface SessionRuns {
  runs: SampledRun[];
  executionProvider: string;
  logitsTensor: string;
  classCount: number;
  /** Components combined into `heat` by the configured variant. */
  components: HeatComponent[];
  /** Configured combination; 'standardized' and 'equal' are applied on the host, as the sweep does. */
  combination: CombinationMode;
  /** Z-score constants of each component from the known pixels of the sampled images ('standardized', 'equal'). */
  standardization?: Partial<Record<HeatComponent, ComponentStandardization>>;
  /** Set when the statistics file could not be used, so the session was opened without it. */
  statisticsError?: string;
  notes: string[];
  /** Label files that could not be read (the image is still scored). */
  labelErrors: string[];
}

/** One model run exposing the feature tensor and the logits, on the first sampled image. */
export interface FeatureProbe {
  image: string;
  modelSha256: string;
  featureTensor: string;
  logitsTensor: string;
  /** Feature grid as the model returns it (layout recorded in the grid). */
  features: FeatureGrid;
  logitsHeight: number;
  logitsWidth: number;
  classCount: number;
}

export interface StatisticsState {
  path: string;
  stats?: ClassStatistics;
  /** Reason the file is missing, unreadable or does not match the model. */
  error?: string;
  fileBytes?: number;
  /** Whether the file was checked against the current model's SHA-256, feature tensor, D and classes. */
  checkedAgainstModel: boolean;
}

/** Mahalanobis computed by the head graph on real features, next to a float64 host computation. */
export interface MahalanobisProbe {
  covariance: CovarianceMode;
  image: string;
  featureHeight: number;
  featureWidth: number;
  /** Classes entering the minimum. */
  classes: number[];
  cells: ProbedCell[];
  /** Seconds of one Mahalanobis head run at feature resolution (after a warm-up run). */
  headSeconds: number;
  /** Size of the encoded head graph (its constants dominate: precision matrices, means). */
  graphBytes: number;
  /** Every head value of the probed image, at feature resolution. */
  headMap: Float32Array;
}

export interface ProbedCell {
  index: number;
  head: number;
  /** Host distances to every class in `classes`, same order. */
  perClass: number[];
}

/** Spatial score of a map whose softmax is the same at every cell; the right value is 0 everywhere. */
export interface UniformSpatialProbe {
  height: number;
  width: number;
  map: Float32Array;
}

export class Measurements {
  readonly log: Logger;
  readonly progress: Progress;
  readonly signal?: AbortSignal;
  private readonly imageCount: number;
  private readonly cache = new Map<string, Promise<unknown>>();

  constructor(readonly config: HeatConfig, options: MeasureOptions = {}) {
    this.log = options.log ?? silentLogger;
    this.progress = options.progress ?? noProgress;
    this.signal = options.signal;
    this.imageCount = Math.max(1, Math.floor(options.images ?? 8));
  }

  /** Runs `compute` once per key; later calls share its promise (and its rejection). */
  private once<T>(key: string, compute: () => Promise<T>): Promise<T> {
    let found = this.cache.get(key) as Promise<T> | undefined;
    if (!found) {
      found = compute();
      this.cache.set(key, found);
    }
    return found;
  }

  /** Picks up to `images` images spread evenly over the validation split, topped up from the test split. */
  samples(): Promise<{ sample: Sample; split: SplitName }[]> {
    return this.once('samples', async () => {
      const chosen: { sample: Sample; split: SplitName }[] = [];
      for (const split of ['val', 'test'] as const) {
        const listed = await listSplit(this.config, split);
        for (const sample of spread(listed, this.imageCount - chosen.length)) chosen.push({ sample, split });
        if (chosen.length >= this.imageCount) break;
      }
      if (chosen.length === 0) {
        throw new HeatError('Neither the validation nor the test split lists any image, so there is nothing to measure on.',
          'Set heat.data.val.images or heat.data.test.images to a glob of images.', 'heat.data.val.images');
      }
      return chosen;
    });
  }

  /** Scores the sampled images with the configured head; maps stay in memory for the checks. */
  sessionRuns(): Promise<SessionRuns> {
    return this.once('sessionRuns', async () => {
      const samples = await this.samples();
      const combination = get<CombinationMode>(this.config, 'heat.score.combination');
      // The head computes the reliability combination; the z-scored modes are applied below on the host.
      const variants = [{ suffix: '', combination: 'reliability' as const }];
      let session: HeatSession;
      let statisticsError: string | undefined;
      try {
        session = await HeatSession.open(this.config, { log: this.log, variants });
      } catch (error) {
        if (!isStatisticsError(error, get<string>(this.config, 'heat.statistics.path'))) throw error;
        // The statistics are checked in phase 2; the other phases still measure without them.
        statisticsError = (error as HeatError).message;
        this.log.warn(`Checklist: scoring without statistics: ${statisticsError}`);
        session = await HeatSession.open(this.config, { log: this.log, variants, withoutStatistics: true });
      }
      try {
        const mapping = labelMappingFromConfig(this.config, session.classCount);
        const runs: SampledRun[] = [];
        const labelErrors: string[] = [];
        for (let i = 0; i < samples.length; i++) {
          throwIfCancelled(this.signal, 'The checklist');
          this.progress.report(i, samples.length, 'Checklist: scoring sample images');
          const { sample, split } = samples[i];
          const run = await session.runImage(sample.image);
          let label: LabelImage | undefined;
          if (sample.label) {
            try {
              label = await loadLabel(sample.label, mapping, { width: run.image.width, height: run.image.height, image: sample.image });
            } catch (error) {
              labelErrors.push((error as Error).message);
            }
          }
          runs.push({ sample, split, run, label });
        }
        this.progress.report(samples.length, samples.length, 'Checklist: scoring sample images');
        const components = session.head.variants[0].components;
        const standardization = combination === 'reliability' ? undefined : applyStandardized(runs, components, combination);
        return {
          runs, executionProvider: session.executionProvider, logitsTensor: session.logitsTensor, classCount: session.classCount,
          components, combination, standardization, statisticsError, notes: session.notes, labelErrors,
        };
      } finally {
        await session.release();
      }
    });
  }

  /** Runs the model once on the first sampled image with the feature layer exposed. */
  featureProbe(): Promise<FeatureProbe> {
    return this.once('featureProbe', async () => {
      const [{ sample }] = await this.samples();
      throwIfCancelled(this.signal, 'The checklist');
      const model = await StatisticsModel.open(this.config, this.log);
      try {
        const out = await model.run(sample.image);
        return {
          image: sample.image, modelSha256: model.sha256, featureTensor: model.featureTensor, logitsTensor: model.logitsTensor,
          features: out.features, logitsHeight: out.logits.height, logitsWidth: out.logits.width, classCount: out.logits.classes,
        };
      } finally {
        await model.release();
      }
    });
  }

  /** Reads heat.statistics.path and checks it against the current model when the model can be probed. */
  statistics(): Promise<StatisticsState> {
    return this.once('statistics', async () => {
      const file = get<string>(this.config, 'heat.statistics.path');
      if (file === '') return { path: '', error: 'heat.statistics.path is empty, so no statistics file is configured', checkedAgainstModel: false };
      let fileBytes: number | undefined;
      try {
        fileBytes = (await fs.stat(file)).size;
      } catch {
        return { path: file, error: `${file} does not exist`, checkedAgainstModel: false };
      }
      let probe: FeatureProbe | undefined;
      try {
        probe = await this.featureProbe();
      } catch (error) {
        this.log.warn(`Checklist: the feature layer could not be probed, so the statistics are read without checking them against the model: ${(error as Error).message}`);
      }
      try {
        const stats = probe
          ? await loadStatistics(file, { modelSha256: probe.modelSha256, featureTensor: probe.featureTensor, dim: probe.features.channels, classCount: probe.classCount })
          : await readStatistics(file);
        return { path: file, stats, fileBytes, checkedAgainstModel: probe !== undefined };
      } catch (error) {
        if (!(error instanceof HeatError)) throw error;
        return { path: file, error: error.message, fileBytes, checkedAgainstModel: probe !== undefined };
      }
    });
  }

  /** Evaluates the test split (thresholds from the validation split), or the validation split when no test split is set; null without labels. */
  evaluation(): Promise<EvaluationResult | null> {
    return this.once('evaluation', async () => {
      for (const split of ['test', 'val'] as const) {
        const listed = await listSplit(this.config, split);
        if (listed.length === 0 || listed.some((s) => !s.label)) continue;
        this.log.info(`Checklist: evaluating the ${split} split (${listed.length} images).`);
        return evaluate(this.config, { split, log: this.log, progress: this.progress, signal: this.signal });
      }
      return null;
    });
  }

  /** Runs the Mahalanobis head on the probed features at feature resolution and recomputes a few cells on the host. */
  mahalanobisProbe(cellCount = 8): Promise<MahalanobisProbe> {
    return this.once('mahalanobisProbe', async () => {
      const state = await this.statistics();
      if (!state.stats) throw new HeatError(`No usable statistics: ${state.error}.`, 'Compute them with "heat-lens stats".', 'heat.statistics.path');
      const probe = await this.featureProbe();
      throwIfCancelled(this.signal, 'The checklist');
      const covariance = get<CovarianceMode>(this.config, 'heat.statistics.covariance');
      return probeMahalanobis(state.stats, probe.features, covariance, probe.image, get<ProviderSetting>(this.config, 'heat.executionProvider'), this.log, cellCount);
    });
  }

  /** Runs the configured spatial head on a 6 × 8 map whose softmax is [1, 0] everywhere; the right score is 0 at every cell. */
  uniformSpatialProbe(): Promise<UniformSpatialProbe> {
    return this.once('uniformSpatialProbe', () => probeUniformSpatial(
      get<number>(this.config, 'heat.score.kernelSize'), get<Padding>(this.config, 'heat.score.padding'),
      get<SpatialMethod>(this.config, 'heat.score.spatialMethod'), this.log,
    ));
  }
}

/** Tells whether a session failed to open because of its statistics file (missing, unreadable or for another model). */
function isStatisticsError(error: unknown, statisticsPath: string): boolean {
  if (!(error instanceof HeatError) || statisticsPath === '') return false;
  return error.subject === statisticsPath || error.subject === 'heat.statistics.path' || error.message.includes(statisticsPath);
}

/**
 * Replaces each run's `heat` map by the z-scored combination of the configured mode, and for 'equal' the
 * weight maps by 1/n. Each component's mean and std come from the known pixels of the sampled images, as
 * the sweep computes them over its split. Images without labels contribute all their pixels.
 */
function applyStandardized(runs: SampledRun[], components: readonly HeatComponent[], combination: CombinationMode): Partial<Record<HeatComponent, ComponentStandardization>> {
  const moments = new Map(components.map((c) => [c, new KnownMoments()]));
  for (const { run, label } of runs) {
    for (const c of components) {
      const map = run.maps.get(c) as Float32Array;
      if (label) moments.get(c)!.add(resizeBilinear(map, run.height, run.width, label.height, label.width), label.anomaly);
      else moments.get(c)!.add(map, new Uint8Array(map.length));
    }
  }
  const z: Partial<Record<HeatComponent, ComponentStandardization>> = {};
  for (const c of components) {
    const { mean, std } = moments.get(c)!.result;
    if (!(std > 0)) {
      throw new HeatError(`Component "${c}" has std ${std} over the known pixels of ${runs.length} sampled images, so it cannot be z-scored.`,
        'Check the labels of the validation split, or set heat.score.combination to "reliability".', 'heat.score.combination');
    }
    z[c] = { mean, std };
  }
  for (const { run } of runs) {
    const scores = Object.fromEntries(components.map((c) => [c, run.maps.get(c) as Float32Array]));
    if (combination === 'equal') {
      for (const c of components) run.maps.set(`weight_${c}`, new Float32Array(run.height * run.width).fill(1 / components.length));
    }
    const weights = combination === 'equal' ? undefined : Object.fromEntries(components.map((c) => [c, run.maps.get(`weight_${c}`) as Float32Array]));
    run.maps.set('heat', combineStandardized(scores, weights, components, z));
  }
  return z;
}

/** Picks `count` items spread evenly over `items`, first and last included. */
function spread<T>(items: readonly T[], count: number): T[] {
  if (count <= 0) return [];
  if (items.length <= count) return [...items];
  if (count === 1) return [items[0]];
  return Array.from({ length: count }, (_, i) => items[Math.round((i * (items.length - 1)) / (count - 1))]);
}

/** Reads the feature vector of cell `index` as float64, from either layout. */
export function featureAt(grid: FeatureGrid, index: number): Float64Array {
  const d = grid.channels;
  const cells = grid.height * grid.width;
  const out = new Float64Array(d);
  for (let k = 0; k < d; k++) out[k] = grid.layout === 'NCHW' ? grid.data[k * cells + index] : grid.data[index * d + k];
  return out;
}

/**
 * Computes the float64 Mahalanobis distance of one feature vector to class `c`:
 * sqrt(max(0, (f − μ_c)ᵀ P (f − μ_c))) with the tied or class-wise precision P, or Σ_j ((f − μ_c)·v_j)²/λ_j
 * for the low-rank form. Written from the formula, independently of the head graph's expanded form.
 */
export function hostDistance(stats: ClassStatistics, covariance: CovarianceMode, f: Float64Array, c: number): number {
  const d = stats.dim;
  const diff = new Float64Array(d);
  for (let k = 0; k < d; k++) diff[k] = f[k] - stats.means[c * d + k];
  let squared = 0;
  if (covariance === 'lowrank') {
    const lr = stats.lowRank;
    if (!lr) throw new HeatError('The statistics file has no low-rank eigenpairs.', 'Recompute it with "heat-lens stats".', 'heat.statistics.covariance');
    for (let j = 0; j < lr.rank; j++) {
      let dot = 0;
      for (let k = 0; k < d; k++) dot += diff[k] * lr.vectors[k * lr.rank + j];
      squared += (dot * dot) / lr.values[j];
    }
  } else {
    const precision = covariance === 'tied' ? stats.tiedPrecision : stats.classPrecisions?.subarray(c * d * d, (c + 1) * d * d);
    if (!precision) throw new HeatError(`The statistics file has no ${covariance} precision.`, 'Recompute it with "heat-lens stats".', 'heat.statistics.covariance');
    for (let i = 0; i < d; i++) {
      let row = 0;
      for (let k = 0; k < d; k++) row += precision[i * d + k] * diff[k];
      squared += diff[i] * row;
    }
  }
  return Math.sqrt(Math.max(0, squared));
}

/** Lists the classes with training pixels, which enter the minimum. */
export function classesWithPixels(stats: ClassStatistics): number[] {
  const empty = new Set(stats.emptyClasses);
  const out: number[] = [];
  for (let c = 0; c < stats.classCount; c++) if (!empty.has(c) && stats.counts[c] > 0) out.push(c);
  return out;
}

/** Converts a feature grid to a [1, D, h, w] float32 array. */
function toNchw(grid: FeatureGrid): Float32Array {
  if (grid.layout === 'NCHW') return grid.data;
  const { channels: d, height: h, width: w } = grid;
  const out = new Float32Array(d * h * w);
  for (let i = 0; i < h * w; i++) for (let k = 0; k < d; k++) out[k * h * w + i] = grid.data[i * d + k];
  return out;
}

export async function probeMahalanobis(
  stats: ClassStatistics, features: FeatureGrid, covariance: CovarianceMode, image: string, provider: ProviderSetting, log: Logger, cellCount: number,
): Promise<MahalanobisProbe> {
  const { height: h, width: w, channels: d } = features;
  const head = buildHeatHead({ statistics: stats, covariance, components: ['mahalanobis'], outputs: ['mahalanobis'], classCount: stats.classCount });
  const { session } = await createSession(head.bytes, provider, log, 'checklist Mahalanobis probe');
  try {
    // Logits at feature resolution make the head's bilinear upsampling an identity, so cells line up.
    const feeds: Record<string, ort.Tensor> = {
      logits: new ort.Tensor('float32', new Float32Array(stats.classCount * h * w), [1, stats.classCount, h, w]),
      features: new ort.Tensor('float32', toNchw(features), [1, d, h, w]),
    };
    await session.run(feeds);
    const started = performance.now();
    const out = await session.run(feeds);
    const headSeconds = (performance.now() - started) / 1000;
    const headMap = out.mahalanobis.data as Float32Array;

    const classes = classesWithPixels(stats);
    const cells: ProbedCell[] = [];
    const total = h * w;
    const count = Math.min(cellCount, total);
    for (let i = 0; i < count; i++) {
      const index = count === 1 ? 0 : Math.round((i * (total - 1)) / (count - 1));
      const f = featureAt(features, index);
      cells.push({ index, head: headMap[index], perClass: classes.map((c) => hostDistance(stats, covariance, f, c)) });
    }
    return { covariance, image, featureHeight: h, featureWidth: w, classes, cells, headSeconds, graphBytes: head.bytes.length, headMap };
  } finally {
    await session.release();
  }
}

export async function probeUniformSpatial(kernelSize: number, padding: Padding, method: SpatialMethod, log: Logger): Promise<UniformSpatialProbe> {
  const height = 6;
  const width = 8;
  const head = buildHeatHead({ kernelSize, padding, spatialMethod: method, components: ['energy', 'spatial'], outputs: ['spatial'], classCount: 2 });
  const { session } = await createSession(head.bytes, 'cpu', log, 'checklist spatial probe');
  try {
    // Logits [30, 0] at every cell: softmax [1, 1e-13], the same everywhere.
    const logits = new Float32Array(2 * height * width);
    logits.fill(30, 0, height * width);
    const out = await session.run({ logits: new ort.Tensor('float32', logits, [1, 2, height, width]) });
    return { height, width, map: Float32Array.from(out.spatial.data as Float32Array) };
  } finally {
    await session.release();
  }
}
