import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import fg from 'fast-glob';
import { get, type HeatConfig, type SplitName } from '../config';
import { HeatError } from '../errors';
import { presetOf } from './labels';
import type { DatasetPreset } from './presets';

/**
 * Dataset splits: the images of a split and the label file of each image.
 *
 * `heat.data.<split>.images` is a glob, a single file, or a folder. For a folder the preset's image glob is
 * used inside it (for example `**\/*.jpg` without `*.labels` folders for RoadAnomaly). Relative values were
 * already resolved against the config file's folder by config.ts.
 *
 * `heat.data.<split>.labels` is a label path pattern with placeholders:
 *   {dir}  the image's folder, absolute ("{dir}/../labels/{stem}.png")
 *   {stem} the image's file name without its extension
 *   {name} the image's file name with its extension
 * A pattern that does not start with {dir} and is relative resolves against the config file's folder
 * ("labels/{stem}.png"). An empty pattern takes the preset's pairing; the generic preset has none, and its
 * samples then carry no label.
 */

export interface Sample {
  /** Absolute image path. */
  image: string;
  /** Absolute label path, when the split has labels. */
  label?: string;
}

export interface ListSplitOptions {
  /** Throw when the split has no label pairing (evaluation and statistics need labels). */
  requireLabels?: boolean;
}

const PLACEHOLDER = /\{([^{}]*)\}/g;
const KNOWN_PLACEHOLDERS = new Set(['dir', 'stem', 'name']);

/** Fills a label pattern for one image. Unknown placeholders are an error naming the setting. */
export function fillLabelPattern(pattern: string, image: string, baseDir: string, settingKey = 'heat.data.*.labels'): string {
  for (const match of pattern.matchAll(PLACEHOLDER)) {
    if (!KNOWN_PLACEHOLDERS.has(match[1])) {
      throw new HeatError(`Unknown placeholder {${match[1]}} in ${settingKey} = ${JSON.stringify(pattern)}.`,
        'Use {dir} (the image\'s folder), {stem} (file name without extension) or {name} (file name).', settingKey);
    }
  }
  const parsed = path.parse(image);
  const values: Record<string, string> = { dir: parsed.dir, stem: parsed.name, name: parsed.base };
  const filled = pattern.replace(PLACEHOLDER, (_, key: string) => values[key]);
  return path.resolve(baseDir, filled);
}

/**
 * Splits an absolute glob into the static folder it starts from and the dynamic rest. A segment that looks
 * dynamic but names an existing folder (a workspace at "/data/run[1]") is taken literally, so glob
 * characters in the config folder's own path do not break the search.
 */
function splitGlob(pattern: string): { cwd: string; rest: string } {
  // Backslashes separate folders only on Windows; elsewhere they escape glob characters.
  const segments = pattern.split(process.platform === 'win32' ? /[\\/]/ : /\//);
  let firstDynamic = 0;
  for (; firstDynamic < segments.length; firstDynamic++) {
    const segment = segments[firstDynamic];
    if (segment === '' || !fg.isDynamicPattern(segment)) continue;
    if (firstDynamic === segments.length - 1 || !existsSync(segments.slice(0, firstDynamic + 1).join(path.sep))) break;
  }
  const cwd = segments.slice(0, firstDynamic).join(path.sep) || path.sep;
  return { cwd, rest: segments.slice(firstDynamic).join('/') };
}

/** Code-unit order, so that the sample order is the same on every machine and locale. */
function byCodeUnit(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

async function statOrUndefined(file: string): Promise<import('node:fs').Stats | undefined> {
  try {
    return await fs.stat(file);
  } catch {
    return undefined;
  }
}

/** Lists the images a split's `images` setting names: a glob, a single file, or a folder. */
export async function listImages(setting: string, settingKey: string, preset: DatasetPreset): Promise<string[]> {
  const absolute = path.resolve(setting);
  let { cwd, rest } = splitGlob(absolute);
  let ignore: string[] = [];

  if (rest === '') {
    const stats = await statOrUndefined(absolute);
    if (!stats) throw new HeatError(`${settingKey} = ${setting} does not exist.`, 'Give a glob such as "data/test/*.png", an image file or a folder.', settingKey);
    if (stats.isFile()) return [absolute];
    cwd = absolute;
    rest = preset.imageGlob;
    ignore = preset.imageIgnore;
  }

  const found = await fg(rest, { cwd, absolute: true, onlyFiles: true, ignore, followSymbolicLinks: true });
  const images = found.map((f) => path.resolve(f)).sort(byCodeUnit);
  if (images.length === 0) {
    throw new HeatError(`${settingKey} = ${setting} matches no image files${rest === preset.imageGlob ? ` (searched ${preset.imageGlob} for preset ${preset.name})` : ''}.`,
      'Check the path; globs use forward slashes, for example "data/test/*.png".', settingKey);
  }
  return images;
}

/**
 * Lists a split's samples, sorted by image path. An unconfigured split (empty `images`) gives []. Every
 * label file must exist: a missing one is an error naming the image, the expected label path and the
 * pattern or preset pairing that produced it.
 */
export async function listSplit(config: HeatConfig, split: SplitName, options: ListSplitOptions = {}): Promise<Sample[]> {
  const imagesKey = `heat.data.${split}.images`;
  const labelsKey = `heat.data.${split}.labels`;
  const imagesSetting = get<string>(config, imagesKey);
  if (imagesSetting === '') return [];

  const preset = presetOf(config);
  const images = await listImages(imagesSetting, imagesKey, preset);
  const pattern = get<string>(config, labelsKey);
  const pairingName = pattern !== '' ? `${labelsKey} = ${JSON.stringify(pattern)}` : `preset ${preset.name} (${preset.pairing})`;

  let labelFor: ((image: string) => string) | undefined;
  if (pattern !== '') labelFor = (image) => fillLabelPattern(pattern, image, config.baseDir, labelsKey);
  else if (preset.labelFor) labelFor = (image) => path.resolve(preset.labelFor!(image));

  if (!labelFor) {
    if (options.requireLabels) {
      throw new HeatError(`The ${split} split has no labels: ${labelsKey} is empty and preset ${preset.name} has no pairing.`,
        `Set ${labelsKey}, for example "{dir}/../labels/{stem}.png", or choose a dataset preset with heat.data.preset.`, labelsKey);
    }
    return images.map((image) => ({ image }));
  }

  const samples = images.map((image) => ({ image, label: labelFor!(image) }));
  await checkLabelsExist(samples, split, pairingName, labelsKey);
  return samples;
}

async function checkLabelsExist(samples: Sample[], split: SplitName, pairingName: string, labelsKey: string): Promise<void> {
  const missing: Sample[] = [];
  await Promise.all(samples.map(async (sample) => {
    const stats = await statOrUndefined(sample.label!);
    if (!stats?.isFile()) missing.push(sample);
  }));
  if (missing.length === 0) return;

  missing.sort((a, b) => byCodeUnit(a.image, b.image));
  const first = missing[0];
  throw new HeatError(
    `${missing.length} of ${samples.length} images in the ${split} split have no label file; the first is image ${first.image}, expected label ${first.label} from ${pairingName}.`,
    `Check ${labelsKey} (placeholders {dir}, {stem}, {name}) and heat.data.preset, or remove images without labels from the glob.`,
    first.image,
  );
}
