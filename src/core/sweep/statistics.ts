/**
 * Statistics for every feature layer of a sweep. A layer's file is looked up first: heat.statistics.path when
 * the layer is the configured heat.model.featureLayer, then "<stem>.<layer>.safetensors" beside it. A file is
 * used only when its metadata matches the model, feature tensor, D and class count, as loadStatistics checks.
 * Otherwise the statistics are computed over the training split and written to "<stem>.<layer>.safetensors".
 *
 * All missing layers are computed together by computeStatisticsForLayers: one pass over the training split,
 * one forward pass per image exposing every missing layer.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { get, type HeatConfig } from '../config';
import { HeatError, throwIfCancelled } from '../errors';
import { noProgress, silentLogger, type Logger, type Progress } from '../log';
import { computeStatisticsForLayers, type LayerStatisticsRequest } from '../stats/compute';
import { loadStatistics } from '../stats/file';
import { statisticsSettingDifferences } from '../stats/settings';
import type { ClassStatistics } from '../stats/types';
import type { StatisticsRequest, StatisticsSource } from './session';

export interface LayerStatisticsRecord {
  layer: string;
  featureTensor: string;
  file: string;
  source: 'loaded' | 'computed';
  /** For a computed layer: the training pass (1, 2, …) that computed it; the layers of one sweep share pass 1. */
  pass?: number;
}

/** Base statistics path: heat.statistics.path, or statistics.safetensors in the workspace when it is empty. */
export function statisticsBase(config: HeatConfig): string {
  const configured = get<string>(config, 'heat.statistics.path');
  return path.resolve(configured !== '' ? configured : path.join(config.baseDir, 'statistics.safetensors'));
}

/** "<stem>.<layer>.safetensors" beside the base path; characters unsafe in file names become "_". */
export function layerStatisticsPath(config: HeatConfig, layer: string): string {
  const base = path.parse(statisticsBase(config));
  return path.join(base.dir, `${base.name}.${layer.replace(/[^A-Za-z0-9._-]/g, '_')}${base.ext || '.safetensors'}`);
}

export interface LayerStatisticsOptions {
  log?: Logger;
  progress?: Progress;
  signal?: AbortSignal;
  /** Filled with what was loaded or computed, for the result file. */
  records: LayerStatisticsRecord[];
  /** Called after each pass over the training split, with the layers it computed. */
  onPass?: (layers: string[]) => void;
}

/** Creates a StatisticsSource that loads matching files and computes all missing ones in one pass. */
export function layerStatistics(config: HeatConfig, options: LayerStatisticsOptions): StatisticsSource {
  const log = options.log ?? silentLogger;
  let passes = 0;
  return async (requests) => {
    const found = new Map<string, ClassStatistics>();
    const missing: StatisticsRequest[] = [];
    for (const request of requests) {
      const stats = await loadLayer(config, request, options.records, log);
      if (stats) found.set(request.layer, stats);
      else missing.push(request);
    }
    if (missing.length === 0) return found;

    throwIfCancelled(options.signal, 'Sweep');
    // Class-wise covariances are finalised where the sweep uses them, or where the settings request them, as in a single-layer run.
    const layers: LayerStatisticsRequest[] = missing.map((r) => ({ layer: r.layer, out: layerStatisticsPath(config, r.layer), classwise: r.needsClasswise || undefined }));
    log.info(`Computing statistics of layer${layers.length > 1 ? 's' : ''} ${layers.map((l) => l.layer).join(', ')} in one pass over the training split into ${layers.map((l) => l.out).join(', ')}.`);
    await computeStatisticsForLayers(config, layers, { log, progress: options.progress ?? noProgress, signal: options.signal });
    passes++;
    options.onPass?.(layers.map((l) => l.layer));
    for (const [i, request] of missing.entries()) {
      found.set(request.layer, await loadStatistics(layers[i].out, request.expected));
      options.records.push({ layer: request.layer, featureTensor: request.expected.featureTensor, file: layers[i].out, source: 'computed', pass: passes });
    }
    return found;
  };
}

/** Loads the first candidate file of a layer that matches; undefined when none does. */
async function loadLayer(config: HeatConfig, request: StatisticsRequest, records: LayerStatisticsRecord[], log: Logger): Promise<ClassStatistics | undefined> {
  const { layer, expected, needsClasswise } = request;
  const candidates = [
    ...(layer === get<string>(config, 'heat.model.featureLayer') && get<string>(config, 'heat.statistics.path') !== '' ? [statisticsBase(config)] : []),
    layerStatisticsPath(config, layer),
  ];
  for (const file of candidates) {
    if (!existsSync(file)) continue;
    try {
      const stats = await loadStatistics(file, expected);
      if (needsClasswise && !stats.classPrecisions) {
        log.warn(`Statistics file ${file} has no class-wise covariances, which the sweep uses for layer ${layer}.`);
        continue;
      }
      const differences = statisticsSettingDifferences(config, stats.metadata);
      if (differences.length > 0) {
        log.warn(`Statistics file ${file} was computed with other settings (${differences.map((d) => d.text).join('; ')}), so it is not used for layer ${layer}.`);
        continue;
      }
      records.push({ layer, featureTensor: expected.featureTensor, file, source: 'loaded' });
      log.info(`Statistics of layer ${layer}: ${file}.`);
      return stats;
    } catch (error) {
      if (!(error instanceof HeatError)) throw error;
      log.warn(`${error.message} It is not used for layer ${layer}.`);
    }
  }
  return undefined;
}
