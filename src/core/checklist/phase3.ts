/**
 * Phase 3 — Mahalanobis distance M = min over known classes c of sqrt(max(0, (f − μ_c)ᵀ P (f − μ_c))),
 * higher = more anomalous. The head graph's values are compared with a float64 host computation at a few
 * feature cells of one image (measure.ts, probeMahalanobis).
 */
import { get } from '../config';
import type { ClassStatistics } from '../stats/types';
import type { MahalanobisProbe } from './measure';
import { bytes, fail, num, pass, skip, warn, type CheckDefinition, type CheckOutcome } from './types';

/** Relative error |head − host| / max(1, host) accepted from a float32 graph. */
export const DISTANCE_TOLERANCE = 1e-3;

const minOf = (values: readonly number[]) => values.reduce((a, b) => Math.min(a, b), Infinity);

/** Judges the head's distances against the host's min over classes at the probed cells. */
export function judgeDistanceCorrect(probe: MahalanobisProbe): CheckOutcome {
  if (probe.cells.length === 0) return skip('No feature cell was probed.');
  let worst = 0;
  let worstCell = probe.cells[0];
  for (const cell of probe.cells) {
    const host = minOf(cell.perClass);
    const error = Math.abs(cell.head - host) / Math.max(1, host);
    if (!(error <= worst)) { worst = Number.isNaN(error) ? Infinity : error; worstCell = cell; }
  }
  const evidence = `At ${probe.cells.length} cells of a ${probe.featureHeight}×${probe.featureWidth} feature grid (${probe.covariance} covariance, ${probe.classes.length} classes), ` +
    `the head and a float64 host computation differ by at most ${num(worst)} relative (cell ${worstCell.index}: head ${num(worstCell.head)}, host ${num(minOf(worstCell.perClass))})`;
  if (worst <= DISTANCE_TOLERANCE) return pass(`${evidence}.`);
  if (worst <= 50 * DISTANCE_TOLERANCE) {
    return warn(`${evidence}; float32 rounding of an ill-conditioned precision is the likely cause.`, {
      fix: { description: 'Regularise relative to the covariance scale.', setting: 'heat.statistics.regularizationMode', value: 'relative' },
    });
  }
  return fail(`${evidence}.`, { fix: { description: 'Recompute the class statistics.', command: 'heat.computeStatistics' } });
}

/** Judges the sign of every Mahalanobis value: finite and ≥ 0 (the square root of a clamped d²). */
export function judgeNonNegative(maps: readonly Float32Array[]): CheckOutcome {
  if (maps.length === 0) return skip('No Mahalanobis map was produced.');
  let min = Infinity;
  let max = -Infinity;
  let negative = 0;
  let nonFinite = 0;
  let pixels = 0;
  for (const map of maps) {
    for (let i = 0; i < map.length; i++) {
      const v = map[i];
      pixels++;
      if (!Number.isFinite(v)) { nonFinite++; continue; }
      if (v < 0) negative++;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  const evidence = `${pixels} values over ${maps.length} maps: min ${num(min)}, max ${num(max)}`;
  if (nonFinite > 0) return fail(`${evidence}; ${nonFinite} are NaN or infinite.`);
  if (negative > 0) return fail(`${evidence}; ${negative} are negative, so d² is not clamped at 0 before the square root.`);
  return pass(`${evidence}; none negative.`);
}

/**
 * Judges that the head returns the minimum over classes: at each probed cell its value must be nearer the
 * smallest class distance than any other class's distance (or equal within tolerance).
 */
export function judgeMinimum(probe: MahalanobisProbe, classNames: readonly string[]): CheckOutcome {
  if (probe.cells.length === 0) return skip('No feature cell was probed.');
  let agree = 0;
  let gapSum = 0;
  const nearest = new Set<number>();
  const wrong: string[] = [];
  for (const cell of probe.cells) {
    const order = cell.perClass.map((d, i) => ({ d, c: probe.classes[i] })).sort((a, b) => a.d - b.d);
    const best = order[0];
    nearest.add(best.c);
    const tolerance = DISTANCE_TOLERANCE * Math.max(1, best.d);
    const matchesMin = Math.abs(cell.head - best.d) <= tolerance;
    const closerToOther = order.slice(1).some((o) => Math.abs(cell.head - o.d) < Math.abs(cell.head - best.d) - tolerance);
    if (matchesMin && !closerToOther) agree++;
    else wrong.push(`cell ${cell.index}: head ${num(cell.head)}, min ${num(best.d)}`);
    if (order.length > 1) gapSum += order[1].d - best.d;
  }
  const names = [...nearest].map((c) => classNames[c] ?? String(c)).join(', ');
  const gap = probe.classes.length > 1 ? `; the second-nearest class is ${num(gapSum / probe.cells.length)} farther on average` : '';
  const evidence = `The head equals the smallest of ${probe.classes.length} class distances at ${agree} of ${probe.cells.length} cells (nearest classes: ${names})${gap}`;
  if (wrong.length > 0) return fail(`${evidence}; not at ${wrong.slice(0, 3).join('; ')}.`);
  return pass(`${evidence}.`);
}

/** Seconds per image of the Mahalanobis head above which it is called slow. */
export const SLOW_MAHALANOBIS_SECONDS = 1;

/** Judges time: the Mahalanobis head alone and the whole model + head run per image. */
export function judgeSpeed(headSeconds: number, runSeconds: readonly number[], provider: string, dim: number, covariance: string): CheckOutcome {
  const mean = runSeconds.length > 0 ? runSeconds.reduce((a, b) => a + b, 0) / runSeconds.length : NaN;
  const evidence = `Mahalanobis head (${covariance}, D = ${dim}) ${num(headSeconds * 1000)} ms per image on its own; model + all heads ${num(mean * 1000)} ms per image over ${runSeconds.length} images on ${provider}`;
  if (headSeconds > SLOW_MAHALANOBIS_SECONDS) {
    return warn(`${evidence} — slow.`, {
      fix: { description: 'Use the low-rank covariance (heat.statistics.rank eigenvectors) to cut the D × D product.', setting: 'heat.statistics.covariance', value: 'lowrank' },
    });
  }
  return pass(`${evidence}.`);
}

/** Bytes above which the Mahalanobis head's constants and per-image buffers are called large. */
export const LARGE_HEAD_BYTES = 1024 ** 3;

/** Judges the Mahalanobis head's memory: float32 precision constants plus the per-image feature and distance buffers. */
export function judgeHeadMemory(stats: ClassStatistics, covariance: string, classesUsed: number, cells: number, graphBytes: number | undefined): CheckOutcome {
  const d = stats.dim;
  const rank = stats.lowRank?.rank ?? d;
  let constants = d * d * 4;
  if (covariance === 'classwise') constants = classesUsed * d * d * 4;
  else if (covariance === 'lowrank') constants = rank * d * 4;
  const perImage = cells * (d + classesUsed) * 4 * 2;
  const measured = graphBytes !== undefined ? `; the encoded head graph measures ${bytes(graphBytes)}` : '';
  const evidence = `Precision constants ${bytes(constants)} (${covariance}, float32), per-image buffers about ${bytes(perImage)} for ${cells} feature cells${measured}`;
  if (constants + perImage > LARGE_HEAD_BYTES) {
    return warn(`${evidence} — large.`, {
      fix: covariance === 'classwise'
        ? { description: 'Use one tied covariance.', setting: 'heat.statistics.covariance', value: 'tied' }
        : { description: 'Use the low-rank covariance.', setting: 'heat.statistics.covariance', value: 'lowrank' },
    });
  }
  return pass(`${evidence}.`);
}

async function probeOrSkip(m: Parameters<CheckDefinition['run']>[0]): Promise<MahalanobisProbe | CheckOutcome> {
  const state = await m.statistics();
  if (!state.stats) {
    return skip(`No usable statistics, so Mahalanobis is off: ${state.error}.`, {
      fix: { description: 'Compute the class statistics.', command: 'heat.computeStatistics' }, settings: ['heat.statistics.path'],
    });
  }
  return m.mahalanobisProbe();
}

export const PHASE3_CHECKS: CheckDefinition[] = [
  {
    id: 'phase3.distance-correct', phase: 3,
    title: 'Mahalanobis distances agree with a direct float64 computation',
    settings: ['heat.statistics.path', 'heat.statistics.covariance'],
    async run(m) {
      const probe = await probeOrSkip(m);
      return 'cells' in probe ? judgeDistanceCorrect(probe) : probe;
    },
  },
  {
    id: 'phase3.distance-nonnegative', phase: 3,
    title: 'Mahalanobis distances are never negative (square root of a clamped d²)',
    settings: ['heat.statistics.path'],
    async run(m) {
      const { runs, statisticsError } = await m.sessionRuns();
      const maps = runs.map((r) => r.run.maps.get('mahalanobis')).filter((x): x is Float32Array => x !== undefined);
      if (maps.length === 0) {
        return skip(`No Mahalanobis map: ${statisticsError ?? 'heat.statistics.path is empty or Mahalanobis is not among heat.score.components'}.`, {
          fix: { description: 'Compute the class statistics.', command: 'heat.computeStatistics' },
        });
      }
      try {
        const probe = await m.mahalanobisProbe();
        maps.push(probe.headMap);
      } catch { /* the sampled maps are judged alone */ }
      return judgeNonNegative(maps);
    },
  },
  {
    id: 'phase3.minimum-over-classes', phase: 3,
    title: 'Distance is the minimum over the known classes',
    settings: ['heat.statistics.path', 'heat.model.classNames'],
    async run(m) {
      const probe = await probeOrSkip(m);
      if (!('cells' in probe)) return probe;
      const names = get<string[]>(m.config, 'heat.model.classNames');
      return judgeMinimum(probe, names.length > 0 ? names : (await m.statistics()).stats?.metadata.classNames ?? []);
    },
  },
  {
    id: 'phase3.speed', phase: 3,
    title: 'Mahalanobis run time per image is acceptable',
    settings: ['heat.statistics.covariance', 'heat.statistics.rank', 'heat.executionProvider'],
    async run(m) {
      const probe = await probeOrSkip(m);
      if (!('cells' in probe)) return probe;
      const { runs, executionProvider } = await m.sessionRuns();
      const stats = (await m.statistics()).stats as ClassStatistics;
      return judgeSpeed(probe.headSeconds, runs.map((r) => r.run.timings.run / 1000), executionProvider, stats.dim, probe.covariance);
    },
  },
  {
    id: 'phase3.memory', phase: 3,
    title: 'Mahalanobis memory is manageable (precision matrices and per-image buffers)',
    settings: ['heat.statistics.covariance', 'heat.statistics.rank'],
    async run(m) {
      const probe = await probeOrSkip(m);
      if (!('cells' in probe)) return probe;
      const stats = (await m.statistics()).stats as ClassStatistics;
      return judgeHeadMemory(stats, probe.covariance, probe.classes.length, probe.featureHeight * probe.featureWidth, probe.graphBytes);
    },
  },
];
