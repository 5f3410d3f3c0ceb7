/** HEAT score heads (ONNX graphs) and the host-side normaliser. */
export { buildHeatHead, buildHeatHeads, HEAT_OUTPUTS, FEATURES_INPUT, LOGITS_INPUT } from './head';
export type { HeatHead, HeatHeadOptions, HeatHeadVariant, HeatOutputName, HeatVariantInfo } from './head';
export { HEAT_COMPONENTS } from './combine';
export type { CombinationMode, ComponentStandardization, HeatComponent } from './combine';
export type { CovarianceMode } from './mahalanobis';
export type { Padding, SpatialMethod } from './spatial';
export { ScoreNormalizer, batchMoments, NORMALIZER_EPSILON } from './normalizer';
export type { NormalizationMode, NormalizerOptions, NormalizerState } from './normalizer';
export { GraphBuilder, encodeModel, HEAD_OPSET, ElemType } from './graph';
