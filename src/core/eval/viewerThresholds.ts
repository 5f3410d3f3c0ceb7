/**
 * Validation thresholds of an evaluation by the score map they apply to, so that the heatmap viewer's threshold
 * slider can start where the evaluation put it. No onnxruntime import: the extension host reads this.
 */
import type { MapName, MethodMetrics } from '../api';

/** Viewer map of each evaluated method whose scores are one, by the method's name in reports. */
export const METHOD_MAPS: Readonly<Record<string, MapName>> = {
  HEAT: 'heat-normalized',
  'HEAT (before normalization)': 'heat',
  Energy: 'energy',
  Mahalanobis: 'mahalanobis',
  'Spatial consistency': 'spatial',
};

/** Returns the F1-optimal thresholds chosen on the validation split, by map; methods without one are left out. */
export function validationThresholds(methods: readonly MethodMetrics[]): Partial<Record<MapName, number>> {
  const thresholds: Partial<Record<MapName, number>> = {};
  for (const m of methods) {
    const map = METHOD_MAPS[m.method];
    if (map && m.threshold?.source === 'validation' && Number.isFinite(m.threshold.value)) thresholds[map] = m.threshold.value;
  }
  return thresholds;
}
