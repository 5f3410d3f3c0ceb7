/**
 * Statistics for every feature layer of a sweep. A layer's file is looked up first: heat.statistics.path when
 * the layer is the configured heat.model.featureLayer, then "<stem>.<layer>.safetensors" beside it. A file is
 * used only when its metadata matches the model, feature tensor, D and class count, as loadStatistics checks.
 * Otherwise the statistics are computed over the training split and written to "<stem>.<layer>.safetensors".
 *
 * Computing runs computeStatistics once per missing layer (one pass over the training split each); the
 * statistics pass exposes one feature layer at a time, and extending it to several is left for later.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { get, withOverrides, type HeatConfig } from '../config';
import { HeatError, throwIfCancelled } from '../errors';
import { noProgress, silentLogger, type Logger, type Progress } from '../log';
import { computeStatistics } from '../stats/compute';
import { loadStatistics } from '../stats/file';
import type { ClassStatistics } from '../stats/types';
import type { StatisticsSource } from './session';

export interface LayerStatisticsRecord {
  layer: string;
  featureTensor: string;
  file: string;
  source: 'loaded' | 'computed';
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
}

/** Creates a StatisticsSource that loads matching files and computes the missing ones. */
export function layerStatistics(config: HeatConfig, options: LayerStatisticsOptions): StatisticsSource {
  const log = options.log ?? silentLogger;
  return async (layer, expected, needsClasswise) => {
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
        options.records.push({ layer, featureTensor: expected.featureTensor, file, source: 'loaded' });
        log.info(`Statistics of layer ${layer}: ${file}.`);
        return stats;
      } catch (error) {
        if (!(error instanceof HeatError)) throw error;
        log.warn(`${error.message} It is not used for layer ${layer}.`);
      }
    }
    throwIfCancelled(options.signal, 'Sweep');
    const out = layerStatisticsPath(config, layer);
    log.info(`Computing statistics of layer ${layer} over the training split into ${out}.`);
    // The statistics pass finalises class-wise covariances only when heat.statistics.covariance asks for them.
    const layerConfig = withOverrides(config, { 'heat.model.featureLayer': layer, ...(needsClasswise ? { 'heat.statistics.covariance': 'classwise' } : {}) });
    await computeStatistics(layerConfig, { out, log, progress: options.progress ?? noProgress, signal: options.signal });
    const stats: ClassStatistics = await loadStatistics(out, expected);
    options.records.push({ layer, featureTensor: expected.featureTensor, file: out, source: 'computed' });
    return stats;
  };
}
