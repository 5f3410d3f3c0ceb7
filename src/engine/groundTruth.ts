/**
 * Ground truth for the viewer. When a scored image belongs to a configured split with labels, its label is
 * loaded and mapped to anomaly (1), known (0) and void (255).
 * The mask is resized to the score maps' grid by nearest neighbour, so every map pixel keeps a label value
 * that exists in the file.
 */
import * as path from 'node:path';
import type { ScoredImage } from '../core/api';
import { HeatConfig, SPLIT_NAMES } from '../core/config';
import { labelMappingFromConfig, listSplit, loadLabel } from '../core/data';
import type { Logger } from '../core/log';
import { resizeNearest } from '../core/pipeline/resize';

/**
 * Maps every image of the configured splits to its label file (images without labels are left out). A split that
 * cannot be listed, such as a training split without label files for prediction-labelled statistics, is skipped,
 * and its error is returned so that the caller can report it when an image found no label.
 */
export async function labelIndex(config: HeatConfig): Promise<{ index: Map<string, string>; failures: string[] }> {
  const index = new Map<string, string>();
  const failures: string[] = [];
  for (const split of SPLIT_NAMES) {
    let samples;
    try {
      samples = await listSplit(config, split);
    } catch (error) {
      failures.push(`the ${split} split could not be listed: ${(error as Error).message}`);
      continue;
    }
    for (const sample of samples) {
      if (sample.label && !index.has(path.resolve(sample.image))) index.set(path.resolve(sample.image), sample.label);
    }
  }
  return { index, failures };
}

/**
 * Adds `groundTruth` to scored images that lack it and belong to a configured split. A label that fails to
 * load is logged and left out, since the maps are still worth showing without it.
 */
export async function attachGroundTruth(config: HeatConfig, results: ScoredImage[], log: Logger): Promise<void> {
  if (results.every((r) => r.groundTruth)) return;
  const mapping = labelMappingFromConfig(config);
  const { index, failures } = await labelIndex(config);
  for (const scored of results) {
    if (scored.groundTruth) continue;
    const grid = Object.values(scored.maps).find(Boolean);
    if (!grid) continue;
    try {
      const file = index.get(path.resolve(scored.image));
      if (!file) {
        if (failures.length > 0) log.warn(`No ground truth for ${scored.image}: it is in no split that could be listed, and ${failures.join('; ')}`);
        continue;
      }
      const label = await loadLabel(file, mapping);
      scored.groundTruth = resizeNearest(label.anomaly, label.height, label.width, grid.height, grid.width);
    } catch (error) {
      log.warn(`No ground truth for ${scored.image}: ${(error as Error).message}`);
    }
  }
}
