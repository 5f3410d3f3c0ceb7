import sharp from 'sharp';
import { writeFileAtomic } from '../fsutil';
import {
  classPalette, colorize, colorizeClasses, describeRangeRule, makeLegend, resolveRange,
  type ColorMapName, type Legend, type RangeSpec,
} from './colormap';

/** Encodes RGBA bytes (width · height · 4) as a PNG and writes it atomically (temporary file, then rename). */
export async function writeRgbaPng(file: string, rgba: Uint8Array, width: number, height: number): Promise<void> {
  if (rgba.length !== width * height * 4) throw new Error(`RGBA buffer has ${rgba.length} bytes but ${width}x${height}x4 = ${width * height * 4} were expected`);
  const png = await sharp(rgba, { raw: { width, height, channels: 4 } }).png().toBuffer();
  await writeFileAtomic(file, png);
}

export interface MapPngOptions {
  colormap?: ColorMapName;
  /** Shown range rule, or the range itself; default: the 1st to 99th percentile. */
  range?: RangeSpec | readonly [number, number];
}

/**
 * Writes a score map as a colour PNG, clamped to the shown range, and returns the legend: the
 * map's real minimum and maximum beside the range it was drawn with.
 */
export async function writeMapPng(file: string, map: Float32Array, width: number, height: number, options: MapPngOptions = {}): Promise<Legend> {
  const colormap = options.colormap ?? 'viridis';
  const spec: RangeSpec = Array.isArray(options.range)
    ? { mode: 'fixed', low: options.range[0], high: options.range[1] }
    : (options.range as RangeSpec | undefined) ?? { mode: 'percentile', low: 1, high: 99 };
  const shownRange = resolveRange(map, spec);
  await writeRgbaPng(file, colorize(map, width, height, shownRange, colormap), width, height);
  return makeLegend(map, shownRange, colormap, describeRangeRule(spec));
}

/** Writes a class-id map (argmax prediction) in class colours; ids outside the palette are transparent. */
export async function writeClassPng(file: string, classes: ArrayLike<number>, width: number, height: number, classCount: number): Promise<void> {
  await writeRgbaPng(file, colorizeClasses(classes, width, height, classPalette(classCount)), width, height);
}
