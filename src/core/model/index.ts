/** ONNX model I/O: loading, tensor listing, layer resolution, graph editing, sessions and preprocessing. */
export { loadModel, modelFromBytes, type LoadedModel } from './load';
export { graphTensors, listTensors, ranksOf, probeFeeds, describeProbabilities, warnsAboutProbabilities, PROBE_SIDE, type ListOptions } from './tensors';
export { resolveLayer, resolveLogits, moduleOfNode, modulePaths, closestNames, type ResolvedLayer } from './layer';
export { mergeBlocker, relabelBlocker, softmaxInputs, upgradeOpset } from './opset';
export { addOutputs, mergeHead, tensorNames, type HeadBinding, type MergeOptions, type MergedModel } from './edit';
export { ScoringPipeline, type PipelineOptions } from './pipeline';
export { createSession, autoProviders, providerAvailable, type ModelSession, type ProviderName, type ProviderSetting, type SessionTuning } from './session';
export { checkedTensorLayout, decideLayouts, detectInputLayout, detectTensorLayout, type ModelLayouts, type LayoutDecision, type LayoutSetting, type TensorLayoutHints } from './layout';
export { detectProbabilities, preSoftmaxCandidates, type ProbabilityCheck } from './probabilities';
export { decodeImage, type RgbImage } from './image';
export { preprocess, preprocessSettings, inputGeometry, normalize, type PreprocessSettings, type PreprocessedImage } from './preprocess';
export { onnx, defaultOpset, encodeModel, dtypeName, toNumber } from './onnx';
export { inputSpatialSize, loadConfiguredModel, measuredFloatShape, type ConfiguredModel } from './configured';
