/**
 * From accumulated moments to the covariances and precisions the Mahalanobis head uses.
 *
 * Tied covariance (DESIGN.md item 5): Σ = Σ_c M2_c / (N − 1), N = Σ_c n_c, pooling every class-centred
 * sample, so a class with 1000 pixels weighs 100 times one with 10 (not the mean of class covariances).
 * Class-wise: Σ_c = M2_c / (n_c − 1). Each is regularised with ε'·I before inversion (item 6):
 * ε' = ε (`absolute`) or ε·trace(Σ)/D (`relative`). Precisions come from a float64 Cholesky factorisation.
 * Low-rank: the top-k eigenpairs of the regularised tied covariance.
 */
import { HeatError } from '../errors';
import { ClassMoments } from './accumulator';
import { invertSpd, symmetricEigen } from './linalg';
import { ClassStatistics } from './types';

export interface FinalizeOptions {
  /** ε of the regularisation (heat.statistics.regularization). */
  regularization: number;
  regularizationMode: 'absolute' | 'relative';
  /** Eigenpairs kept by the low-rank form (heat.statistics.rank), capped at D. */
  rank: number;
  /** Class names for messages; class ids are used where a name is missing. */
  classNames?: readonly string[];
  /**
   * Also compute class-wise covariances and precisions (default: when the moments are class-wise). Each costs a D×D inversion and
   * eigenvalue computation (about 1.5 s at D = 1024 on one core, measured), so `heat-lens stats` includes
   * them only when the configuration requests the class-wise Mahalanobis distance.
   */
  classwise?: boolean;
  /**
   * Precision of the per-image scatter products (heat-lens stats --precision, default float64 here). With
   * float32 products an eigenvalue that should be 0 comes out as rounding noise of either sign, so the rank
   * test uses that precision's tolerance.
   */
  productPrecision?: 'float32' | 'float64';
}

/** Spectrum of one regularised covariance. */
export interface CovarianceReport {
  /** "tied" or "class <name>". */
  name: string;
  /** The ε'·I actually added to the diagonal. */
  epsilon: number;
  /** Smallest and largest eigenvalue after regularisation. */
  smallestEigenvalue: number;
  largestEigenvalue: number;
  /** largest / smallest eigenvalue after regularisation. */
  conditionNumber: number;
  /** Eigenvalues of the unregularised covariance at or below 1e-12 × the largest: D minus its numerical rank. */
  nullDimensions: number;
  /** Channels whose variance is exactly 0 (dead ReLUs, for example). */
  zeroVarianceChannels: number[];
}

export interface FinalizedStatistics {
  statistics: Omit<ClassStatistics, 'metadata' | 'maxLogit'>;
  reports: CovarianceReport[];
  warnings: string[];
}

/** Relative threshold below which an eigenvalue counts as zero when judging rank deficiency (float64 products). */
const NULL_EIGENVALUE = 1e-12;

/** Machine epsilon of float32, 2^-23. */
const FLOAT32_EPSILON = 2 ** -23;

/**
 * Returns the threshold, relative to the largest eigenvalue, below which an eigenvalue counts as zero. For
 * float32 products it is ε₃₂: entries of the size of the largest eigenvalue carry float32 rounding of about that
 * relative size, so smaller eigenvalues are indistinguishable from 0. On the sample the eigenvalues that float64
 * products put at 0 came out within 2e-9 of the largest, and the smallest real ones at 3e-7.
 */
function nullTolerance(precision: FinalizeOptions['productPrecision']): number {
  return precision === 'float32' ? FLOAT32_EPSILON : NULL_EIGENVALUE;
}

export function finalizeStatistics(moments: ClassMoments, options: FinalizeOptions): FinalizedStatistics {
  const { classCount, dim: d } = moments;
  const name = (c: number) => options.classNames?.[c] ? `${c} (${options.classNames[c]})` : `${c}`;
  const warnings: string[] = [];
  const reports: CovarianceReport[] = [];

  const emptyClasses: number[] = [];
  let total = 0;
  for (let c = 0; c < classCount; c++) {
    if (moments.counts[c] === 0) emptyClasses.push(c);
    total += moments.counts[c];
  }
  if (total < 2) {
    throw new HeatError(
      `The statistics hold ${total} labelled feature cell(s); at least 2 are needed for a covariance.`,
      'Check heat.data.train.labels, heat.labels.*, heat.statistics.purity and heat.statistics.minConfidence.',
    );
  }
  if (emptyClasses.length > 0) {
    warnings.push(`${emptyClasses.length} of ${classCount} classes have no pixels and are left out of the Mahalanobis minimum: ${emptyClasses.map(name).join(', ')}.`);
  }

  const tiedCovariance = new Float64Array(d * d);
  if (moments.kind === 'pooled') {
    tiedCovariance.set(moments.scatters);
  } else {
    for (let c = 0; c < classCount; c++) {
      if (moments.counts[c] === 0) continue;
      const m2 = moments.scatters.subarray(c * d * d, (c + 1) * d * d);
      for (let i = 0; i < d * d; i++) tiedCovariance[i] += m2[i];
    }
  }
  for (let i = 0; i < d * d; i++) tiedCovariance[i] /= total - 1;

  const tied = regularizedInverse(tiedCovariance, d, options, 'tied', true);
  reports.push(tied.report);
  const rank = Math.min(Math.max(1, Math.floor(options.rank)), d);
  const lowRank = { rank, vectors: new Float64Array(d * rank), values: tied.eigenvalues.slice(0, rank) };
  // Stored as [D, k] with column j the j-th eigenvector; symmetricEigen returns vectors as rows.
  for (let j = 0; j < rank; j++) for (let i = 0; i < d; i++) lowRank.vectors[i * rank + j] = tied.eigenvectors![j * d + i];

  const classwise = options.classwise ?? moments.kind === 'classwise';
  if (classwise && moments.kind === 'pooled') throw new Error('Class-wise covariances need class-wise moments, not the pooled scatter.');
  const classCovariances = classwise ? new Float64Array(classCount * d * d) : undefined;
  const classPrecisions = classwise ? new Float64Array(classCount * d * d) : undefined;
  const singletons: number[] = [];
  for (let c = 0; classCovariances && classPrecisions && c < classCount; c++) {
    const n = moments.counts[c];
    if (n === 0) continue;
    const covariance = classCovariances.subarray(c * d * d, (c + 1) * d * d);
    if (n >= 2) {
      const m2 = moments.scatters.subarray(c * d * d, (c + 1) * d * d);
      for (let i = 0; i < d * d; i++) covariance[i] = m2[i] / (n - 1);
    } else {
      singletons.push(c);
    }
    const result = regularizedInverse(covariance, d, options, `class ${name(c)}`, false);
    classPrecisions.set(result.precision, c * d * d);
    reports.push(result.report);
  }
  if (singletons.length > 0) {
    warnings.push(`${singletons.length} class(es) have a single feature cell, so their class-wise covariance is only the regularisation: ${singletons.map(name).join(', ')}.`);
  }

  const atPrecision = options.productPrecision === 'float32' ? ' at the float32 precision of the scatter products' : '';
  for (const report of reports) {
    if (report.nullDimensions > 0) {
      const zero = report.zeroVarianceChannels;
      const listed = zero.length > 12 ? `${zero.slice(0, 12).join(', ')} and ${zero.length - 12} more` : zero.join(', ');
      const channels = zero.length > 0 ? `; ${zero.length} channel(s) with zero variance: ${listed}` : '';
      warnings.push(
        `The ${report.name} covariance is rank-deficient (${report.nullDimensions} of ${d} eigenvalues are zero${atPrecision}${channels}); ` +
        `after adding ${report.epsilon.toExponential(3)}·I its smallest eigenvalue is ${report.smallestEigenvalue.toExponential(3)} ` +
        `and its condition number ${report.conditionNumber.toExponential(3)}.`,
      );
    }
  }

  return {
    statistics: {
      classCount, dim: d, means: Float64Array.from(moments.means), counts: Float64Array.from(moments.counts), emptyClasses,
      tiedCovariance, tiedPrecision: tied.precision, classCovariances, classPrecisions, lowRank,
    },
    reports,
    warnings,
  };
}

/** Adds ε'·I, inverts by Cholesky, and measures the spectrum (eigenvalues of Σ + ε'I are those of Σ plus ε'). */
function regularizedInverse(covariance: Float64Array, d: number, options: FinalizeOptions, label: string, withVectors: boolean) {
  let trace = 0;
  for (let i = 0; i < d; i++) trace += covariance[i * d + i];
  const epsilon = options.regularizationMode === 'relative' && trace > 0
    ? (options.regularization * trace) / d
    : options.regularization;

  const regularized = Float64Array.from(covariance);
  for (let i = 0; i < d; i++) regularized[i * d + i] += epsilon;
  const precision = invertSpd(regularized, d, `${label} covariance`);

  const spectrum = symmetricEigen(covariance, d, withVectors);
  const largestRaw = spectrum.values[0];
  let nullDimensions = 0;
  const tolerance = nullTolerance(options.productPrecision);
  for (const value of spectrum.values) if (value <= tolerance * Math.max(largestRaw, 0) || value <= 0) nullDimensions++;
  const eigenvalues = spectrum.values.map((v) => v + epsilon);
  const smallest = eigenvalues[d - 1];
  const largest = eigenvalues[0];
  const zeroVarianceChannels: number[] = [];
  for (let i = 0; i < d; i++) if (covariance[i * d + i] === 0) zeroVarianceChannels.push(i);

  const report: CovarianceReport = {
    name: label, epsilon, smallestEigenvalue: smallest, largestEigenvalue: largest,
    conditionNumber: largest / smallest, nullDimensions, zeroVarianceChannels,
  };
  return { precision, eigenvalues, eigenvectors: spectrum.vectors, report };
}
