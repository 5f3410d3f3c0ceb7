/** Evaluation: metric accumulators, thresholds, reports, plots, .npy output and the metric benchmark. */
export {
  DEFAULT_MAX_EXACT_PIXELS,
  HISTOGRAM_BITS,
  MetricAccumulator,
  validationThreshold,
} from './metrics';
export type {
  GivenThreshold,
  ImageMetrics,
  MethodEvaluation,
  MetricsOptions,
  PixelCounts,
  ScoreHistogram,
  ThresholdStats,
} from './metrics';
export type { CurvePoint, Curves } from './sweep';
export {
  buildReportJson,
  CONVENTIONS,
  judgeCriteria,
  methodSlug,
  renderReportCsv,
  renderReportMarkdown,
  SUCCESS_CRITERIA,
  writeReport,
} from './report';
export type { CriterionJudgement, CriterionStatus, Provenance, ReportFiles, ReportInput, ReportJson } from './report';
export { renderPrCurves, renderRocCurves, renderScoreHistogram } from './plots';
export { encodeNpy, writeNpy } from './npy';
export type { NpyArray } from './npy';
export { benchmarkMetrics } from './bench';
export type { MetricsBenchOptions, MetricsBenchResult, MetricsBenchRow } from './bench';
