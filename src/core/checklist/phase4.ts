/**
 * Phase 4 — spatial consistency. The head's `spatial` map is the anomaly score −S = KL(p ‖ avgpool_k(p))
 * (or the summed neighbourhood variance), higher = more anomalous = less consistent.
 * Bounds: q = avgpool_k(p) averages at most k² cells including the pixel itself, so q_c ≥ p_c / k² and
 * KL(p ‖ q) ≤ ln(k²); the summed variance Σ_c Var(p_c) ≤ Σ_c E[p_c²] ≤ 1. Both are ≥ 0 up to rounding.
 */
import { get } from '../config';
import type { LabelImage } from '../data';
import { resizeBilinear } from '../pipeline/resize';
import type { UniformSpatialProbe } from './measure';
import { fail, num, pass, skip, warn, type CheckDefinition, type CheckOutcome } from './types';

export interface SpatialMapInput {
  map: Float32Array;
  height: number;
  width: number;
  label?: LabelImage;
}

const PADDING_FIX = { description: 'Average only the cells inside the image (count_include_pad = false).', setting: 'heat.score.padding', value: 'exclude' };

/** Judges that a spatial map exists for every image, at the map size, with finite values. */
export function judgeSpatialComputed(maps: readonly SpatialMapInput[], imagesScored: number): CheckOutcome {
  if (maps.length === 0) return fail(`None of ${imagesScored} scored images produced a spatial consistency map.`, { settings: ['heat.score.components'] });
  let pixels = 0;
  let nonFinite = 0;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const { map } of maps) {
    for (let i = 0; i < map.length; i++) {
      pixels++;
      if (!Number.isFinite(map[i])) { nonFinite++; continue; }
      min = Math.min(min, map[i]);
      max = Math.max(max, map[i]);
      sum += map[i];
    }
  }
  const evidence = `${maps.length} of ${imagesScored} images have a ${maps[0].height}×${maps[0].width} spatial map; ${pixels} values`;
  if (nonFinite > 0) return fail(`${evidence}, ${nonFinite} NaN or infinite.`);
  if (maps.length < imagesScored) return warn(`${evidence}; the others have none.`);
  return pass(`${evidence}, all finite: min ${num(min)}, max ${num(max)}, mean ${num(sum / pixels)}.`);
}

/** Judges that anomaly pixels score higher (are less consistent) than known pixels, from labelled images. */
export function judgeAnomalyConsistency(maps: readonly SpatialMapInput[]): CheckOutcome {
  let anomalySum = 0;
  let anomalyCount = 0;
  let knownSum = 0;
  let knownCount = 0;
  let images = 0;
  for (const { map, height, width, label } of maps) {
    if (!label || label.counts.anomaly === 0) continue;
    images++;
    const resized = resizeBilinear(map, height, width, label.height, label.width);
    for (let i = 0; i < resized.length; i++) {
      const v = resized[i];
      if (!Number.isFinite(v)) continue;
      if (label.anomaly[i] === 1) { anomalySum += v; anomalyCount++; } else if (label.anomaly[i] === 0) { knownSum += v; knownCount++; }
    }
  }
  if (images === 0 || anomalyCount === 0 || knownCount === 0) {
    return skip('None of the sampled images has labelled anomaly and known pixels.', { settings: ['heat.data.val.labels', 'heat.labels.anomaly'] });
  }
  const anomaly = anomalySum / anomalyCount;
  const known = knownSum / knownCount;
  const evidence = `Mean spatial anomaly score ${num(anomaly)} on ${anomalyCount} anomaly pixels vs ${num(known)} on ${knownCount} known pixels over ${images} labelled images`;
  if (anomaly > known) return pass(`${evidence}: anomalies are less consistent (ratio ${num(anomaly / Math.max(known, 1e-12))}).`);
  return warn(`${evidence}: anomalies are not less consistent here; try a larger neighbourhood.`, { settings: ['heat.score.kernelSize', 'heat.score.spatialMethod'] });
}

/** Mean of `map` on its 1-pixel border and on the interior, over known pixels when a label is given. */
export function borderInterior(input: SpatialMapInput): { border: number; interior: number; borderCount: number; interiorCount: number } {
  const { map, height, width, label } = input;
  const known = label ? resizeNearestMask(label, height, width) : undefined;
  let border = 0;
  let interior = 0;
  let borderCount = 0;
  let interiorCount = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (known && !known[i]) continue;
      const v = map[i];
      if (!Number.isFinite(v)) continue;
      if (y === 0 || x === 0 || y === height - 1 || x === width - 1) { border += v; borderCount++; } else { interior += v; interiorCount++; }
    }
  }
  return { border: border / Math.max(1, borderCount), interior: interior / Math.max(1, interiorCount), borderCount, interiorCount };
}

/** Known-pixel mask (label value 0) sampled at map resolution by nearest neighbour. */
function resizeNearestMask(label: LabelImage, height: number, width: number): Uint8Array {
  const out = new Uint8Array(height * width);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(label.height - 1, Math.floor(((y + 0.5) * label.height) / height));
    for (let x = 0; x < width; x++) {
      const sx = Math.min(label.width - 1, Math.floor(((x + 0.5) * label.width) / width));
      out[y * width + x] = label.anomaly[sy * label.width + sx] === 0 ? 1 : 0;
    }
  }
  return out;
}

/** Score on a uniform map above which the border is biased. The exact score is 0, and zero padding gives 0.405 to 0.811 for k = 3. */
export const UNIFORM_BIAS = 1e-3;

/**
 * Judges edge effects. The configured spatial head must give 0 at every cell of a uniform map, border
 * included. On real images the 1-pixel border mean is reported beside the interior mean (known pixels only).
 */
export function judgeEdgeEffects(uniform: UniformSpatialProbe, images: readonly SpatialMapInput[], padding: string): CheckOutcome {
  let corner = 0;
  let uniformMax = 0;
  for (let i = 0; i < uniform.map.length; i++) uniformMax = Math.max(uniformMax, Math.abs(uniform.map[i]));
  corner = uniform.map[0];
  let border = 0;
  let interior = 0;
  let counted = 0;
  for (const image of images) {
    const b = borderInterior(image);
    if (b.borderCount === 0 || b.interiorCount === 0) continue;
    border += b.border;
    interior += b.interior;
    counted++;
  }
  const real = counted > 0
    ? `; on ${counted} images the border mean is ${num(border / counted)} vs interior ${num(interior / counted)} (×${num(border / Math.max(interior, 1e-12))})`
    : '';
  const evidence = `With padding "${padding}" a uniform map scores up to ${num(uniformMax)} (corner ${num(corner)}; exact value 0)${real}`;
  if (uniformMax > UNIFORM_BIAS) return warn(`${evidence}: padded cells bias the border.`, { fix: PADDING_FIX });
  return pass(`${evidence}.`);
}

/** Judges the range: ≥ 0 up to float rounding, and below ln(k²) for KL or 1 for the variance form. */
export function judgeSpatialRange(maps: readonly SpatialMapInput[], method: string, kernelSize: number): CheckOutcome {
  if (maps.length === 0) return skip('No spatial map was produced.');
  const upper = method === 'kl' ? Math.log(kernelSize * kernelSize) : 1;
  const noise = 1e-5;
  let min = Infinity;
  let max = -Infinity;
  for (const { map } of maps) for (let i = 0; i < map.length; i++) if (Number.isFinite(map[i])) { min = Math.min(min, map[i]); max = Math.max(max, map[i]); }
  const bound = method === 'kl' ? `ln(k²) = ${num(upper)}` : '1';
  const evidence = `Spatial scores (${method}, k = ${kernelSize}) range from ${num(min)} to ${num(max)} over ${maps.length} images; allowed 0 to ${bound}, with float32 rounding down to −${num(noise)}`;
  if (min < -noise) return fail(`${evidence}; negative values mean the sign of S is flipped or the divergence is wrong.`);
  if (max > upper + 1e-4) return fail(`${evidence}; values above the bound mean the neighbourhood average is wrong.`, { fix: PADDING_FIX });
  return pass(`${evidence}.`);
}

async function spatialMaps(m: Parameters<CheckDefinition['run']>[0]): Promise<{ maps: SpatialMapInput[]; scored: number }> {
  const { runs } = await m.sessionRuns();
  const maps = runs.filter((r) => r.run.maps.has('spatial')).map((r) => ({
    map: r.run.maps.get('spatial') as Float32Array, height: r.run.height, width: r.run.width, label: r.label,
  }));
  return { maps, scored: runs.length };
}

export const PHASE4_CHECKS: CheckDefinition[] = [
  {
    id: 'phase4.spatial-computed', phase: 4,
    title: 'Spatial consistency map is computed for every image',
    settings: ['heat.score.spatialMethod', 'heat.score.kernelSize'],
    async run(m) {
      const { maps, scored } = await spatialMaps(m);
      return judgeSpatialComputed(maps, scored);
    },
  },
  {
    id: 'phase4.anomaly-lower-consistency', phase: 4,
    title: 'Anomaly pixels have lower spatial consistency than known pixels',
    settings: ['heat.score.kernelSize', 'heat.score.spatialMethod'],
    async run(m) {
      return judgeAnomalyConsistency((await spatialMaps(m)).maps);
    },
  },
  {
    id: 'phase4.padding-edge', phase: 4,
    title: 'Border cells are not biased by padding (edge effects)',
    settings: ['heat.score.padding', 'heat.score.kernelSize'],
    async run(m) {
      const uniform = await m.uniformSpatialProbe();
      let images: SpatialMapInput[] = [];
      try { images = (await spatialMaps(m)).maps; } catch { /* the uniform probe alone decides */ }
      return judgeEdgeEffects(uniform, images, get<string>(m.config, 'heat.score.padding'));
    },
  },
  {
    id: 'phase4.range', phase: 4,
    title: 'Spatial scores stay in their range (KL at least 0, at most ln k²)',
    settings: ['heat.score.spatialMethod', 'heat.score.kernelSize'],
    async run(m) {
      return judgeSpatialRange((await spatialMaps(m)).maps, get<string>(m.config, 'heat.score.spatialMethod'), get<number>(m.config, 'heat.score.kernelSize'));
    },
  },
];
