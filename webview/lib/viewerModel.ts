/**
 * Pure computations behind the heatmap viewer: tile colouring with a range rule and legend, overlays,
 * threshold masks, weight statistics and the hover readout. No DOM, so unit tests run them in Node.
 */
import type { MapName } from '../../src/core/api';
import {
  ColorMapName, Legend, RangeSpec, classPalette, colorize, colorizeClasses, describeRangeRule, makeLegend, percentileRange, resolveRange,
} from '../../src/core/render/colormap';

/** Score maps in grid order; weights last. Higher = more anomalous for all but the weights. */
export const SCORE_TILES: readonly MapName[] = [
  'energy', 'mahalanobis', 'spatial', 'heat', 'heat-normalized', 'weight-energy', 'weight-mahalanobis', 'weight-spatial',
];

export const TILE_TITLES: Record<string, string> = {
  image: 'Image', prediction: 'Prediction', 'ground-truth': 'Ground truth (anomaly)', mask: 'Threshold mask',
  energy: 'Energy', mahalanobis: 'Mahalanobis', spatial: 'Spatial consistency', heat: 'HEAT', 'heat-normalized': 'HEAT (normalized)',
  'weight-energy': 'Weight: energy', 'weight-mahalanobis': 'Weight: Mahalanobis', 'weight-spatial': 'Weight: spatial',
  'max-softmax': 'Max softmax', 'max-logit': 'Max logit', entropy: 'Entropy',
};

export interface TileRender {
  rgba: Uint8Array;
  legend: Legend;
}

/** Colours one score map: the range comes from the rule, values outside it clamp to the end colours. */
export function renderScoreTile(map: Float32Array, width: number, height: number, range: RangeSpec, colormap: ColorMapName): TileRender {
  const shown = resolveRange(map, range);
  return { rgba: colorize(map, width, height, shown, colormap), legend: makeLegend(map, shown, colormap, describeRangeRule(range)) };
}

/** Prediction coloured by class; the palette keeps a class's colour whatever the class count. */
export function renderPrediction(prediction: ArrayLike<number>, width: number, height: number, classCount: number): Uint8Array {
  return colorizeClasses(prediction, width, height, classPalette(classCount));
}

/** Ground truth: anomaly white, known dark grey, ignore transparent. */
export function renderGroundTruth(gt: Uint8Array): Uint8Array {
  const out = new Uint8Array(gt.length * 4);
  for (let i = 0; i < gt.length; i++) {
    if (gt[i] === 255) continue;
    const v = gt[i] === 1 ? 255 : 48;
    out.set([v, v, v, 255], 4 * i);
  }
  return out;
}

/**
 * Image with a coloured score on top: out = (1 − a)·image + a·score per channel, where a = opacity in
 * 0..1 times the score pixel's own alpha (NaN pixels leave the image visible).
 */
export function blend(image: Uint8Array, score: Uint8Array, opacity: number): Uint8Array {
  const out = new Uint8Array(image.length);
  const a = Math.min(1, Math.max(0, opacity));
  for (let i = 0; i < image.length; i += 4) {
    const w = a * (score[i + 3] / 255);
    out[i] = Math.round((1 - w) * image[i] + w * score[i]);
    out[i + 1] = Math.round((1 - w) * image[i + 1] + w * score[i + 1]);
    out[i + 2] = Math.round((1 - w) * image[i + 2] + w * score[i + 2]);
    out[i + 3] = 255;
  }
  return out;
}

/**
 * Binary mask of score ≥ threshold (the anomaly prediction): above in red, below transparent over black.
 * With ground truth, true positives are white, false positives red and missed anomalies blue.
 */
export function renderMask(map: Float32Array, threshold: number, gt?: Uint8Array): Uint8Array {
  const out = new Uint8Array(map.length * 4);
  for (let i = 0; i < map.length; i++) {
    const above = map[i] >= threshold;
    let rgb: [number, number, number] = above ? [230, 40, 40] : [0, 0, 0];
    if (gt && gt[i] === 1) rgb = above ? [255, 255, 255] : [40, 90, 230];
    if (gt && gt[i] === 255) rgb = above ? [120, 60, 60] : [40, 40, 40];
    out.set([...rgb, 255], 4 * i);
  }
  return out;
}

export interface WeightStats {
  /** Mean of each weight map over finite pixels. */
  mean: Record<'energy' | 'mahalanobis' | 'spatial', number>;
  /** Fraction of pixels where each component has the largest weight (ties go to the first in this order). */
  dominant: Record<'energy' | 'mahalanobis' | 'spatial', number>;
  /** The component dominating more than DOMINANCE_WARNING of pixels, if any. */
  warning?: string;
}

/** One component taking more than this share of pixels makes HEAT effectively a single score. */
export const DOMINANCE_WARNING = 0.9;

const COMPONENTS = ['energy', 'mahalanobis', 'spatial'] as const;

export function weightStats(maps: Partial<Record<MapName, Float32Array>>): WeightStats | undefined {
  const weights = COMPONENTS.map((c) => maps[`weight-${c}` as MapName]);
  const present = weights.find(Boolean);
  if (!present) return undefined;
  const n = present.length;
  const sums = [0, 0, 0];
  const finite = [0, 0, 0];
  const wins = [0, 0, 0];
  let counted = 0;
  for (let i = 0; i < n; i++) {
    let best = -1;
    let bestValue = -Infinity;
    for (let c = 0; c < 3; c++) {
      const v = weights[c]?.[i];
      if (v === undefined || !Number.isFinite(v)) continue;
      sums[c] += v;
      finite[c]++;
      if (v > bestValue) { bestValue = v; best = c; }
    }
    if (best >= 0) { wins[best]++; counted++; }
  }
  const stats: WeightStats = {
    mean: { energy: sums[0] / (finite[0] || 1), mahalanobis: sums[1] / (finite[1] || 1), spatial: sums[2] / (finite[2] || 1) },
    dominant: { energy: wins[0] / (counted || 1), mahalanobis: wins[1] / (counted || 1), spatial: wins[2] / (counted || 1) },
  };
  const top = COMPONENTS.find((c) => stats.dominant[c] > DOMINANCE_WARNING);
  if (top) {
    stats.warning = `The ${top} weight is the largest at ${(100 * stats.dominant[top]).toFixed(1)} % of pixels, so HEAT here is close to the ${top} score alone; check that component's scale and the reliability weights.`;
  }
  return stats;
}

/** Returns every map's value at pixel (x, y) in the given order, or null outside the image. */
export function readout(maps: Partial<Record<string, ArrayLike<number>>>, order: readonly string[], width: number, height: number, x: number, y: number): { name: string; value: number }[] | null {
  if (x < 0 || y < 0 || x >= width || y >= height || !Number.isInteger(x) || !Number.isInteger(y)) return null;
  const index = y * width + x;
  return order.filter((name) => maps[name]).map((name) => ({ name, value: Number(maps[name]![index]) }));
}

/** Formats a map value compactly: 4 significant digits, NaN spelled out. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+∞' : '−∞';
  return Math.abs(value) >= 1e4 || (Math.abs(value) < 1e-3 && value !== 0) ? value.toExponential(3) : value.toPrecision(4);
}

/** Starting threshold of a map and its source. */
export interface StartingThreshold {
  value: number;
  source: 'validation' | 'fixed range' | '99th percentile';
}

/**
 * Chooses the threshold a map's slider starts at. The F1-optimal threshold of the last evaluation's validation
 * split comes first, when there is one for this map. Next is the upper end of a fixed range the user set for the
 * tile. Otherwise it is the map's 99th percentile, which flags about 1 % of the pixels.
 */
export function startingThreshold(map: ArrayLike<number>, validation?: number, fixedHigh?: number): StartingThreshold {
  if (validation !== undefined && Number.isFinite(validation)) return { value: validation, source: 'validation' };
  if (fixedHigh !== undefined && Number.isFinite(fixedHigh)) return { value: fixedHigh, source: 'fixed range' };
  return { value: percentileRange(map, 1, 99)[1], source: '99th percentile' };
}

/** Position 0–`steps` of a range slider over [low, high] for `value`, clamped to the ends. */
export function sliderPosition(value: number, low: number, high: number, steps = 1000): number {
  if (!(high > low)) return steps;
  return Math.min(steps, Math.max(0, Math.round((steps * (value - low)) / (high - low))));
}
