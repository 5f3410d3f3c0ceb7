/** Datasets: split listing, presets, label decoding and mapping. */
export { listSplit, listImages, fillLabelPattern, type Sample, type ListSplitOptions } from './splits';
export {
  checkLabelSize, loadLabel, readLabelSamples, labelMappingFromConfig, presetOf, checkKnownClasses, valueClassifier, LabelAudit, IGNORE,
  type LabelMapping, type LabelImage, type LabelCounts, type LabelSamples, type ExpectedSize, type MappedValue,
} from './labels';
export { checkSplitLabels, type CheckSplitOptions } from './check';
export { PRESETS, presetByName, type DatasetPreset, type PresetName, type PresetMapping } from './presets';
export { imageSize } from './images';
export { decodePngSamples, isPng, type PngSamples } from './png';
