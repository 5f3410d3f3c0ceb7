/** Class feature statistics: streamed moments, purity reduction, finalisation and statistics files. */
export {
  accumulateFeatures, accumulateScalars, emptyMoments, emptyScalarMoments, mergeBlock, mergeMoments, mergeScalarMoments,
  type ClassMoments, type FeatureGrid, type ScalarMoments,
} from './accumulator';
export {
  computeStatistics, computeStatisticsForLayers, mergeStatisticsFiles, logitPeaks,
  type LayerStatisticsRequest, type StatisticsReport, type StatisticsRunOptions,
} from './compute';
export {
  loadStatistics, readStatistics, readPartialStatistics, writeStatistics, writePartialStatistics, STATISTICS_FORMAT_VERSION,
  type ExpectedStatistics, type PartialStatistics,
} from './file';
export { finalizeStatistics, type CovarianceReport, type FinalizeOptions, type FinalizedStatistics } from './finalize';
export { cholesky, invertSpd, symmetricEigen } from './linalg';
export { MIXED, reduceLabels, toClassCells } from './purity';
export {
  benchmarkStatistics, measureStatisticsMemory, measureStatisticsThroughput, prepareStatisticsBench,
  type StatisticsBenchData, type StatisticsBenchOptions, type StatisticsBenchResult,
} from './bench';
export { formatStatisticsReport } from './report';
export { decodeSafetensors, encodeSafetensors, type NamedTensor, type SafetensorsContent } from './safetensors';
export { ScatterEngine, scatterGraph, type ScatterPrecision } from './scatter';
export { linearSegmentationModel, resnetLikeModel, SYNTHETIC_FEATURES, SYNTHETIC_LOGITS, type LinearModelWeights } from './synthetic';
export type { ClassStatistics, StatisticsMetadata } from './types';
