/**
 * `heat-lens score`: every HEAT map of each image, written as colour PNGs with a summary.json, and kept in
 * memory for the viewer. A failing image is reported and skipped; the others are still scored.
 */
import * as path from 'node:path';
import sharp from 'sharp';
import type { MapName, MapSummary, ScoredImage, ScoreFailure, ScoreOptions, ScoreSummary } from '../api';
import { get, type HeatConfig } from '../config';
import { CancelledError, HeatError, throwIfCancelled } from '../errors';
import { checkOutputPath, writeDirAtomic, writeFileAtomic } from '../fsutil';
import { ScoreNormalizer, type NormalizationMode } from '../heat';
import { noProgress, silentLogger } from '../log';
import { finiteStats, resolveRange, writeClassPng, writeMapPng, type ColorMapName } from '../render';
import type { ScoreMap } from '../tensor';
import { uniqueImageNames } from './names';
import { HeatSession, type ImageRun } from './session';

/** Head output name → map name in files, summaries and the viewer. */
const MAP_FROM_HEAD: Record<string, MapName> = {
  energy: 'energy',
  mahalanobis: 'mahalanobis',
  spatial: 'spatial',
  weight_energy: 'weight-energy',
  weight_mahalanobis: 'weight-mahalanobis',
  weight_spatial: 'weight-spatial',
  heat: 'heat',
  max_softmax: 'max-softmax',
  max_logit: 'max-logit',
  entropy: 'entropy',
};

/** Maps written as PNG for every image; the baselines stay in summary.json and memory. */
const PNG_MAPS: readonly MapName[] = [
  'energy', 'mahalanobis', 'spatial', 'weight-energy', 'weight-mahalanobis', 'weight-spatial', 'heat', 'heat-normalized',
];

export function makeNormalizer(config: HeatConfig): ScoreNormalizer {
  return new ScoreNormalizer({
    mode: get<NormalizationMode>(config, 'heat.score.normalization'),
    alpha: get<number>(config, 'heat.score.alpha'),
    mean: get<number>(config, 'heat.score.fixedMean'),
    std: get<number>(config, 'heat.score.fixedStd'),
  });
}

export interface ScoreCallOptions extends ScoreOptions {
  /** Reuse an open session (the engine process caches them); it is not released. */
  session?: HeatSession;
  /** Also return softmax probabilities and the RGBA image, for the viewer. */
  forViewer?: boolean;
}

/**
 * Scores `images` in order; adaptive normalization carries its EMA state from one image to the next.
 * Returns the scored images and, separately, the images that failed with their error line.
 */
export async function scoreImages(config: HeatConfig, images: string[], options: ScoreCallOptions = {}): Promise<{ results: ScoredImage[]; failures: ScoreFailure[] }> {
  const log = options.log ?? silentLogger;
  const progress = options.progress ?? noProgress;
  if (options.outDir) await checkOutputPath(options.outDir, 'folder', 'the output folder (--out)');
  const session = options.session ?? await HeatSession.open(config, { log, probabilities: options.forViewer });
  const normalizer = makeNormalizer(config);
  const colormap = get<ColorMapName>(config, 'heat.viewer.colorMap');
  const results: ScoredImage[] = [];
  const failures: ScoreFailure[] = [];
  const folderNames = uniqueImageNames(images);

  // Each finished image's folder was renamed into place whole, and an unfinished one removed, so what is kept is complete.
  const cancelled = () => new CancelledError('Scoring', `after ${results.length} of ${images.length} images${
    options.outDir && results.length > 0 ? `; the folders of those images in ${options.outDir} are complete and kept` : ''}`);
  try {
    for (let i = 0; i < images.length; i++) {
      if (options.signal?.aborted) throw cancelled();
      progress.report(i, images.length, 'Scoring');
      const file = images[i];
      try {
        const run = await session.runImage(file);
        const t0 = performance.now();
        const scored = await toScoredImage(session, run, file, normalizer, options.forViewer === true);
        scored.summary.timings.postprocess = performance.now() - t0;
        if (options.outDir) {
          const t1 = performance.now();
          scored.outDir = path.join(options.outDir, folderNames[i]);
          await writeImageFolder(scored, colormap, options.signal);
          scored.summary.timings.write = performance.now() - t1;
        }
        results.push(scored);
        log.info(`Scored ${file} on ${session.executionProvider} in ${Math.round(run.timings.run)} ms.`);
      } catch (error) {
        if (error instanceof CancelledError) throw cancelled();
        const message = error instanceof HeatError ? error.message : `${file}: ${(error as Error).message}`;
        failures.push({ image: file, error: message });
        log.error(message);
      }
    }
    progress.report(images.length, images.length, 'Scoring');
  } finally {
    if (!options.session) await session.release();
  }
  return { results, failures };
}

async function toScoredImage(session: HeatSession, run: ImageRun, file: string, normalizer: ScoreNormalizer, forViewer: boolean): Promise<ScoredImage> {
  const { height, width } = run;
  const maps: Partial<Record<MapName, ScoreMap>> = {};
  for (const [headName, data] of run.maps) {
    const name = MAP_FROM_HEAD[headName];
    if (name) maps[name] = { data, height, width };
  }
  const heat = maps.heat;
  if (!heat) throw new Error('The HEAT head returned no "heat" map.');
  maps['heat-normalized'] = { data: normalizer.normalize(heat.data, file), height, width };

  const summaries: Partial<Record<MapName | 'prediction', MapSummary>> = {};
  for (const [name, map] of Object.entries(maps) as [MapName, ScoreMap][]) summaries[name] = summarize(map, name);
  summaries.prediction = { shape: [height, width], min: 0, max: session.classCount - 1, mean: NaN, shownRange: [0, session.classCount - 1] };

  const summary: ScoreSummary = {
    image: file,
    model: session.model.path,
    executionProvider: session.executionProvider,
    featureTensor: session.featureTensor,
    logitsTensor: session.logitsTensor,
    statistics: session.statisticsPath,
    combinedWithoutMahalanobis: !session.statistics,
    maps: summaries,
    timings: { ...run.timings },
    notes: [...session.notes],
  };
  const normalizerState = normalizer.current;
  if (normalizerState) summary.notes.push(`Normalization ${normalizer.mode}: mean ${normalizerState.mean.toPrecision(6)}, std ${normalizerState.std.toPrecision(6)}.`);

  return {
    image: file,
    summary,
    maps,
    prediction: run.prediction,
    probabilities: forViewer && run.probabilities ? run.probabilities : new Float32Array(0),
    classCount: session.classCount,
    imageRgba: forViewer ? await rgbaAtSize(run, width, height) : new Uint8Array(0),
  };
}

/** Weights are shown on their natural range [0, 1]; scores on their 1st to 99th percentile. */
function summarize(map: ScoreMap, name: MapName): MapSummary {
  const stats = finiteStats(map.data);
  const shownRange: [number, number] = name.startsWith('weight-') ? [0, 1] : resolveRange(map.data, { mode: 'percentile', low: 1, high: 99 });
  return { shape: [map.height, map.width], min: stats.min ?? NaN, max: stats.max ?? NaN, mean: stats.mean ?? NaN, shownRange };
}

async function rgbaAtSize(run: ImageRun, width: number, height: number): Promise<Uint8Array> {
  const { data, width: w, height: h } = run.image;
  const buffer = await sharp(data, { raw: { width: w, height: h, channels: 3 } }).resize(width, height, { fit: 'fill' }).ensureAlpha().raw().toBuffer();
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.length);
}

/** Writes the PNG maps, prediction.png and summary.json into the image's folder, replacing it atomically. */
async function writeImageFolder(scored: ScoredImage, colormap: ColorMapName, signal?: AbortSignal): Promise<void> {
  const outDir = scored.outDir as string;
  await writeDirAtomic(outDir, async (dir) => {
    for (const name of PNG_MAPS) {
      const map = scored.maps[name];
      const summary = scored.summary.maps[name];
      if (!map || !summary) continue;
      throwIfCancelled(signal, 'Scoring');
      await writeMapPng(path.join(dir, `${name}.png`), map.data, map.width, map.height, { colormap, range: summary.shownRange });
    }
    const heat = scored.maps.heat as ScoreMap;
    await writeClassPng(path.join(dir, 'prediction.png'), scored.prediction, heat.width, heat.height, scored.classCount);
    await writeFileAtomic(path.join(dir, 'summary.json'), `${JSON.stringify(scored.summary, jsonNumbers, 2)}\n`);
  });
}

/** JSON has no NaN; undefined statistics are written as null. */
function jsonNumbers(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}

