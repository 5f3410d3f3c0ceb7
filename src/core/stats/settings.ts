/**
 * Comparison of the settings a statistics file was computed with against the current configuration. These
 * settings take effect only when the statistics are computed, so a file made with other values silently keeps
 * its own: a changed heat.statistics.regularization, for example, changes nothing until "heat-lens stats" runs.
 */
import { get, type HeatConfig } from '../config';
import type { StatisticsMetadata } from './types';

/** A setting whose current value differs from the one a statistics file was computed with. */
export interface SettingDifference {
  key: string;
  /** "KEY is CURRENT but the file was computed with STORED". */
  text: string;
}

/**
 * Returns the settings whose current value differs from the file's, each naming both values; empty when
 * all match. Compared: regularization and its mode, the label source, purity, the minimum confidence (prediction
 * labels only) and the rank (only when heat.statistics.covariance is "lowrank"). Files from before a field was
 * stored are not compared on that field.
 */
export function statisticsSettingDifferences(config: HeatConfig, metadata: StatisticsMetadata): SettingDifference[] {
  const differences: SettingDifference[] = [];
  const compare = (key: string, stored: unknown, current: unknown) => {
    if (stored === undefined || stored === null || stored === current) return;
    differences.push({ key, text: `${key} is ${JSON.stringify(current)} but the file was computed with ${JSON.stringify(stored)}` });
  };
  const mapping = (metadata.labelMapping ?? {}) as { purity?: unknown; minConfidence?: unknown };
  compare('heat.statistics.regularization', metadata.regularization?.epsilon, get<number>(config, 'heat.statistics.regularization'));
  compare('heat.statistics.regularizationMode', metadata.regularization?.mode, get<string>(config, 'heat.statistics.regularizationMode'));
  compare('heat.statistics.labelSource', metadata.labelSource, get<string>(config, 'heat.statistics.labelSource'));
  compare('heat.statistics.purity', mapping.purity, get<number>(config, 'heat.statistics.purity'));
  if (metadata.labelSource === 'prediction' && get<string>(config, 'heat.statistics.labelSource') === 'prediction') {
    compare('heat.statistics.minConfidence', mapping.minConfidence, get<number>(config, 'heat.statistics.minConfidence'));
  }
  if (get<string>(config, 'heat.statistics.covariance') === 'lowrank') {
    compare('heat.statistics.rank', metadata.rank, get<number>(config, 'heat.statistics.rank'));
  }
  return differences;
}

/** Builds one warning line for the differences, with the fix; undefined when there are none. */
export function staleStatisticsWarning(file: string, differences: readonly SettingDifference[]): string | undefined {
  if (differences.length === 0) return undefined;
  return `Statistics file ${file} was computed with other settings: ${differences.map((d) => d.text).join('; ')}. `
    + 'These settings apply only when the statistics are computed, so the file\'s values are used. '
    + 'Run "heat-lens stats" (HEAT: Compute Class Statistics in VS Code) to apply them.';
}
