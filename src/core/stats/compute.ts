/**
 * `heat-lens stats`: one streamed pass over a split accumulates per-class feature moments and finalises them
 * into a statistics file. With a shard, the pass writes the partial moments for a later exact merge instead.
 *
 * Steps per image: run the model (features + logits) → labels (ground truth mapped by heat.labels.*, or the
 * model's confident argmax) → purity reduction to the feature grid → per-class block moments (scatter by
 * onnxruntime) merged exactly → per predicted class, moments of the max logit (for standardized max logit).
 */
import * as path from 'node:path';
import type { JobOptions, StatsOptions } from '../api';
import { get, type HeatConfig } from '../config';
import { IGNORE, labelMappingFromConfig, listImages, listSplit, checkLabelSize, loadLabel, presetOf, type LabelMapping, type Sample } from '../data';
import { HeatError, throwIfCancelled } from '../errors';
import { checkOutputPath } from '../fsutil';
import { noProgress, silentLogger } from '../log';
import { countNonFinite, nonFiniteFeaturesError, nonFiniteLogitsError } from '../pipeline/finite';
import {
  accumulateFeatures, accumulateFusedImage, accumulateScalars, emptyMoments, emptyScalarMoments, mergeMoments, mergeScalarBlock, mergeScalarMoments, MergeTerms,
  type ClassMoments, type ScalarMoments,
} from './accumulator';
import {
  readPartialStatistics, STATISTICS_FORMAT_VERSION, writePartialStatistics, writeStatistics, type PartialStatistics,
} from './file';
import { finalizeStatistics, type CovarianceReport } from './finalize';
import { FusedStatisticsModel, StatisticsModel, type LogitsGrid, type ModelRun } from './model';
import { emptyTally, reduceLabels, toClassCells } from './purity';
import { ScatterEngine, type ScatterPrecision } from './scatter';
import type { ClassStatistics, StatisticsMetadata } from './types';

export interface StatisticsRunOptions extends StatsOptions {
  /** Precision of the per-image scatter product; see ScatterPrecision. Default 'float32'. */
  scatterPrecision?: ScatterPrecision;
  /**
   * Compute the class moments inside the model's session where possible (default true): ground-truth labels,
   * float32 products, tied/low-rank statistics and a fixed input size. false always uses the separate products.
   */
  fused?: boolean;
}

/** Summary of a statistics run or merge, for the CLI to print and the extension to show. */
export interface StatisticsReport {
  /** File written. */
  out: string;
  /** 'partial' for a shard file, 'final' for statistics ready for the Mahalanobis head. */
  kind: 'final' | 'partial';
  /** Images processed (for a merge: over all shards). */
  images: number;
  /** "i/N" for a shard run. */
  shard?: string;
  classCount: number;
  dim: number;
  featureTensor: string;
  labelSource: 'groundTruth' | 'prediction';
  executionProvider?: string;
  /** Feature cells per class. */
  counts: { id: number; name: string; cells: number }[];
  emptyClasses: number[];
  /** Feature cells used and left out, by reason (mixed also counts low-confidence pseudo-labels). */
  cells?: { used: number; mixed: number; ignore: number; anomaly: number; unknown: number };
  /** Spectrum of each regularised covariance (final files only). */
  covariances: CovarianceReport[];
  warnings: string[];
  /** Model forward passes of the image loop; a multi-layer pass shares them between its layers (absent for a merge). */
  forwardPasses?: number;
  /** Seconds: the image loop (model runs, labels, moments), the finalisation, and all including setup and writing. */
  seconds: { pass: number; finalize: number; total: number };
}

/** Computes class statistics over a split (default: train) and writes them; see the module comment. */
export async function computeStatistics(config: HeatConfig, options: StatisticsRunOptions = {}): Promise<StatisticsReport> {
  checkShard(options.shard);
  const layer = { layer: get<string>(config, 'heat.model.featureLayer'), out: outputPath(config, options.out, options.shard) };
  const [report] = await computeStatisticsForLayers(config, [layer], options);
  return report;
}

/** One feature layer of a statistics pass and the file its statistics are written to. */
export interface LayerStatisticsRequest {
  /** Layer as heat.model.featureLayer names it (module or tensor name). */
  layer: string;
  /** File written (exactly this path, also for a shard). */
  out: string;
  /** Whether to finalise class-wise covariances. Default: when heat.statistics.covariance or the sweep grid requests them. */
  classwise?: boolean;
}

/** Moments of one layer during the pass; its feature grid, and so its purity reduction, is its own. */
interface LayerPass {
  request: LayerStatisticsRequest;
  classwise: boolean;
  tally: ReturnType<typeof emptyTally>;
  moments?: ClassMoments;
}

/**
 * Computes the statistics of several feature layers in one pass over the split. One forward pass per image
 * exposes every layer. Labels and logit peaks are computed once per image, the purity reduction and moments
 * once per layer, because each layer has its own feature grid. Returns one report per layer, in the order
 * given. Each layer names its own file, so options.out is not used. With options.shard, each file contains
 * that layer's partial moments.
 */
export async function computeStatisticsForLayers(
  config: HeatConfig, layers: readonly LayerStatisticsRequest[], options: StatisticsRunOptions = {},
): Promise<StatisticsReport[]> {
  const started = performance.now();
  const log = options.log ?? silentLogger;
  const progress = options.progress ?? noProgress;
  const split = options.split ?? 'train';
  const labelSource = get<'groundTruth' | 'prediction'>(config, 'heat.statistics.labelSource');
  const shard = options.shard;
  checkShard(shard);
  if (layers.length === 0) throw new Error('computeStatisticsForLayers needs at least one layer.');
  const outs = layers.map((l) => path.resolve(l.out));
  const duplicate = outs.find((out, i) => outs.indexOf(out) !== i);
  if (duplicate) throw new HeatError(`Two feature layers would write their statistics to ${duplicate}.`, 'Give each layer its own statistics file.', duplicate);
  for (const out of outs) await checkOutputPath(out, 'file', 'the statistics file (--out or heat.statistics.path)');

  const all = await listSamples(config, split, labelSource);
  if (all.length === 0) {
    throw new HeatError(`heat.data.${split}.images is empty, so there are no images for statistics.`,
      `Set heat.data.${split}.images to a glob of in-distribution images${labelSource === 'groundTruth' ? ` and heat.data.${split}.labels to their labels` : ''}.`,
      `heat.data.${split}.images`);
  }
  const samples = shard ? all.filter((_, k) => k % shard[1] === shard[0]) : all;
  if (samples.length === 0) {
    throw new HeatError(`Shard ${shard![0]}/${shard![1]} contains none of the ${all.length} images in the ${split} split.`, `Use at most ${all.length} shards for ${all.length} images.`);
  }

  const purity = get<number>(config, 'heat.statistics.purity');
  const minConfidence = get<number>(config, 'heat.statistics.minConfidence');
  const configuredClasswise = wantsClasswise(config);
  const passes: LayerPass[] = layers.map((request, i) => ({
    request: { ...request, out: outs[i] }, classwise: request.classwise ?? configuredClasswise, tally: emptyTally(),
  }));
  const precision = options.scatterPrecision ?? 'float32';
  // The fused path computes the moments inside the model's session. It needs labels that do not depend on the
  // model's output, float32 products, and pooled moments only (class-wise scatters take one product per class).
  let fused: FusedStatisticsModel | undefined;
  if (labelSource === 'groundTruth' && precision === 'float32' && passes.every((p) => !p.classwise) && options.fused !== false) {
    const opened = await FusedStatisticsModel.open(config, log, layers.map((l) => l.layer));
    if (typeof opened === 'string') log.debug(`Class moments are computed outside the model's session: ${opened}.`);
    else fused = opened;
  }
  const model = fused ?? await StatisticsModel.open(config, log, layers.map((l) => l.layer));
  // NOTE: the scatter products run on the CPU provider even when the model runs on a GPU; untested there.
  const engine = await ScatterEngine.create(precision);
  let maxLogit: ScalarMoments | undefined;
  let mapping: LabelMapping | undefined;
  let classNames: string[] = get<string[]>(config, 'heat.model.classNames');

  /** Sets up classes, label mapping and moments from the first image's class count and feature sizes. */
  const begin = (classCount: number, grids: readonly { channels: number; height: number; width: number }[]) => {
    if (classNames.length > 0 && classNames.length !== classCount) {
      throw new HeatError(`heat.model.classNames lists ${classNames.length} classes but the logits "${model.logitsTensor}" have ${classCount}.`,
        'Make heat.model.classNames match the model, or leave it empty.', 'heat.model.classNames');
    }
    if (classNames.length === 0) classNames = Array.from({ length: classCount }, (_, c) => String(c));
    mapping = labelMappingFromConfig(config, classCount);
    passes.forEach((layer, i) => {
      const features = grids[i];
      layer.moments = emptyMoments(classCount, features.channels, layer.classwise ? 'classwise' : 'pooled');
      log.info(`${passes.length > 1 ? `${layer.request.layer}: ` : ''}D = ${features.channels} at ${features.height}×${features.width}.`);
    });
    log.info(`${classCount} classes, labels from ${labelSource === 'groundTruth' ? `ground truth (mapping from ${mapping.source})` : `predictions with max softmax ≥ ${minConfidence}`}.`);
    return emptyScalarMoments(classCount);
  };

  const passStarted = performance.now();
  try {
    progress.report(0, samples.length, 'statistics');
    if (model instanceof FusedStatisticsModel) {
      maxLogit = begin(model.classCount, model.grids);
      // Image k+1 and its label are decoded by sharp on its worker threads while image k runs.
      const load = async (sample: Sample) => {
        // The label is read and inflated while the image is decoded, both on libuv's threads.
        const [image, label] = await Promise.all([model.prepare(sample.image), loadLabel(sample.label!, mapping!)]);
        checkLabelSize(label, { width: image.imageWidth, height: image.imageHeight, image: sample.image }, sample.label!);
        return { image, label };
      };
      const terms = passes.map((layer) => new MergeTerms(layer.moments!, engine));
      let next: ReturnType<typeof load> | undefined = load(samples[0]);
      try {
        for (let k = 0; k < samples.length; k++) {
          throwIfCancelled(options.signal, 'Computing statistics');
          const { image, label } = await next!;
          next = k + 1 < samples.length ? load(samples[k + 1]) : undefined;
          // A failure is raised where the load is awaited; this only keeps it from being reported as unhandled meanwhile.
          next?.catch(() => undefined);
          const cellClasses = passes.map((layer, i) => {
            const g = model.grids[i];
            return toClassCells(reduceLabels(label.values, label.height, label.width, g.height, g.width, purity), model.classCount, [IGNORE], mapping!.anomaly, layer.tally);
          });
          const run = await model.run(image, cellClasses);
          if (run.nonFiniteLogits > 0) throw nonFiniteLogitsError(samples[k].image, run.nonFiniteLogits, run.height * run.width, model.logitsTensor);
          run.layers.forEach((moments, i) => {
            // A NaN or infinite feature reaches every class sum of its channel (0 · NaN is NaN in the product).
            if (countNonFinite(moments.means) + countNonFinite(moments.residuals) > 0) {
              throw nonFiniteFeaturesError(samples[k].image, model.featureTensors[i], 'the class sums the model\'s session computed from them are not finite');
            }
          });
          for (let i = 0; i < passes.length; i++) await accumulateFusedImage(passes[i].moments!, engine, run.layers[i], terms[i]);
          accumulateKnownPeaks(maxLogit, run, run, label, mapping!.anomaly);
          progress.report(k + 1, samples.length, 'statistics');
        }
        for (const pending of terms) await pending.flush();
      } finally {
        await next?.catch(() => undefined);
      }
    } else {
      await imageLoop(model);
    }
  } finally {
    await engine.release();
    await model.release();
  }

  /** The pass with the moments computed here from the features the model returns. */
  async function imageLoop(plain: StatisticsModel): Promise<void> {
    // Image k+1 is requested before image k is processed. onnxruntime-node runs the model on the main thread, so only
    // sharp's decoding of image k+1 overlaps image k's labels and scatter products.
    let pending: Promise<ModelRun> | undefined;
    const prefetch = (k: number) => {
      pending = k < samples.length ? plain.run(samples[k].image) : undefined;
      // A failure is raised where the run is awaited; this only keeps it from being reported as unhandled meanwhile.
      pending?.catch(() => undefined);
    };
    try {
      prefetch(0);
      for (let k = 0; k < samples.length; k++) {
        throwIfCancelled(options.signal, 'Computing statistics');
        const sample = samples[k];
        const run = await pending!;
        prefetch(k + 1);
        const classCount = run.logits.classes;
        maxLogit ??= begin(classCount, run.layers);
        const badPixels = nonFiniteLogitPixels(run.logits);
        if (badPixels > 0) throw nonFiniteLogitsError(sample.image, badPixels, run.logits.height * run.logits.width, plain.logitsTensor);
        run.layers.forEach((features, i) => {
          const bad = countNonFinite(features.data);
          if (bad > 0) throw nonFiniteFeaturesError(sample.image, plain.featureTensors[i], `${bad} of ${features.data.length} values`);
        });

        const peaks = logitPeaks(run.logits, labelSource === 'prediction');
        // Labels at their own resolution, reduced to each layer's feature grid below.
        let labels: { values: Uint8Array | Int32Array; height: number; width: number; ignore: number[]; anomaly: readonly number[] };
        if (labelSource === 'groundTruth') {
          const label = await loadLabel(sample.label!, mapping!, { width: run.imageWidth, height: run.imageHeight, image: sample.image });
          labels = { values: label.values, height: label.height, width: label.width, ignore: [IGNORE], anomaly: mapping!.anomaly };
          accumulateKnownPeaks(maxLogit, peaks, run.logits, label, mapping!.anomaly);
        } else {
          const pseudo = confidentClasses(peaks.argmax, peaks.maxSoftmax!, minConfidence);
          labels = { values: pseudo, height: run.logits.height, width: run.logits.width, ignore: [], anomaly: [] };
          accumulateScalars(maxLogit, peaks.maxLogit, peaks.argmax);
        }
        for (let i = 0; i < passes.length; i++) {
          const layer = passes[i];
          const features = run.layers[i];
          const reduced = reduceLabels(labels.values, labels.height, labels.width, features.height, features.width, purity);
          const cellClass = toClassCells(reduced, classCount, labels.ignore, labels.anomaly, layer.tally);
          await accumulateFeatures(layer.moments!, engine, features, cellClass);
        }
        progress.report(k + 1, samples.length, 'statistics');
      }
    } finally {
      await pending?.catch(() => undefined);
    }
  }
  throwIfCancelled(options.signal, 'Computing statistics');
  if (!maxLogit) throw new Error('No image was processed.');
  const passSeconds = (performance.now() - passStarted) / 1000;
  const forwardPasses = model.runs;

  const reports: StatisticsReport[] = [];
  for (let i = 0; i < passes.length; i++) {
    const { request, tally, classwise } = passes[i];
    const moments = passes[i].moments!;
    const out = request.out;
    const featureTensor = model.featureTensors[i];
    const layerStarted = performance.now();
    const warnings: string[] = [];
    if (tally.unknown > 0) warnings.push(`${tally.unknown} feature cells carried label values outside the classes (${[...tally.unknownValues].join(', ')}) and were left out.`);
    const metadata: StatisticsMetadata = {
      formatVersion: STATISTICS_FORMAT_VERSION,
      modelSha256: model.sha256,
      featureTensor,
      dim: moments.dim,
      classNames,
      labelMapping: {
        offset: mapping!.offset, map: Object.fromEntries(mapping!.map), ignore: mapping!.ignore, anomaly: mapping!.anomaly,
        source: mapping!.source, purity, minConfidence,
      },
      preprocessing: { ...model.preprocessing, logitsTensor: model.logitsTensor },
      regularization: { epsilon: get<number>(config, 'heat.statistics.regularization'), mode: get<'absolute' | 'relative'>(config, 'heat.statistics.regularizationMode') },
      labelSource,
      imageCount: samples.length,
      createdAt: new Date().toISOString(),
      rank: get<number>(config, 'heat.statistics.rank'),
      classwise,
      split,
      scatterPrecision: engine.precision,
    };

    const base = {
      images: samples.length, classCount: moments.classCount, dim: moments.dim, featureTensor, labelSource, forwardPasses,
      executionProvider: model.executionProvider, cells: { used: tally.used, mixed: tally.mixed, ignore: tally.ignore, anomaly: tally.anomaly, unknown: tally.unknown },
    };
    // Layers before this one keep their files if the run is cancelled now: each is complete and written atomically.
    throwIfCancelled(options.signal, 'Computing statistics');
    if (shard) {
      const partial: PartialStatistics = { moments, maxLogit, metadata: { ...metadata, shard: `${shard[0]}/${shard[1]}` } };
      await writePartialStatistics(out, partial);
      reports.push({
        ...base, out, kind: 'partial', shard: `${shard[0]}/${shard[1]}`, counts: classCounts(moments, classNames), emptyClasses: emptyOf(moments),
        covariances: [], warnings, seconds: { pass: passSeconds, finalize: 0, total: passSeconds + (performance.now() - layerStarted) / 1000 },
      });
      continue;
    }
    const result = await finishStatistics(moments, maxLogit, metadata, out, options, warnings);
    reports.push({ ...base, ...result, seconds: { pass: passSeconds, finalize: result.finalizeSeconds, total: 0 } });
  }
  // Total: the whole call, shared by every layer of the pass.
  const total = (performance.now() - started) / 1000;
  for (const report of reports) report.seconds.total = total;
  return reports;
}

function checkShard(shard: [number, number] | undefined): void {
  if (shard && !(Number.isInteger(shard[0]) && Number.isInteger(shard[1]) && shard[1] >= 1 && shard[0] >= 0 && shard[0] < shard[1])) {
    throw new HeatError(`Shard ${shard[0]}/${shard[1]} is out of range.`, 'Use --shard i/N with 0 ≤ i < N, for example --shard 0/4 … --shard 3/4.');
  }
}

/**
 * Lists the split's images, with their label files for ground-truth statistics. Prediction statistics read no
 * label file, so a preset's pairing is not applied (and missing label files are no error).
 */
async function listSamples(config: HeatConfig, split: 'train' | 'val', labelSource: 'groundTruth' | 'prediction'): Promise<Sample[]> {
  if (labelSource === 'groundTruth') return listSplit(config, split, { requireLabels: true });
  const key = `heat.data.${split}.images`;
  const setting = get<string>(config, key);
  if (setting === '') return [];
  return (await listImages(setting, key, presetOf(config))).map((image) => ({ image }));
}

/** Merges shard files exactly (the pairwise update) and writes the finalised statistics to `out`. */
export async function mergeStatisticsFiles(files: readonly string[], out: string, options: JobOptions = {}): Promise<StatisticsReport> {
  const started = performance.now();
  if (files.length === 0) throw new HeatError('No shard files to merge.', 'Pass the files written by "heat-lens stats --shard i/N", for example stats.shard-*.safetensors.');
  await checkOutputPath(out, 'file', 'the merged file (--out)');
  const partials: { file: string; partial: PartialStatistics }[] = [];
  for (const file of files) {
    throwIfCancelled(options.signal, 'Merging statistics');
    partials.push({ file, partial: await readPartialStatistics(file) });
  }
  checkShardsAgree(partials);

  const first = partials[0].partial;
  const moments = emptyMoments(first.moments.classCount, first.moments.dim, first.moments.kind);
  const maxLogit = emptyScalarMoments(first.moments.classCount);
  let images = 0;
  for (const { partial } of partials) {
    mergeMoments(moments, partial.moments);
    mergeScalarMoments(maxLogit, partial.maxLogit);
    images += partial.metadata.imageCount;
  }
  const { shard: _shard, ...shared } = first.metadata;
  const metadata: StatisticsMetadata = { ...shared, imageCount: images, createdAt: new Date().toISOString(), mergedFrom: partials.length };
  const result = await finishStatistics(moments, maxLogit, metadata, out, options, []);
  const seconds = (performance.now() - started) / 1000;
  return {
    ...result, images, classCount: moments.classCount, dim: moments.dim, featureTensor: metadata.featureTensor, labelSource: metadata.labelSource,
    seconds: { pass: 0, finalize: result.finalizeSeconds, total: seconds },
  };
}

/** Finalises moments (covariances, precisions, spectrum), writes the file and logs the warnings. */
async function finishStatistics(
  moments: ClassMoments, maxLogit: ScalarMoments, metadata: StatisticsMetadata, out: string, options: JobOptions, warnings: string[],
) {
  const log = options.log ?? silentLogger;
  const started = performance.now();
  const names = metadata.classNames;
  const finalized = finalizeStatistics(moments, {
    regularization: metadata.regularization.epsilon,
    regularizationMode: metadata.regularization.mode,
    rank: typeof metadata.rank === 'number' ? metadata.rank : 256,
    classNames: names,
    classwise: moments.kind === 'classwise',
    productPrecision: metadata.scatterPrecision === 'float32' ? 'float32' : 'float64',
  });
  throwIfCancelled(options.signal, 'Computing statistics');
  const std = maxLogit.m2.map((m2, c) => (maxLogit.counts[c] > 1 ? Math.sqrt(m2 / (maxLogit.counts[c] - 1)) : 0));
  const stats: ClassStatistics = {
    ...finalized.statistics,
    maxLogit: { mean: Float64Array.from(maxLogit.means), std },
    metadata: { ...metadata, covarianceReports: finalized.reports },
  };
  await writeStatistics(out, stats);
  const allWarnings = [...warnings, ...finalized.warnings];
  // One pass can finalise several layers, so each warning names its file (which names the layer).
  for (const warning of allWarnings) log.warn(`${path.basename(out)}: ${warning}`);
  return {
    out, kind: 'final' as const, counts: classCounts(moments, names), emptyClasses: finalized.statistics.emptyClasses,
    covariances: finalized.reports, warnings: allWarnings, finalizeSeconds: (performance.now() - started) / 1000,
  };
}

/** Shards merge only when they come from the same model, layer, classes, labels, preprocessing and settings. */
function checkShardsAgree(partials: { file: string; partial: PartialStatistics }[]): void {
  const keys = ['modelSha256', 'featureTensor', 'dim', 'classNames', 'labelMapping', 'preprocessing', 'labelSource', 'regularization', 'rank', 'classwise', 'split', 'scatterPrecision'];
  const [reference, ...others] = partials;
  for (const other of others) {
    for (const key of keys) {
      const a = JSON.stringify(reference.partial.metadata[key]);
      const b = JSON.stringify(other.partial.metadata[key]);
      if (a !== b) {
        throw new HeatError(`Shard ${other.file} differs from ${reference.file} in ${key}: ${b} vs ${a}.`,
          'Merge only shards made with the same model, configuration and split; recompute the odd one with "heat-lens stats --shard i/N".', other.file);
      }
    }
  }
  const shards = partials.map(({ file, partial }) => ({ file, shard: String(partial.metadata.shard ?? '') }));
  const count = Number(shards[0].shard.split('/')[1]);
  const seen = new Map<string, string>();
  for (const { file, shard } of shards) {
    if (Number(shard.split('/')[1]) !== count) throw new HeatError(`Shard ${file} is ${shard} but ${shards[0].file} is ${shards[0].shard}.`, 'Merge shards of one split into the same number of parts.', file);
    if (seen.has(shard)) throw new HeatError(`Shard ${shard} is given twice: ${seen.get(shard)} and ${file}.`, 'Pass each shard file once.', file);
    seen.set(shard, file);
  }
  const missing = Array.from({ length: count }, (_, i) => `${i}/${count}`).filter((s) => !seen.has(s));
  if (missing.length > 0) {
    throw new HeatError(`Shard${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} missing; the merge would not equal one pass over the split.`,
      'Pass every shard file written by "heat-lens stats --shard i/N".');
  }
}

/**
 * Reports whether class-wise covariances are requested by heat.statistics.covariance or the sweep grid. Each
 * costs a D×D inversion and spectrum, so they are finalised only then. Tied and low-rank are always written.
 */
function wantsClasswise(config: HeatConfig): boolean {
  if (get<string>(config, 'heat.statistics.covariance') === 'classwise') return true;
  const grid = get<Record<string, unknown>>(config, 'heat.sweep.grid');
  return Array.isArray(grid.covariance) && grid.covariance.includes('classwise');
}

function outputPath(config: HeatConfig, out: string | undefined, shard: [number, number] | undefined): string {
  const configured = get<string>(config, 'heat.statistics.path');
  const base = out ?? (configured !== '' ? configured : path.join(config.baseDir, 'statistics.safetensors'));
  if (!shard || out) return path.resolve(base);
  const parsed = path.parse(path.resolve(base));
  return path.join(parsed.dir, `${parsed.name}.shard-${shard[0]}-of-${shard[1]}${parsed.ext || '.safetensors'}`);
}

function classCounts(moments: ClassMoments, names: readonly string[]) {
  return Array.from(moments.counts, (cells, id) => ({ id, name: names[id] ?? String(id), cells }));
}

function emptyOf(moments: ClassMoments): number[] {
  return Array.from(moments.counts).flatMap((n, c) => (n === 0 ? [c] : []));
}

/** Counts the pixels of `logits` with a NaN or +Inf logit in some class (−Inf is accepted, as in scoring). */
export function nonFiniteLogitPixels(logits: LogitsGrid): number {
  const { data, classes, height, width, layout } = logits;
  const pixels = height * width;
  // The class sum is NaN or +Inf exactly when some logit is NaN or +Inf (+Inf with −Inf gives NaN).
  const sums = new Float64Array(pixels);
  if (layout === 'NCHW') {
    for (let c = 0; c < classes; c++) {
      const plane = c * pixels;
      for (let p = 0; p < pixels; p++) sums[p] += data[plane + p];
    }
  } else {
    for (let p = 0; p < pixels; p++) {
      let sum = 0;
      for (let c = 0; c < classes; c++) sum += data[p * classes + c];
      sums[p] = sum;
    }
  }
  let bad = 0;
  for (let p = 0; p < pixels; p++) if (Number.isNaN(sums[p]) || sums[p] === Infinity) bad++;
  return bad;
}

/**
 * Computes per logits pixel the argmax class and the max logit. With `withSoftmax` it also computes the max
 * softmax 1 / Σ_c exp(z_c − z_max), which only the prediction label source needs (the exponentials dominate the cost).
 */
export function logitPeaks(logits: LogitsGrid, withSoftmax = true): { argmax: Int32Array; maxLogit: Float32Array; maxSoftmax?: Float32Array } {
  const { data, classes, height, width, layout } = logits;
  const pixels = height * width;
  const argmax = new Int32Array(pixels);
  const maxLogit = new Float32Array(pixels);
  const maxSoftmax = withSoftmax ? new Float32Array(pixels) : undefined;
  if (layout === 'NCHW') {
    // Class planes are contiguous, so walk them one after another rather than striding across planes per pixel.
    maxLogit.set(data.subarray(0, pixels));
    for (let c = 1; c < classes; c++) {
      const plane = c * pixels;
      for (let p = 0; p < pixels; p++) {
        const z = data[plane + p];
        if (z > maxLogit[p]) { maxLogit[p] = z; argmax[p] = c; }
      }
    }
    if (maxSoftmax) {
      for (let c = 0; c < classes; c++) {
        const plane = c * pixels;
        for (let p = 0; p < pixels; p++) maxSoftmax[p] += Math.exp(data[plane + p] - maxLogit[p]);
      }
      for (let p = 0; p < pixels; p++) maxSoftmax[p] = 1 / maxSoftmax[p];
    }
    return { argmax, maxLogit, maxSoftmax };
  }
  for (let p = 0; p < pixels; p++) {
    const base = p * classes;
    let best = 0;
    let top = data[base];
    for (let c = 1; c < classes; c++) {
      if (data[base + c] > top) { top = data[base + c]; best = c; }
    }
    argmax[p] = best;
    maxLogit[p] = top;
    if (maxSoftmax) {
      let sum = 0;
      for (let c = 0; c < classes; c++) sum += Math.exp(data[base + c] - top);
      maxSoftmax[p] = 1 / sum;
    }
  }
  return { argmax, maxLogit, maxSoftmax };
}

/** Argmax classes with pixels below the confidence threshold set to −1 ("other" for the purity rule). */
function confidentClasses(argmax: Int32Array, maxSoftmax: Float32Array, minConfidence: number): Int32Array {
  const out = new Int32Array(argmax.length);
  for (let p = 0; p < argmax.length; p++) out[p] = maxSoftmax[p] >= minConfidence ? argmax[p] : -1;
  return out;
}

/**
 * Adds the max logit of each logits pixel whose ground truth is a known class to its predicted class's moments.
 * Void and anomaly pixels stay out. The ground truth of a logits pixel is the label pixel at the same relative
 * position (nearest sampling). The sums run in one pass in float64, over values d shifted by each class's first
 * value in this image, so M2 = Σd² − (Σd)²/n keeps its digits even for logits far from zero.
 */
export function accumulateKnownPeaks(
  target: ScalarMoments, peaks: { argmax: Int32Array; maxLogit: Float32Array }, logits: { height: number; width: number },
  label: { values: Uint8Array; width: number; height: number }, anomaly: readonly number[],
): void {
  const known = new Uint8Array(256).fill(1);
  known[IGNORE] = 0;
  for (const value of anomaly) if (value >= 0 && value < 256) known[value] = 0;
  const { argmax, maxLogit } = peaks;
  const { values, width: labelWidth, height: labelHeight } = label;
  const { width, height } = logits;
  const classCount = target.counts.length;
  const columns = Int32Array.from({ length: width }, (_, x) => Math.min(labelWidth - 1, Math.floor(((x + 0.5) * labelWidth) / width)));
  const n = new Float64Array(classCount);
  const shift = new Float64Array(classCount);
  const seen = new Uint8Array(classCount);
  const sum = new Float64Array(classCount);
  const squares = new Float64Array(classCount);
  // Predicted classes come in runs along a row, so the sums of the current run stay in local variables and are
  // added to the class's totals when the class changes. Summing into the arrays per pixel chained every
  // addition through memory: 3.2 against 1.9 ms for a 512 × 1024 map with runs of 128 pixels (measured).
  let current = -1;
  let currentShift = 0;
  let runCount = 0;
  let runSum = 0;
  let runSquares = 0;
  for (let y = 0; y < height; y++) {
    const row = Math.min(labelHeight - 1, Math.floor(((y + 0.5) * labelHeight) / height)) * labelWidth;
    const base = y * width;
    for (let x = 0; x < width; x++) {
      if (known[values[row + columns[x]]] === 0) continue;
      const p = base + x;
      const c = argmax[p];
      const value = maxLogit[p];
      if (c !== current) {
        if (current >= 0) {
          n[current] += runCount;
          sum[current] += runSum;
          squares[current] += runSquares;
        }
        current = c;
        runCount = 0;
        runSum = 0;
        runSquares = 0;
        if (seen[c] === 0) {
          seen[c] = 1;
          shift[c] = value;
        }
        currentShift = shift[c];
      }
      const d = value - currentShift;
      runCount++;
      runSum += d;
      runSquares += d * d;
    }
  }
  if (current >= 0) {
    n[current] += runCount;
    sum[current] += runSum;
    squares[current] += runSquares;
  }
  for (let c = 0; c < classCount; c++) {
    if (n[c] > 0) mergeScalarBlock(target, c, n[c], shift[c] + sum[c] / n[c], Math.max(0, squares[c] - (sum[c] * sum[c]) / n[c]));
  }
}
