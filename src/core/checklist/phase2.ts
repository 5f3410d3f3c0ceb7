/**
 * Phase 2 — class feature statistics: the feature layer and its dimension, a mean for every class,
 * positive definite covariances after regularisation, a loadable file, and the memory the covariances take.
 */
import { get } from '../config';
import { readStatistics } from '../stats/file';
import type { CovarianceReport } from '../stats/finalize';
import { symmetricEigen } from '../stats/linalg';
import type { ClassStatistics } from '../stats/types';
import { statisticsSettingDifferences, type SettingDifference } from '../stats/settings';
import type { StatisticsState } from './measure';
import { bytes, fail, num, pass, skip, warn, type CheckDefinition, type CheckOutcome } from './types';

const RECOMPUTE = { description: 'Compute the class statistics for the current model and layer.', command: 'heat.computeStatistics' };

/** Judges the resolved feature tensor and D against the statistics file's metadata. */
export function judgeLayerDimension(
  probe: { featureTensor: string; dim: number; height: number; width: number; logitsHeight: number; logitsWidth: number },
  stored: { featureTensor: string; dim: number } | undefined, layerSetting: string,
): CheckOutcome {
  const resolved = `heat.model.featureLayer "${layerSetting}" resolves to "${probe.featureTensor}" with D = ${probe.dim} at ${probe.height}×${probe.width} (logits ${probe.logitsHeight}×${probe.logitsWidth})`;
  if (!stored) return skip(`${resolved}; no statistics file to compare with.`, { fix: RECOMPUTE });
  const differences: string[] = [];
  if (stored.featureTensor !== probe.featureTensor) differences.push(`the statistics hold "${stored.featureTensor}"`);
  if (stored.dim !== probe.dim) differences.push(`the statistics have D = ${stored.dim}`);
  if (differences.length > 0) return fail(`${resolved}, but ${differences.join(' and ')}.`, { fix: RECOMPUTE });
  return pass(`${resolved}, the same tensor and D = ${stored.dim} as the statistics file.`);
}

/** Judges the class means: every class with training cells and finite means; empty classes are named. */
export function judgeClassMeans(stats: ClassStatistics, classNames: readonly string[]): CheckOutcome {
  const name = (c: number) => (classNames[c] ? `${c} "${classNames[c]}"` : `${c}`);
  const { classCount: c, dim: d } = stats;
  let nonFinite = 0;
  for (let i = 0; i < c * d; i++) if (!Number.isFinite(stats.means[i])) nonFinite++;
  if (nonFinite > 0) return fail(`${nonFinite} of ${c * d} class-mean values are NaN or infinite.`, { fix: RECOMPUTE });

  const empty = new Set(stats.emptyClasses);
  for (let k = 0; k < c; k++) if (stats.counts[k] === 0) empty.add(k);
  let total = 0;
  let fewest = -1;
  for (let k = 0; k < c; k++) {
    total += stats.counts[k];
    if (!empty.has(k) && (fewest < 0 || stats.counts[k] < stats.counts[fewest])) fewest = k;
  }
  const smallest = fewest >= 0 ? `; fewest: class ${name(fewest)} with ${stats.counts[fewest]} cells` : '';
  if (empty.size > 0) {
    const list = [...empty].sort((a, b) => a - b).map(name).join(', ');
    return warn(`${c - empty.size} of ${c} classes have a mean from ${total} training cells; no cells for ${list}, which are left out of the Mahalanobis minimum${smallest}.`, {
      settings: ['heat.data.train.images', 'heat.statistics.purity', 'heat.statistics.minConfidence'],
      fix: {
        description: 'Recomputing alone does not help: add training images that contain these classes, or lower heat.statistics.purity (or heat.statistics.minConfidence for predicted labels), then recompute the statistics.',
        command: 'heat.computeStatistics',
      },
    });
  }
  return pass(`All ${c} classes have a mean (D = ${d}) from ${total} training cells${smallest}.`);
}

/** Spectrum of the regularised tied covariance, computed here when the file carries no reports. */
function tiedReport(stats: ClassStatistics): CovarianceReport | undefined {
  const cov = stats.tiedCovariance;
  const reg = stats.metadata.regularization;
  if (!cov || !reg || stats.dim > 1024) return undefined;
  const d = stats.dim;
  let trace = 0;
  for (let i = 0; i < d; i++) trace += cov[i * d + i];
  const epsilon = reg.mode === 'relative' && trace > 0 ? (reg.epsilon * trace) / d : reg.epsilon;
  const values = symmetricEigen(cov, d, false).values;
  const largest = values[0] + epsilon;
  const smallest = values[d - 1] + epsilon;
  let nullDimensions = 0;
  for (const v of values) if (v <= 1e-12 * Math.max(values[0], 0) || v <= 0) nullDimensions++;
  return { name: 'tied', epsilon, smallestEigenvalue: smallest, largestEigenvalue: largest, conditionNumber: largest / smallest, nullDimensions, zeroVarianceChannels: [] };
}

/** Condition number above which float32 distances lose most of their digits (float32 carries about 7). */
export const ILL_CONDITIONED = 1e6;

/**
 * Judges the covariances the configured mode uses: smallest eigenvalue after regularisation > 0, and the
 * condition number. Reports come from the file's metadata (written at finalisation) or are computed here.
 */
export function judgeCovariance(stats: ClassStatistics, covariance: string, reportsInFile: unknown): CheckOutcome {
  let reports = Array.isArray(reportsInFile) ? (reportsInFile as CovarianceReport[]) : [];
  if (reports.length === 0) {
    const tied = tiedReport(stats);
    if (tied) reports = [tied];
  }
  const used = covariance === 'classwise' ? reports.filter((r) => r.name !== 'tied') : reports.filter((r) => r.name === 'tied');
  if (used.length === 0) return skip(`The statistics file reports no spectrum for the ${covariance} covariance (D = ${stats.dim}).`, { fix: RECOMPUTE });

  const smallest = used.reduce((a, r) => (r.smallestEigenvalue < a.smallestEigenvalue ? r : a));
  const worst = used.reduce((a, r) => (r.conditionNumber > a.conditionNumber ? r : a));
  const deficient = used.filter((r) => r.nullDimensions > 0);
  const what = covariance === 'classwise' ? `${used.length} class-wise covariances` : `the tied covariance (D = ${stats.dim})`;
  const evidence = `For ${what} after adding ε = ${num(smallest.epsilon)}: smallest eigenvalue ${num(smallest.smallestEigenvalue)} (${smallest.name}), ` +
    `largest condition number ${num(worst.conditionNumber)} (${worst.name})` +
    `${deficient.length > 0 ? `; ${deficient.length} rank-deficient before regularisation (up to ${Math.max(...deficient.map((r) => r.nullDimensions))} zero eigenvalue(s))` : ''}`;
  if (!(smallest.smallestEigenvalue > 0) || !Number.isFinite(worst.conditionNumber)) {
    return fail(`${evidence}, so it is not positive definite.`, {
      settings: ['heat.statistics.regularization'],
      fix: { description: 'Regularise relative to the covariance scale.', setting: 'heat.statistics.regularizationMode', value: 'relative' },
    });
  }
  if (worst.conditionNumber > ILL_CONDITIONED || deficient.length > 0) {
    const relative = stats.metadata.regularization?.mode === 'relative';
    const why = worst.conditionNumber > ILL_CONDITIONED
      ? `very ill-conditioned (> ${num(ILL_CONDITIONED)}), so float32 distances lose precision`
      : 'only the regularisation makes it invertible along the zero-variance directions';
    return warn(`${evidence}: positive definite but ${why}.`, {
      settings: ['heat.statistics.regularization', 'heat.statistics.regularizationMode'],
      fix: relative
        ? { description: 'Increase the relative regularisation, for example to 1e-3.', setting: 'heat.statistics.regularization', value: 1e-3 }
        : { description: 'Regularise relative to the covariance scale (ε·trace/D).', setting: 'heat.statistics.regularizationMode', value: 'relative' },
    });
  }
  return pass(`${evidence}: positive definite.`);
}

/** Judges the statistics file: present, readable and matching the current model, layer, D and classes. */
export function judgeStatisticsFile(state: StatisticsState, settingDifferences: readonly SettingDifference[] = []): CheckOutcome {
  if (!state.stats && state.path === '') {
    // Scoring works without statistics (HEAT then combines energy and spatial consistency), so this is a warning.
    return warn('heat.statistics.path is empty, so no statistics file is configured: Mahalanobis is left out and HEAT combines energy and spatial consistency only.',
      { fix: RECOMPUTE, settings: ['heat.statistics.path'] });
  }
  if (!state.stats) {
    return fail(`${state.error ?? 'The statistics file could not be read'}.`.replace(/\.\.$/, '.'), { fix: RECOMPUTE, settings: ['heat.statistics.path'] });
  }
  const meta = state.stats.metadata;
  const checked = state.checkedAgainstModel ? 'matches the current model SHA-256, feature tensor, D and class count' : 'was read but could not be checked against the model';
  const evidence = `${state.path} (${bytes(state.fileBytes ?? 0)}) loads and ${checked}; ${meta.imageCount} images, labels from ${meta.labelSource}, C = ${state.stats.classCount}, D = ${state.stats.dim}, created ${meta.createdAt}.`;
  if (settingDifferences.length > 0) {
    const changed = settingDifferences.map((d) => d.text).join('; ');
    return warn(`${evidence} The settings changed since: ${changed}. Such settings apply only when the statistics are computed.`,
      { fix: RECOMPUTE, settings: ['heat.statistics.path', ...settingDifferences.map((d) => d.key)] });
  }
  return state.checkedAgainstModel ? pass(evidence) : warn(evidence, { fix: RECOMPUTE });
}

/** Memory above which the configured covariance is called large (float64, as stored and inverted). */
export const LARGE_COVARIANCE_BYTES = 1024 ** 3;

/** Judges covariance memory: C·D²·8 bytes class-wise against D²·8 tied (float64 covariance and its precision each). */
export function judgeMemory(classCount: number, dim: number, covariance: string, rank: number): CheckOutcome {
  const classwise = classCount * dim * dim * 8;
  const tied = dim * dim * 8;
  const lowrank = dim * Math.min(rank, dim) * 8;
  let used = tied;
  if (covariance === 'classwise') used = classwise;
  else if (covariance === 'lowrank') used = lowrank;
  const evidence = `C = ${classCount}, D = ${dim}: class-wise covariances take ${bytes(classwise)} (C·D²·8), tied ${bytes(tied)} (D²·8), low-rank ${bytes(lowrank)}, each again for the precisions; configured ${covariance}`;
  if (used > LARGE_COVARIANCE_BYTES) {
    return warn(`${evidence} — ${bytes(used)} is large.`, {
      fix: { description: 'Use one tied covariance shared by all classes.', setting: 'heat.statistics.covariance', value: 'tied' },
    });
  }
  return pass(`${evidence} (${bytes(used)}).`);
}

async function loaded(state: Promise<StatisticsState>): Promise<ClassStatistics | CheckOutcome> {
  const s = await state;
  return s.stats ?? skip(`No usable statistics: ${s.error}.`, { fix: RECOMPUTE, settings: ['heat.statistics.path'] });
}

export const PHASE2_CHECKS: CheckDefinition[] = [
  {
    id: 'phase2.layer-dimension', phase: 2,
    title: 'Feature layer resolves to the tensor and dimension D stored with the statistics',
    settings: ['heat.model.featureLayer', 'heat.model.featureLayout'],
    async run(m) {
      const probe = await m.featureProbe();
      const state = await m.statistics();
      // A file that failed to load still names its tensor and D in the error; read them from the file itself when it exists.
      const stored = state.stats ? { featureTensor: state.stats.metadata.featureTensor, dim: state.stats.dim } : await storedLayer(state);
      return judgeLayerDimension({
        featureTensor: probe.featureTensor, dim: probe.features.channels, height: probe.features.height, width: probe.features.width,
        logitsHeight: probe.logitsHeight, logitsWidth: probe.logitsWidth,
      }, stored, get<string>(m.config, 'heat.model.featureLayer'));
    },
  },
  {
    id: 'phase2.class-means', phase: 2,
    title: 'Every class has a mean feature vector from training pixels',
    settings: ['heat.model.classNames', 'heat.data.train.labels'],
    async run(m) {
      const stats = await loaded(m.statistics());
      if (!('means' in stats)) return stats;
      return judgeClassMeans(stats, get<string[]>(m.config, 'heat.model.classNames').length > 0 ? get<string[]>(m.config, 'heat.model.classNames') : stats.metadata.classNames ?? []);
    },
  },
  {
    id: 'phase2.covariance-definite', phase: 2,
    title: 'Regularised covariance is positive definite (smallest eigenvalue, condition number)',
    settings: ['heat.statistics.covariance', 'heat.statistics.regularization', 'heat.statistics.regularizationMode'],
    async run(m) {
      const stats = await loaded(m.statistics());
      if (!('means' in stats)) return stats;
      return judgeCovariance(stats, get<string>(m.config, 'heat.statistics.covariance'), stats.metadata.covarianceReports);
    },
  },
  {
    id: 'phase2.file-loadable', phase: 2,
    title: 'Statistics file is saved and loads for the current model and layer',
    settings: ['heat.statistics.path'],
    async run(m) {
      const state = await m.statistics();
      const components = get<string[]>(m.config, 'heat.score.components');
      if (!state.stats && !components.includes('mahalanobis')) {
        return skip(`heat.score.components combines ${components.length} components (${components.join(', ')}) without Mahalanobis, so HEAT needs no statistics file.`);
      }
      return judgeStatisticsFile(state, state.stats ? statisticsSettingDifferences(m.config, state.stats.metadata) : []);
    },
  },
  {
    id: 'phase2.memory', phase: 2,
    title: 'Covariance memory is affordable (tied covariance when class-wise is too large)',
    settings: ['heat.statistics.covariance', 'heat.statistics.rank'],
    async run(m) {
      const state = await m.statistics();
      let classCount = state.stats?.classCount;
      let dim = state.stats?.dim;
      if (classCount === undefined || dim === undefined) {
        const probe = await m.featureProbe();
        classCount = probe.classCount;
        dim = probe.features.channels;
      }
      return judgeMemory(classCount, dim, get<string>(m.config, 'heat.statistics.covariance'), get<number>(m.config, 'heat.statistics.rank'));
    },
  },
];

/** Feature tensor and D of a statistics file that exists but did not load against the model. */
async function storedLayer(state: StatisticsState): Promise<{ featureTensor: string; dim: number } | undefined> {
  if (state.path === '' || state.fileBytes === undefined) return undefined;
  try {
    const stats = await readStatistics(state.path);
    return { featureTensor: stats.metadata.featureTensor, dim: stats.dim };
  } catch {
    return undefined;
  }
}
