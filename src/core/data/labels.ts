import { promises as fs } from 'node:fs';
import sharp from 'sharp';
import { get, settingSpec, type HeatConfig } from '../config';
import { HeatError } from '../errors';
import { decodePngSamplesAsync, isPng, type PngSamples } from './png';
import { presetByName, type DatasetPreset } from './presets';

/**
 * Label decoding and mapping.
 *
 * An on-disk label value v becomes a class id in three steps, in this order:
 *   1. v + offset                      (heat.labels.offset; StreetHazards stores 1..14 and needs −1)
 *   2. map[v + offset] ?? v + offset   (heat.labels.map, {"from": to})
 *   3. the result r is void when r ∈ ignore, anomaly when r ∈ anomaly, otherwise a known class id,
 *      which must lie in 0..classCount−1 when the class count is known.
 * Void pixels are stored as 255 in both output arrays, so a known class id must lie in 0..254. An anomaly
 * value above 254 (a 0/255 mask) is allowed and keeps 255 in `values`, 1 in `anomaly`.
 */

/** Value written for void pixels in `LabelImage.values` and `LabelImage.anomaly`. */
export const IGNORE = 255;

export interface LabelMapping {
  offset: number;
  /** Applied after the offset. */
  map: ReadonlyMap<number, number>;
  anomaly: readonly number[];
  ignore: readonly number[];
  /** Known class ids are 0..classCount−1; undefined accepts any id in 0..254. */
  classCount?: number;
  /** Void values listed by the user in heat.labels.ignore (not by a preset); LabelAudit reports their pixel counts. */
  userIgnore?: readonly number[];
  /** Origin of the mapping, for messages: "preset streethazards", "settings". */
  source: string;
}

export interface LabelCounts {
  known: number;
  anomaly: number;
  ignored: number;
  /** Pixels per class id after mapping (known and anomaly ids; void pixels are not listed). */
  byClass: Map<number, number>;
  /** Void pixels per on-disk value. */
  ignoredByDiskValue: Map<number, number>;
}

export interface LabelImage {
  /** Class id per pixel after offset and map, 255 = void (and anomaly values above 254). Row-major, width × height. */
  values: Uint8Array;
  /** 1 = anomaly, 0 = known, 255 = void. */
  anomaly: Uint8Array;
  width: number;
  height: number;
  counts: LabelCounts;
}

export interface ExpectedSize {
  width: number;
  height: number;
  /** The image the label belongs to, named in a size-mismatch error. */
  image?: string;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Returns a setting's value when it differs from its built-in default, else the preset's value (see presets.ts). */
function settingOrPreset<T>(config: HeatConfig, key: string, presetValue: T): T {
  const value = get<T>(config, key);
  return sameJson(value, settingSpec(key)?.default) ? presetValue : value;
}

function parseMap(raw: Record<string, unknown>): Map<number, number> {
  const map = new Map<number, number>();
  for (const [from, to] of Object.entries(raw)) {
    const key = Number(from);
    if (!/^-?\d+$/.test(from.trim()) || !Number.isInteger(to)) {
      throw new HeatError(`Invalid entry ${JSON.stringify(from)}: ${JSON.stringify(to)} in heat.labels.map.`,
        'Use integer label values as keys and integer values, for example {"11": 255, "8": 7}.', 'heat.labels.map');
    }
    map.set(key, to as number);
  }
  return map;
}

/**
 * Returns the label mapping in effect: the dataset preset's values, overridden by `heat.labels.*` settings
 * that differ from their defaults. `classCount` (the model's class count, when known) wins over the length of
 * `heat.model.classNames`, which wins over the preset's own class count.
 */
export function labelMappingFromConfig(config: HeatConfig, classCount?: number): LabelMapping {
  const preset = presetByName(get<string>(config, 'heat.data.preset'));
  const offset = settingOrPreset(config, 'heat.labels.offset', preset.mapping.offset);
  const map = settingOrPreset<Record<string, unknown>>(config, 'heat.labels.map', preset.mapping.map);
  const anomaly = settingOrPreset(config, 'heat.labels.anomaly', preset.mapping.anomaly);
  const ignore = settingOrPreset(config, 'heat.labels.ignore', preset.mapping.ignore);
  const classNames = get<string[]>(config, 'heat.model.classNames');
  const overridden = ['heat.labels.offset', 'heat.labels.map', 'heat.labels.anomaly', 'heat.labels.ignore']
    .filter((key) => !sameJson(get(config, key), settingSpec(key)?.default));
  const source = preset.name === 'generic' ? 'settings'
    : `preset ${preset.name}${overridden.length ? ` with ${overridden.join(', ')} from settings` : ''}`;
  return {
    offset,
    map: parseMap(map),
    anomaly,
    ignore,
    userIgnore: overridden.includes('heat.labels.ignore') ? ignore : [],
    classCount: classCount ?? (classNames.length > 0 ? classNames.length : preset.classCount),
    source,
  };
}

/** Returns the preset selected by `heat.data.preset`. */
export function presetOf(config: HeatConfig): DatasetPreset {
  return presetByName(get<string>(config, 'heat.data.preset'));
}

/** Grey or palette-index samples of a label file, one per pixel, as stored on disk. */
export interface LabelSamples {
  width: number;
  height: number;
  /** 8-bit files give Uint8Array, 16-bit PNGs Uint16Array. */
  data: Uint8Array | Uint16Array;
}

/**
 * Reads a label file's stored values. PNGs are decoded here (palette indices and 16-bit values kept, see
 * png.ts); other formats go through sharp as 8-bit. Colour images are accepted only when every pixel is
 * grey (R = G = B), since colour-coded labels need a palette lookup this product does not guess.
 */
export async function readLabelSamples(file: string): Promise<LabelSamples> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (error) {
    throw new HeatError(`Cannot read label file ${file}: ${(error as Error).message}.`, 'Check the path and permissions.', file);
  }

  let samples: PngSamples;
  try {
    samples = isPng(bytes) ? await decodePngSamplesAsync(bytes) : await decodeWithSharp(bytes);
  } catch (error) {
    throw new HeatError(`Cannot decode label file ${file}: ${(error as Error).message}.`,
      'Labels must be readable single-channel PNG images (8- or 16-bit greyscale, or palette); re-export the file.', file);
  }
  return { width: samples.width, height: samples.height, data: firstChannelIfGrey(samples, file) };
}

// NOTE: non-PNG labels (TIFF, WebP) go through sharp as 8-bit, so 16-bit TIFF values arrive rescaled
// to 0..255, and lossy formats such as JPEG blur class boundaries. Convert such labels to PNG.
async function decodeWithSharp(bytes: Buffer): Promise<PngSamples> {
  const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, bitDepth: 8, colorType: info.channels >= 3 ? 2 : 0, channels: info.channels, data: new Uint8Array(data) };
}

/** Keeps the first sample of each pixel; colour channels must agree, and alpha is dropped. */
function firstChannelIfGrey(samples: PngSamples, file: string): Uint8Array | Uint16Array {
  const { channels, data } = samples;
  if (channels === 1) return data;
  const pixels = samples.width * samples.height;
  const out = data instanceof Uint16Array ? new Uint16Array(pixels) : new Uint8Array(pixels);
  const colourChannels = channels >= 3 ? 3 : 1;
  for (let i = 0; i < pixels; i++) {
    const base = i * channels;
    const v = data[base];
    for (let c = 1; c < colourChannels; c++) {
      if (data[base + c] !== v) {
        const x = i % samples.width;
        const y = Math.floor(i / samples.width);
        throw new HeatError(`Label file ${file} is a colour image (pixel x=${x}, y=${y} is RGB ${data[base]},${data[base + 1]},${data[base + 2]}).`,
          'Labels must hold class indices: save them as greyscale or palette PNGs (for Cityscapes use the *_labelTrainIds.png files).', file);
      }
    }
    out[i] = v;
  }
  return out;
}

/** Meaning of one on-disk value under a mapping, with its value after offset and map. */
export interface MappedValue {
  kind: 'known' | 'anomaly' | 'void' | 'outside';
  mapped: number;
}

/** Returns a function giving each on-disk value's meaning under `mapping` (see the steps at the top). */
export function valueClassifier(mapping: LabelMapping): (disk: number) => MappedValue {
  const ignore = new Set(mapping.ignore);
  const anomaly = new Set(mapping.anomaly);
  const knownLimit = mapping.classCount ?? IGNORE;
  return (disk) => {
    const shifted = disk + mapping.offset;
    const mapped = mapping.map.get(shifted) ?? shifted;
    if (ignore.has(mapped)) return { kind: 'void', mapped };
    if (anomaly.has(mapped) && mapped >= 0) return { kind: 'anomaly', mapped };
    if (mapped < 0 || mapped >= IGNORE) return { kind: 'outside', mapped };
    return { kind: mapped < knownLimit ? 'known' : 'outside', mapped };
  };
}

/**
 * Throws when on-disk values fall outside the known set, which is the known classes 0..classCount−1 plus
 * the anomaly and void values. `diskValueCounts` maps on-disk value to pixel count. The error names each
 * value, its value after offset and map, its pixel count, and the settings that fix it.
 */
export function checkKnownClasses(diskValueCounts: ReadonlyMap<number, number>, mapping: LabelMapping, subject: string): void {
  const classify = valueClassifier(mapping);
  const outside = [...diskValueCounts]
    .filter(([, pixels]) => pixels > 0)
    .map(([disk, pixels]) => ({ disk, pixels, ...classify(disk) }))
    .filter((v) => v.kind === 'outside')
    .sort((a, b) => a.disk - b.disk);
  if (outside.length === 0) return;

  const known = `0..${(mapping.classCount ?? IGNORE) - 1}`;
  const listed = outside.slice(0, 8).map(({ disk, mapped, pixels }) =>
    `${disk}${mapped !== disk ? ` (${mapped} after offset/map)` : ''}: ${pixels} pixels`).join(', ');
  const more = outside.length > 8 ? ` and ${outside.length - 8} more values` : '';
  const example = outside[0].mapped;
  throw new HeatError(
    `Label file ${subject} has values outside the known classes ${known} (anomaly ${JSON.stringify(mapping.anomaly)}, void ${JSON.stringify(mapping.ignore)}, mapping from ${mapping.source}): ${listed}${more}.`,
    `Map them to a known class with heat.labels.map (for example {"${example}": 0}), or list them in heat.labels.ignore to leave them out (their pixel counts are then reported), or check heat.data.preset and heat.labels.offset.`,
    subject,
  );
}

/** Builds lookup tables from every on-disk value a file of this depth can hold to class id and anomaly flag. */
function buildLookup(mapping: LabelMapping, size: number): { classOf: Uint8Array; anomalyOf: Uint8Array } {
  const classify = valueClassifier(mapping);
  const classOf = new Uint8Array(size).fill(IGNORE);
  const anomalyOf = new Uint8Array(size).fill(IGNORE);
  for (let disk = 0; disk < size; disk++) {
    const { kind, mapped } = classify(disk);
    if (kind === 'known' || kind === 'anomaly') {
      // An anomaly value above 254 (a 0/255 mask) has no class id, so its pixels keep 255 in `values`.
      classOf[disk] = Math.min(mapped, IGNORE);
      anomalyOf[disk] = kind === 'anomaly' ? 1 : 0;
    }
  }
  return { classOf, anomalyOf };
}

/**
 * Loads a label file and applies the mapping. `expected` is the size of the image the label belongs to;
 * a different label size is an error naming both sizes.
 */
export async function loadLabel(file: string, mapping: LabelMapping, expected?: ExpectedSize): Promise<LabelImage> {
  const { width, height, data } = await readLabelSamples(file);
  if (expected) checkLabelSize({ width, height }, expected, file);

  const { classOf, anomalyOf } = buildLookup(mapping, data instanceof Uint16Array ? 65536 : 256);
  // One pass maps the values and counts them. Int32 counts are exact up to 2^31 pixels per value, more than any
  // label image holds, and increment faster than float64 ones.
  const histogram = new Int32Array(classOf.length);
  const values = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    histogram[v]++;
    values[i] = classOf[v];
  }
  const present = new Map<number, number>();
  for (let v = 0; v < histogram.length; v++) if (histogram[v] > 0) present.set(v, histogram[v]);
  checkKnownClasses(present, mapping, file);

  // The anomaly mask is built on first use: the statistics pass reads only `values`.
  let anomaly: Uint8Array | undefined;
  return {
    values,
    get anomaly() {
      if (!anomaly) {
        anomaly = new Uint8Array(data.length);
        for (let i = 0; i < data.length; i++) anomaly[i] = anomalyOf[data[i]];
      }
      return anomaly;
    },
    width,
    height,
    counts: countLabels(histogram, classOf, anomalyOf),
  };
}

/** Throws when a label's size differs from its image's (`subject` is the label file). */
export function checkLabelSize(label: { width: number; height: number }, expected: ExpectedSize, subject: string): void {
  if (expected.width === label.width && expected.height === label.height) return;
  throw new HeatError(
    `Label file ${subject} is ${label.width}x${label.height} but its image${expected.image ? ` ${expected.image}` : ''} is ${expected.width}x${expected.height}.`,
    'Labels must have the image\'s size; check the pairing (heat.data.*.labels, heat.data.preset) or resize the labels with nearest-neighbour sampling.',
    subject,
  );
}

function countLabels(histogram: Int32Array, classOf: Uint8Array, anomalyOf: Uint8Array): LabelCounts {
  const counts: LabelCounts = { known: 0, anomaly: 0, ignored: 0, byClass: new Map(), ignoredByDiskValue: new Map() };
  for (let disk = 0; disk < histogram.length; disk++) {
    const pixels = histogram[disk];
    if (pixels === 0) continue;
    if (anomalyOf[disk] === IGNORE) {
      counts.ignored += pixels;
      counts.ignoredByDiskValue.set(disk, pixels);
      continue;
    }
    if (anomalyOf[disk] === 1) counts.anomaly += pixels;
    else counts.known += pixels;
    if (classOf[disk] !== IGNORE) counts.byClass.set(classOf[disk], (counts.byClass.get(classOf[disk]) ?? 0) + pixels);
  }
  return counts;
}

/**
 * Sums label counts over a split and words them for the log: known, anomaly and void pixels, and each
 * on-disk value left out as void with its count. The log thus reports how much data each ignored value removed.
 */
export class LabelAudit {
  files = 0;
  readonly total: LabelCounts = { known: 0, anomaly: 0, ignored: 0, byClass: new Map(), ignoredByDiskValue: new Map() };
  private readonly filesWithIgnored = new Map<number, number>();

  add(counts: LabelCounts): void {
    this.files++;
    this.total.known += counts.known;
    this.total.anomaly += counts.anomaly;
    this.total.ignored += counts.ignored;
    for (const [id, n] of counts.byClass) this.total.byClass.set(id, (this.total.byClass.get(id) ?? 0) + n);
    for (const [disk, n] of counts.ignoredByDiskValue) {
      this.total.ignoredByDiskValue.set(disk, (this.total.ignoredByDiskValue.get(disk) ?? 0) + n);
      this.filesWithIgnored.set(disk, (this.filesWithIgnored.get(disk) ?? 0) + 1);
    }
  }

  /** Returns one line with the file count and the known, anomaly and void pixel counts. */
  summary(): string {
    const { known, anomaly, ignored } = this.total;
    return `${this.files} label files: ${known} known, ${anomaly} anomaly, ${ignored} void pixels.`;
  }

  /**
   * Returns warnings for the void values the user asked for: one line per on-disk value that became void
   * through `userIgnore` or through heat.labels.map, with its pixel count and the number of files with it.
   * A dataset's own void value (the preset's or the default 255) only enters the summary. With
   * `expectAnomaly` (test splits), a split without any anomaly pixel is warned about too.
   */
  warnings(mapping: LabelMapping, expectAnomaly = false): string[] {
    const lines: string[] = [];
    const classify = valueClassifier(mapping);
    const userIgnore = new Set(mapping.userIgnore ?? []);
    for (const [disk, pixels] of [...this.total.ignoredByDiskValue].sort((a, b) => a[0] - b[0])) {
      const { mapped } = classify(disk);
      const remapped = mapped !== disk + mapping.offset;
      if (!userIgnore.has(mapped) && !remapped) continue;
      const reason = remapped ? `mapped to ${mapped} by heat.labels.map` : 'heat.labels.ignore';
      lines.push(`Label value ${disk} was left out as void (${reason}): ${pixels} pixels in ${this.filesWithIgnored.get(disk)} of ${this.files} label files.`);
    }
    if (expectAnomaly && this.files > 0 && this.total.anomaly === 0) {
      lines.push(`No anomaly pixels in ${this.files} label files; check heat.labels.anomaly and heat.data.preset.`);
    }
    return lines;
  }
}
