import { HeatError } from '../errors';
import type { MapSummary } from '../api';

/** Minimum, maximum and mean of a map, in float64. NaN values are counted separately, not folded in. */
export function mapStatistics(data: Float32Array): { min: number; max: number; mean: number; nanCount: number } {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let nanCount = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (Number.isNaN(v)) { nanCount++; continue; }
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  const finite = data.length - nanCount;
  return { min, max, mean: finite > 0 ? sum / finite : NaN, nanCount };
}

export function summarizeMap(data: Float32Array, height: number, width: number, shownRange: [number, number]): MapSummary {
  const { min, max, mean } = mapStatistics(data);
  return { shape: [height, width], min, max, mean, shownRange };
}

/**
 * Rejects logits that contain NaN or infinite values, naming the image and the count. Such logits make
 * every score meaningless, and onnxruntime passes them through silently.
 */
export function assertFiniteLogits(logits: Float32Array, image: string, tensorName: string): void {
  let bad = 0;
  let firstIndex = -1;
  for (let i = 0; i < logits.length; i++) {
    if (!Number.isFinite(logits[i])) {
      if (firstIndex < 0) firstIndex = i;
      bad++;
    }
  }
  if (bad > 0) {
    throw new HeatError(
      `${image}: logits tensor ${tensorName} has ${bad} non-finite values (NaN or Inf; first at flat index ${firstIndex}).`,
      'Check the preprocessing settings (heat.model.scale, mean, std) and that heat.model.logitsTensor names the raw logits; the model itself may be producing NaN.',
      image,
    );
  }
}
