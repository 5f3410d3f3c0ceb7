/**
 * The engine's public surface: what the CLI calls in-process and the engine process serves to the
 * extension. Types here are the contract between core, CLI, engine and the VS Code layer.
 */
import type { HeatConfig } from './config';
import type { Logger, Progress } from './log';
import type { ScoreMap } from './tensor';

/** Options shared by every long job. */
export interface JobOptions {
  log?: Logger;
  progress?: Progress;
  signal?: AbortSignal;
}

/** Per-pixel maps produced when scoring one image. Scores are oriented so that higher = more anomalous, except weights. */
export type MapName =
  | 'energy'
  | 'mahalanobis'
  | 'spatial'
  | 'weight-energy'
  | 'weight-mahalanobis'
  | 'weight-spatial'
  | 'heat'
  | 'heat-normalized'
  | 'max-softmax'
  | 'max-logit'
  | 'entropy';

export const SCORE_MAP_NAMES: readonly MapName[] = [
  'energy', 'mahalanobis', 'spatial', 'weight-energy', 'weight-mahalanobis', 'weight-spatial', 'heat', 'heat-normalized',
];

export interface MapSummary {
  shape: [number, number];
  min: number;
  max: number;
  mean: number;
  /** Range the PNG colour map was clamped to. */
  shownRange: [number, number];
}

/** Contents of summary.json for one scored image. */
export interface ScoreSummary {
  image: string;
  model: string;
  executionProvider: string;
  featureTensor?: string;
  logitsTensor: string;
  statistics?: string;
  /** True when Mahalanobis was left out because no statistics file is configured. */
  combinedWithoutMahalanobis: boolean;
  maps: Partial<Record<MapName | 'prediction', MapSummary>>;
  /** Milliseconds per stage: decode, preprocess, run, postprocess, write. */
  timings: Record<string, number>;
  notes: string[];
}

/** Result of scoring one image, with the maps kept in memory for the viewer. */
export interface ScoredImage {
  image: string;
  /** Folder holding the PNG maps and summary.json, when written. */
  outDir?: string;
  summary: ScoreSummary;
  maps: Partial<Record<MapName, ScoreMap>>;
  /** Argmax class per pixel at map resolution. */
  prediction: Int32Array;
  /** Softmax probabilities, class-major [C, H, W]. */
  probabilities: Float32Array;
  classCount: number;
  /** Input image as RGBA at map resolution, for overlays. */
  imageRgba: Uint8Array;
  /** Anomaly ground truth at map resolution when the image belongs to a configured split: 1 anomaly, 0 known, 255 ignore. */
  groundTruth?: Uint8Array;
}

/** One failed image in a multi-image call; the others are still scored. */
export interface ScoreFailure {
  image: string;
  error: string;
}

export interface ScoreOptions extends JobOptions {
  /** Output root; one folder per image is written under it. Omit to keep results in memory only. */
  outDir?: string;
}

/** Tensor listed by `heat-lens inspect`. */
export interface TensorInfo {
  name: string;
  kind: 'input' | 'output' | 'intermediate' | 'initializer';
  /** Producing op type, for example "Conv"; empty for inputs. */
  op: string;
  /** Producing node name. */
  node: string;
  /** Dimensions; a string for a symbolic dimension, null where unknown. */
  shape: (number | string)[] | null;
  /** Whether the shape was measured by a probe run rather than read from the graph. */
  measured: boolean;
  dtype: string;
}

export interface ModelInspection {
  path: string;
  sha256: string;
  opsetVersion: number;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  intermediates: TensorInfo[];
  /** Outputs that look like probabilities, with pre-softmax candidates. */
  warnings: string[];
}

/** A check result as the validation checklist reports it. */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  id: string;
  phase: number;
  /** The checklist line this check measures, in the project's own words. */
  title: string;
  status: CheckStatus;
  /** Measured evidence, one sentence with numbers. */
  evidence: string;
  /** `heat.*` keys the check concerns. */
  settings: string[];
  /** Suggested fix, when one exists. */
  fix?: { description: string; setting?: string; value?: unknown; command?: string };
}

/** One evaluated method's metrics. Undefined metrics are null with a reason. */
export interface MetricValue {
  value: number | null;
  reason?: string;
  /** Histogram mode only: the largest amount the exact value can differ from `value` (same units). */
  bound?: number;
}

export interface MethodMetrics {
  method: string;
  pooled: { aupr: MetricValue; auroc: MetricValue; fpr95: MetricValue };
  perImage: { aupr: MetricValue; auroc: MetricValue; fpr95: MetricValue; imagesUsed: number; imagesSkipped: number };
  threshold?: { value: number; source: 'validation' | 'none'; f1?: number };
  /** How pooled metrics were computed: exactly from every score, or from a 2^20-bin histogram (values carry `bound`). */
  computation?: 'exact' | 'histogram';
}

export interface EvalOptions extends JobOptions {
  outDir?: string;
  saveScores?: boolean;
  split?: 'test' | 'testShifted' | 'val';
}

export interface StatsOptions extends JobOptions {
  out?: string;
  split?: 'train' | 'val';
  /** [index, count] for `--shard i/N`. */
  shard?: [number, number];
}

export interface SweepRow {
  config: Record<string, unknown>;
  metrics: MethodMetrics;
}

export type { HeatConfig };
