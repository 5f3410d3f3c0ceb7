import * as path from 'node:path';

/**
 * Dataset presets: how a dataset pairs images with label files, and what its label values mean.
 *
 * A preset only supplies defaults. Per setting, a `heat.labels.*` or `heat.data.*.labels` value that
 * differs from the setting's built-in default wins over the preset. A setting left at its default takes the
 * preset's value. (A setting explicitly written with its default value, such as
 * `"heat.labels.anomaly": [13]`, is indistinguishable from an unset one and also yields to the preset.)
 *
 * Label values below are the values after `offset` and `map`, as `heat.labels.anomaly` and
 * `heat.labels.ignore` are.
 */

export type PresetName = 'generic' | 'streethazards' | 'cityscapes' | 'roadanomaly' | 'fishyscapes' | 'camvid';

export interface PresetMapping {
  /** Added to every on-disk value first. */
  offset: number;
  /** Applied after the offset: value → value; unlisted values stay. */
  map: Record<string, number>;
  /** Values marking anomaly pixels. */
  anomaly: number[];
  /** Void values, never counted. */
  ignore: number[];
}

export interface DatasetPreset {
  name: PresetName;
  /** Pairing rule of images and labels in words, shown in errors and docs. */
  pairing: string;
  /** Glob of images inside a folder, used when a split's `images` setting names a folder (the split's root or its image folder). */
  imageGlob: string;
  /** Globs left out when `imageGlob` is used (label folders that share the image extension). */
  imageIgnore: string[];
  /** Label file for an image; undefined when the preset has no pairing (generic). */
  labelFor?: (image: string) => string;
  mapping: PresetMapping;
  /** Known classes are 0..classCount-1 after offset and map; undefined when the dataset fixes none. */
  classCount?: number;
  classNames?: string[];
}

/** Replaces the last path segment equal to `from` with `to`; undefined when no segment matches. */
function replaceSegment(file: string, from: string, to: string): string | undefined {
  const segments = file.split(/[\\/]/);
  for (let i = segments.length - 2; i >= 0; i--) {
    if (segments[i] === from) {
      segments[i] = to;
      return segments.join(path.sep);
    }
  }
  return undefined;
}

function stemOf(file: string): string {
  return path.parse(file).name;
}

/**
 * StreetHazards: `…/images/<split>/<town>/X.png` ↔ `…/annotations/<split>/<town>/X.png` (the last folder
 * named `images` becomes `annotations`). On disk classes are 1..14; training code subtracts 1, so the
 * anomaly is 13 and the unlabelled class 0 is a known class. Without the offset, traffic signs (on-disk 13)
 * would be taken for anomalies.
 */
const streethazards: DatasetPreset = {
  name: 'streethazards',
  pairing: 'the last folder named "images" in the image path replaced by "annotations", same file name',
  imageGlob: '**/*.png',
  imageIgnore: ['**/annotations/**'],
  labelFor: (image) => replaceSegment(image, 'images', 'annotations') ?? path.join(path.dirname(image), '..', 'annotations', path.basename(image)),
  mapping: { offset: -1, map: {}, anomaly: [13], ignore: [] },
  classCount: 13,
  classNames: ['unlabeled', 'building', 'fence', 'other', 'pedestrian', 'pole', 'road line', 'road', 'sidewalk', 'vegetation', 'car', 'wall', 'traffic sign'],
};

/**
 * Cityscapes: `leftImg8bit/<split>/<city>/X_leftImg8bit.png` ↔ `gtFine/<split>/<city>/X_gtFine_labelTrainIds.png`
 * (train ids 0..18, 255 void). Cityscapes has no anomaly class.
 */
const cityscapes: DatasetPreset = {
  name: 'cityscapes',
  pairing: 'folder "leftImg8bit" replaced by "gtFine" and suffix "_leftImg8bit" by "_gtFine_labelTrainIds"',
  imageGlob: '**/*_leftImg8bit.png',
  imageIgnore: ['**/gtFine/**'],
  labelFor: (image) => {
    const moved = replaceSegment(image, 'leftImg8bit', 'gtFine') ?? image;
    return path.join(path.dirname(moved), `${stemOf(image).replace(/_leftImg8bit$/, '')}_gtFine_labelTrainIds.png`);
  },
  mapping: { offset: 0, map: {}, anomaly: [], ignore: [255] },
  classCount: 19,
  classNames: ['road', 'sidewalk', 'building', 'wall', 'fence', 'pole', 'traffic light', 'traffic sign', 'vegetation', 'terrain',
    'sky', 'person', 'rider', 'car', 'truck', 'bus', 'train', 'motorcycle', 'bicycle'],
};

/** RoadAnomaly: `frames/X.jpg` ↔ `frames/X.labels/labels_semantic.png`; 0 known, 2 anomaly, no void. */
const roadanomaly: DatasetPreset = {
  name: 'roadanomaly',
  pairing: '{dir}/{stem}.labels/labels_semantic.png',
  imageGlob: '**/*.{jpg,jpeg,png,webp}',
  imageIgnore: ['**/*.labels/**'],
  labelFor: (image) => path.join(path.dirname(image), `${stemOf(image)}.labels`, 'labels_semantic.png'),
  mapping: { offset: 0, map: {}, anomaly: [2], ignore: [255] },
  classCount: 1,
};

/**
 * Fishyscapes (Lost & Found and Static, in the common `original/` + `labels/` layout):
 * `…/original/X.png` ↔ `…/labels/X.png`; 0 known, 1 anomaly, 255 void.
 */
const fishyscapes: DatasetPreset = {
  name: 'fishyscapes',
  pairing: '{dir}/../labels/{stem}.png',
  imageGlob: '**/*.{png,jpg,jpeg,webp}',
  imageIgnore: ['**/labels/**'],
  labelFor: (image) => path.join(path.dirname(image), '..', 'labels', `${stemOf(image)}.png`),
  mapping: { offset: 0, map: {}, anomaly: [1], ignore: [255] },
  classCount: 1,
};

/** CamVid (SegNet layout): `train/X.png` ↔ `trainannot/X.png`; classes 0..10, 11 unlabelled (void). */
const camvid: DatasetPreset = {
  name: 'camvid',
  pairing: '{dir}annot/{stem}.png',
  imageGlob: '**/*.png',
  imageIgnore: ['**/*annot/**'],
  labelFor: (image) => `${path.dirname(image)}annot${path.sep}${stemOf(image)}.png`,
  mapping: { offset: 0, map: {}, anomaly: [], ignore: [11] },
  classCount: 11,
  classNames: ['sky', 'building', 'pole', 'road', 'pavement', 'tree', 'sign symbol', 'fence', 'car', 'pedestrian', 'bicyclist'],
};

/** Generic: pairing only through `heat.data.*.labels`; label values exactly as `heat.labels.*` give them. */
const generic: DatasetPreset = {
  name: 'generic',
  pairing: 'none (set heat.data.<split>.labels)',
  imageGlob: '*.{png,jpg,jpeg,webp,tif,tiff}',
  imageIgnore: [],
  mapping: { offset: 0, map: {}, anomaly: [13], ignore: [255] },
};

export const PRESETS: Readonly<Record<PresetName, DatasetPreset>> = { generic, streethazards, cityscapes, roadanomaly, fishyscapes, camvid };

export function presetByName(name: string): DatasetPreset {
  const preset = (PRESETS as Record<string, DatasetPreset | undefined>)[name];
  if (!preset) throw new Error(`Unknown dataset preset ${name}`);
  return preset;
}
