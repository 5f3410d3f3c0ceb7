/**
 * Finalised class feature statistics, as loaded from a statistics file and consumed by the Mahalanobis
 * head. All matrices are row-major float64.
 */
export interface ClassStatistics {
  /** Number of classes C (including classes with no pixels, which are listed in `emptyClasses`). */
  classCount: number;
  /** Feature dimension D. */
  dim: number;
  /** [C, D] class means. */
  means: Float64Array;
  /** [C] pixel counts per class. */
  counts: Float64Array;
  /** Classes with zero pixels; left out of the minimum over classes. */
  emptyClasses: number[];
  /** [D, D] tied covariance (pooled class-centred scatter / (N - 1)), before regularisation. */
  tiedCovariance?: Float64Array;
  /** [D, D] inverse of the regularised tied covariance. */
  tiedPrecision?: Float64Array;
  /** [C, D, D] class-wise covariances, before regularisation. */
  classCovariances?: Float64Array;
  /** [C, D, D] inverses of the regularised class-wise covariances. */
  classPrecisions?: Float64Array;
  /** Low-rank form of the regularised tied covariance: top-k eigenvectors [D, k] (column j is vector j) and eigenvalues [k], descending. */
  lowRank?: { rank: number; vectors: Float64Array; values: Float64Array };
  /** Per-class mean and std of the max logit over training pixels of that class, for standardized max logit. */
  maxLogit?: { mean: Float64Array; std: Float64Array };
  metadata: StatisticsMetadata;
}

/** `__metadata__` of a statistics file. safetensors stores metadata as string → string; nested values are JSON. */
export interface StatisticsMetadata {
  formatVersion: string;
  modelSha256: string;
  featureTensor: string;
  dim: number;
  classNames: string[];
  labelMapping: Record<string, unknown>;
  preprocessing: Record<string, unknown>;
  regularization: { epsilon: number; mode: 'absolute' | 'relative' };
  labelSource: 'groundTruth' | 'prediction';
  imageCount: number;
  createdAt: string;
  [key: string]: unknown;
}
