/**
 * Colour maps and colouring of score maps. Pure TypeScript without Node imports, so the webview bundle
 * uses the same lookup tables as the PNG writer.
 *
 * Orientation: a colour map runs from its lowest colour (shown range's low end) to its highest (high end);
 * for score maps higher = more anomalous, so anomalies get the bright end of viridis, inferno and turbo.
 */

export type ColorMapName = 'viridis' | 'inferno' | 'turbo' | 'gray';
export const COLOR_MAP_NAMES: readonly ColorMapName[] = ['viridis', 'inferno', 'turbo', 'gray'];

/**
 * Every 5th entry (0, 5, …, 255) of the 256-entry tables as published in matplotlib (viridis and inferno by
 * van der Walt and Smith, CC0; turbo by Mikhailov, Google, Apache-2.0), as hex RGB. Linear interpolation
 * between these 52 control points reproduces every entry of the full tables within 1/255 per channel
 * (checked against matplotlib's tables in test/render/colormap.test.ts).
 */
const CONTROL_POINTS: Record<Exclude<ColorMapName, 'gray'>, string> = {
  viridis:
    '44015446085c471063481769481d6f482475472a7a46307e453781433d844142873f48893d4e8a3a538b38598c355e8d' +
    '33638d31688e2e6d8e2c718e2a768e297b8e27808e25848e23898e218e8d20928c1f978b1e9c891fa18821a58524aa83' +
    '28ae802eb37c35b7793dbc7446c06f50c46a5ac86465cb5e70cf577cd25089d54895d840a2da37b0dd2fbddf26cae11f' +
    'd8e219e5e419f1e51dfde725',
  inferno:
    '00000402020c0504170a072210092d160b391e0c45260c512f0a5b380962400a67490b6a510e6c59106e61136e69166e' +
    '71196e781c6d801f6c88226a902568982766a02a63a82e5fb0315bb73557bf3952c63d4dcc4248d34743d94d3ddf5337' +
    'e45a31e9612bed6925f1711ff47918f78212f98b0bfa9407fb9d07fca60cfcb014fbba1ffac42af8cd37f6d746f4e156' +
    'f2ea69f2f27df5f992fcffa4',
  turbo:
    '30123b36215f3b2f803f3e9c424bb54559cb4666dd4773eb4680f6458cfd4099ff38a5fb2fb2f427bee91fc9dd1ad4d0' +
    '18ddc21ae4b622ebaa2ff19b3ff68a52fa7a65fd6979fe598bff4b9cfe40a9fb39b7f735c3f134d0ea34dbe236e5d938' +
    'eecf3af5c53afaba39fdae35fea130fe932afc8423f9751df46617ef5811e84b0ce14109d83706ce2d04c32503b71d02' +
    'a916019b0f018b09027a0403',
};
const CONTROL_STEP = 5;

const lutCache = new Map<ColorMapName, Uint8Array>();

/** Returns the 256-entry lookup table of a colour map: 256 × RGB bytes, entry 0 the lowest colour. */
export function colorMapLut(name: ColorMapName): Uint8Array {
  let lut = lutCache.get(name);
  if (!lut) {
    lut = name === 'gray' ? greyLut() : interpolateLut(CONTROL_POINTS[name]);
    lutCache.set(name, lut);
  }
  return lut;
}

function greyLut(): Uint8Array {
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) lut.fill(i, 3 * i, 3 * i + 3);
  return lut;
}

function interpolateLut(hex: string): Uint8Array {
  const points = hex.length / 6;
  const control = new Float64Array(points * 3);
  for (let i = 0; i < points * 3; i++) control[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);

  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const k = Math.min(Math.floor(i / CONTROL_STEP), points - 2);
    const f = (i - k * CONTROL_STEP) / CONTROL_STEP;
    for (let c = 0; c < 3; c++) {
      lut[3 * i + c] = Math.round(control[3 * k + c] * (1 - f) + control[3 * (k + 1) + c] * f);
    }
  }
  return lut;
}

/** A shown range [low, high]: values at or below low get the lowest colour, at or above high the highest. */
export type Range = readonly [number, number];

/**
 * Colours a score map. Values are CLAMPED to the shown range, never wrapped (with range [0, 1],
 * −0.5 gets the lowest colour and 1.5 the highest). The entry is floor((v − low) / (high − low) · 256),
 * clamped to 0..255, as matplotlib indexes its tables. NaN pixels are transparent (alpha 0); ±Infinity clamp
 * like any other value. A range with high ≤ low shows values ≤ low in the lowest colour and the rest in the
 * highest. Returns width · height · 4 RGBA bytes.
 */
export function colorize(map: ArrayLike<number>, width: number, height: number, range: Range, colormap: ColorMapName): Uint8Array {
  checkSize(map.length, width, height);
  const lut = colorMapLut(colormap);
  const [low, high] = range;
  const scale = high > low ? 256 / (high - low) : 0;
  const out = new Uint8Array(width * height * 4);
  for (let i = 0; i < map.length; i++) {
    const v = map[i];
    if (Number.isNaN(v)) continue;
    let index: number;
    if (v <= low) index = 0;
    else if (v >= high) index = 255;
    else index = Math.min(255, Math.floor((v - low) * scale));
    out[4 * i] = lut[3 * index];
    out[4 * i + 1] = lut[3 * index + 1];
    out[4 * i + 2] = lut[3 * index + 2];
    out[4 * i + 3] = 255;
  }
  return out;
}

function checkSize(length: number, width: number, height: number): void {
  if (length !== width * height) throw new Error(`Map has ${length} values but ${width}x${height} = ${width * height} were expected`);
}

/** Rule choosing the shown range. */
export type RangeSpec =
  | { mode: 'minmax' }
  | { mode: 'percentile'; low?: number; high?: number }
  | { mode: 'fixed'; low: number; high: number };

export interface FiniteStats {
  /** Smallest and largest finite value; null when the map has none. */
  min: number | null;
  max: number | null;
  mean: number | null;
  finite: number;
  /** NaN and ±Infinity values, which ranges and means leave out. */
  nonFinite: number;
}

export function finiteStats(map: ArrayLike<number>): FiniteStats {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let finite = 0;
  for (let i = 0; i < map.length; i++) {
    const v = map[i];
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    finite++;
  }
  if (finite === 0) return { min: null, max: null, mean: null, finite, nonFinite: map.length };
  return { min, max, mean: sum / finite, finite, nonFinite: map.length - finite };
}

/**
 * Returns the low and high percentiles of the finite values, with linear interpolation between order
 * statistics (numpy's default method): position p/100 · (n − 1) in the sorted values. Percentiles in 0..100.
 * Uses selection instead of a full sort, so a 1280 × 720 map takes a few milliseconds.
 */
export function percentileRange(map: ArrayLike<number>, low = 1, high = 99): [number, number] {
  if (!(low >= 0 && high <= 100 && low <= high)) throw new Error(`Percentiles must satisfy 0 <= low <= high <= 100, got ${low} and ${high}`);
  const values = new Float64Array(map.length);
  let n = 0;
  for (let i = 0; i < map.length; i++) if (Number.isFinite(map[i])) values[n++] = map[i];
  if (n === 0) return [0, 1];
  const finite = values.subarray(0, n);
  return [interpolatedAt(finite, low), interpolatedAt(finite, high)];
}

/** Returns the p-th percentile of `values` (reordered in place) by linear interpolation between order statistics. */
function interpolatedAt(values: Float64Array, percentile: number): number {
  const position = (percentile / 100) * (values.length - 1);
  const below = Math.floor(position);
  selectKth(values, below);
  const lower = values[below];
  if (below + 1 >= values.length || position === below) return lower;

  // After selection every value right of `below` is >= lower, so the next order statistic is their minimum.
  let upper = Infinity;
  for (let i = below + 1; i < values.length; i++) if (values[i] < upper) upper = values[i];
  return lower + (upper - lower) * (position - below);
}

/**
 * Reorders `values` so that values[k] is the k-th smallest, with no larger value left of it and no smaller
 * value right of it (Hoare's selection with a median-of-three pivot).
 */
function selectKth(values: Float64Array, k: number): void {
  let left = 0;
  let right = values.length - 1;
  while (right > left) {
    const a = values[left];
    const b = values[(left + right) >> 1];
    const c = values[right];
    const pivot = Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
    let i = left;
    let j = right;
    while (i <= j) {
      while (values[i] < pivot) i++;
      while (values[j] > pivot) j--;
      if (i <= j) {
        const t = values[i];
        values[i] = values[j];
        values[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else return;
  }
}

/** Returns the shown range for a map under a range rule. A map without finite values gets [0, 1]. */
export function resolveRange(map: ArrayLike<number>, spec: RangeSpec): [number, number] {
  switch (spec.mode) {
    case 'fixed':
      return [spec.low, spec.high];
    case 'percentile':
      return percentileRange(map, spec.low ?? 1, spec.high ?? 99);
    case 'minmax': {
      const { min, max } = finiteStats(map);
      return min === null || max === null ? [0, 1] : [min, max];
    }
  }
}

/** Colour bar description: the real data extent next to the clamped range it is coloured with. */
export interface Legend {
  colormap: ColorMapName;
  /** Real smallest and largest finite value of the map; null when it has none. */
  min: number | null;
  max: number | null;
  shownRange: [number, number];
  /** Rule that chose shownRange: "minmax", "percentile 1-99" or "fixed". */
  rangeRule: string;
  /** Pixels below and above the shown range, drawn in the end colours. */
  belowRange: number;
  aboveRange: number;
  /** NaN and ±Infinity pixels; NaN is drawn transparent. */
  nonFinite: number;
}

export function describeRangeRule(spec: RangeSpec): string {
  return spec.mode === 'percentile' ? `percentile ${spec.low ?? 1}-${spec.high ?? 99}` : spec.mode;
}

export function makeLegend(map: ArrayLike<number>, shownRange: Range, colormap: ColorMapName, rangeRule = 'fixed'): Legend {
  const stats = finiteStats(map);
  let belowRange = 0;
  let aboveRange = 0;
  for (let i = 0; i < map.length; i++) {
    const v = map[i];
    if (v < shownRange[0]) belowRange++;
    else if (v > shownRange[1]) aboveRange++;
  }
  return { colormap, min: stats.min, max: stats.max, shownRange: [shownRange[0], shownRange[1]], rangeRule, belowRange, aboveRange, nonFinite: stats.nonFinite };
}

/**
 * StreetHazards' class colours (its CARLA palette: unlabeled, building, fence, other, pedestrian, pole,
 * road line, road, sidewalk, vegetation, car, wall, traffic sign, anomaly), used for up to 14 classes.
 */
const STREETHAZARDS_RGB: readonly (readonly [number, number, number])[] = [
  [0, 0, 0], [70, 70, 70], [190, 153, 153], [250, 170, 160], [220, 20, 60], [153, 153, 153], [157, 234, 50],
  [128, 64, 128], [244, 35, 232], [107, 142, 35], [0, 0, 142], [102, 102, 156], [220, 220, 0], [60, 250, 240],
];

/**
 * Returns class colours for predictions: classCount × RGB bytes. The first 14 classes take the
 * StreetHazards palette. Each further class takes the colour of a 16-level RGB grid farthest (Euclidean)
 * from every colour already chosen, ties going to the first grid entry. A class keeps its colour whatever the class count, and any
 * two classes stay visibly apart.
 */
export function classPalette(classCount: number): Uint8Array {
  const palette = new Uint8Array(classCount * 3);
  const fixed = Math.min(classCount, STREETHAZARDS_RGB.length);
  for (let c = 0; c < fixed; c++) palette.set(STREETHAZARDS_RGB[c], 3 * c);
  if (classCount <= fixed) return palette;

  const levels = 16;
  const step = 255 / (levels - 1);
  const candidates = levels ** 3;
  const nearest = new Float64Array(candidates).fill(Infinity);
  const grid = (k: number, channel: number): number => Math.round(Math.floor(k / levels ** channel) % levels * step);
  const update = (r: number, g: number, b: number): void => {
    for (let k = 0; k < candidates; k++) {
      const d = (grid(k, 2) - r) ** 2 + (grid(k, 1) - g) ** 2 + (grid(k, 0) - b) ** 2;
      if (d < nearest[k]) nearest[k] = d;
    }
  };
  for (let c = 0; c < fixed; c++) update(palette[3 * c], palette[3 * c + 1], palette[3 * c + 2]);

  for (let c = fixed; c < classCount; c++) {
    let best = 0;
    for (let k = 1; k < candidates; k++) if (nearest[k] > nearest[best]) best = k;
    const rgb = [grid(best, 2), grid(best, 1), grid(best, 0)] as const;
    palette.set(rgb, 3 * c);
    update(...rgb);
  }
  return palette;
}

/**
 * Colours a class-id map (a prediction, or a label's values) with a palette; ids outside the palette,
 * such as the void value 255, are transparent. Returns width · height · 4 RGBA bytes.
 */
export function colorizeClasses(classes: ArrayLike<number>, width: number, height: number, palette: Uint8Array): Uint8Array {
  checkSize(classes.length, width, height);
  const classCount = palette.length / 3;
  const out = new Uint8Array(width * height * 4);
  for (let i = 0; i < classes.length; i++) {
    const c = classes[i];
    if (!(c >= 0 && c < classCount) || c !== Math.floor(c)) continue;
    out[4 * i] = palette[3 * c];
    out[4 * i + 1] = palette[3 * c + 1];
    out[4 * i + 2] = palette[3 * c + 2];
    out[4 * i + 3] = 255;
  }
  return out;
}
