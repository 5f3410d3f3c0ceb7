/**
 * Phase 6 — the whole pipeline: every configured component enters HEAT, images run end to end, and metrics
 * are computed on labelled data. HEAT is judged against the guide's minimum / target / stretch criteria:
 * pooled AUPR ≥ 8/10/12 %, FPR95 ≤ 28/25/20 %, AUROC ≥ 89/90/92 % (SUCCESS_CRITERIA in eval/report.ts).
 */
import type { MethodMetrics } from '../api';
import { get } from '../config';
import type { PixelCounts } from '../eval/metrics';
import { judgeCriteria, SUCCESS_CRITERIA } from '../eval/report';
import type { HeatComponent } from '../heat';
import { fail, num, pass, pct, skip, warn, type CheckDefinition, type CheckOutcome } from './types';

/** Judges that every configured component is combined and carries weight. */
export function judgeComponents(configured: readonly HeatComponent[], combined: readonly HeatComponent[], meanWeights: Partial<Record<HeatComponent, number>>, whyMissing?: string): CheckOutcome {
  const missing = configured.filter((c) => !combined.includes(c));
  const weights = combined.map((c) => `${c} ${meanWeights[c] === undefined ? 'n/a' : num(meanWeights[c] as number)}`).join(', ');
  const evidence = `Configured ${configured.join(' + ')}; combined ${combined.join(' + ')}; mean weights ${weights}`;
  if (missing.length > 0) {
    return warn(`${evidence}; ${missing.join(', ')} left out${whyMissing ? `: ${whyMissing.replace(/\.$/, '')}` : ''}.`, {
      settings: ['heat.statistics.path'],
      fix: missing.includes('mahalanobis') ? { description: 'Compute the class statistics so Mahalanobis can be combined.', command: 'heat.computeStatistics' } : undefined,
    });
  }
  const idle = combined.filter((c) => !((meanWeights[c] ?? 0) > 0));
  if (idle.length > 0) return warn(`${evidence}; ${idle.join(', ')} has zero weight.`);
  return pass(`${evidence}.`);
}

/** Judges an end-to-end pass: every sampled image scored with finite HEAT, and the time it took. */
export function judgeEndToEnd(scored: number, sampled: number, finiteHeat: number, seconds: readonly number[], provider: string): CheckOutcome {
  const mean = seconds.length > 0 ? seconds.reduce((a, b) => a + b, 0) / seconds.length : NaN;
  const evidence = `${scored} of ${sampled} sampled images scored from file to HEAT map on ${provider}, ${finiteHeat} with finite HEAT; ${num(mean * 1000)} ms per image (decode, preprocess, model and heads)`;
  if (scored < sampled || finiteHeat < scored) return fail(`${evidence}.`);
  return pass(`${evidence}.`);
}

/** Judges the evaluation: HEAT's pooled metrics defined, on anomaly and known pixels, with AUPR above the anomaly share. */
export function judgeMetrics(heat: MethodMetrics | undefined, counts: PixelCounts | undefined, split: string): CheckOutcome {
  if (!heat || !counts) return skip(`The ${split} evaluation has no HEAT line.`);
  const p = heat.pooled;
  const prevalence = counts.anomaly / Math.max(1, counts.anomaly + counts.known);
  const evidence = `${split} split: ${counts.images} images, ${counts.anomaly} anomaly and ${counts.known} known pixels (${counts.ignored} void); ` +
    `HEAT pooled AUPR ${p.aupr.value === null ? 'undefined' : num(p.aupr.value)} (chance level ${num(prevalence)}), FPR95 ${p.fpr95.value === null ? 'undefined' : num(p.fpr95.value)}, ` +
    `AUROC ${p.auroc.value === null ? 'undefined' : num(p.auroc.value)}; per-image over ${heat.perImage.imagesUsed} images (${heat.perImage.imagesSkipped} skipped)`;
  const undefinedMetric = (['aupr', 'fpr95', 'auroc'] as const).find((k) => p[k].value === null);
  if (undefinedMetric) return fail(`${evidence}; ${undefinedMetric} is undefined: ${p[undefinedMetric].reason}.`);
  if (counts.nan > 0) return fail(`${evidence}; ${counts.nan} scores are NaN.`);
  if ((p.aupr.value as number) <= prevalence) return warn(`${evidence}; AUPR is not above chance.`);
  return pass(`${evidence}.`);
}

/** Judges HEAT against the guide's criteria: pass at the minimum level or better; AUROC < 0.5 is an orientation error. */
export function judgeTargets(heat: MethodMetrics | undefined, split: string): CheckOutcome {
  if (!heat) return skip(`The ${split} evaluation has no HEAT line.`);
  const auroc = heat.pooled.auroc.value;
  if (auroc !== null && auroc < 0.5) {
    return fail(`Inverted orientation: HEAT AUROC ${num(auroc)} < 0.5 on the ${split} split ranks known pixels above anomalies. Check the sign of each component (higher = more anomalous); with the signs right, the model ranks these anomalies as more familiar than known pixels.`);
  }
  const judged = judgeCriteria(heat);
  const levelMet = (level: string) => judged.filter((j) => j.level === level).every((j) => j.status === 'met');
  const reached = [...SUCCESS_CRITERIA].reverse().find((c) => levelMet(c.level))?.level;
  const show = (metric: 'aupr' | 'fpr95' | 'auroc') => {
    const v = heat.pooled[metric].value;
    const marks = judged.filter((j) => j.metric === metric).map((j) => `${j.level} ${j.requirement} ${j.status === 'met' ? 'met' : 'not met'}`).join(', ');
    return `${metric.toUpperCase()} ${v === null ? 'undefined' : pct(v)} (${marks})`;
  };
  const evidence = `HEAT on the ${split} split: ${show('aupr')}; ${show('fpr95')}; ${show('auroc')}`;
  if (!reached) return warn(`${evidence}; the minimum criteria are not all met.`, { settings: ['heat.sweep.grid'] });
  return pass(`${evidence}; ${reached} level reached.`);
}

const heatLine = (methods: { metrics: MethodMetrics; counts: PixelCounts }[]) => methods.find((m) => m.metrics.method === 'HEAT');

export const PHASE6_CHECKS: CheckDefinition[] = [
  {
    id: 'phase6.components-integrated', phase: 6,
    title: 'All configured components are integrated into HEAT',
    settings: ['heat.score.components', 'heat.statistics.path'],
    async run(m) {
      const { runs, components, statisticsError, notes } = await m.sessionRuns();
      const means: Partial<Record<HeatComponent, number>> = {};
      for (const c of components) {
        let sum = 0;
        let n = 0;
        for (const { run } of runs) {
          const w = run.maps.get(`weight_${c}`);
          if (!w) continue;
          for (let i = 0; i < w.length; i++) if (Number.isFinite(w[i])) { sum += w[i]; n++; }
        }
        if (n > 0) means[c] = sum / n;
      }
      const why = statisticsError ?? notes.find((n) => /statistics/i.test(n));
      return judgeComponents(get<HeatComponent[]>(m.config, 'heat.score.components'), components, means, why);
    },
  },
  {
    id: 'phase6.end-to-end', phase: 6,
    title: 'End-to-end pipeline runs from image file to HEAT map',
    settings: ['heat.model.path', 'heat.executionProvider'],
    async run(m) {
      const samples = await m.samples();
      const { runs, executionProvider } = await m.sessionRuns();
      const finite = runs.filter(({ run }) => {
        const heat = run.maps.get('heat');
        return heat !== undefined && heat.every(Number.isFinite);
      }).length;
      const seconds = runs.map(({ run }) => (run.timings.decode + run.timings.preprocess + run.timings.run) / 1000);
      return judgeEndToEnd(runs.length, samples.length, finite, seconds, executionProvider);
    },
  },
  {
    id: 'phase6.metrics', phase: 6,
    title: 'Metrics are computed on labelled anomaly and known pixels',
    settings: ['heat.data.test.images', 'heat.data.test.labels', 'heat.labels.anomaly'],
    async run(m) {
      const evaluation = await m.evaluation();
      if (!evaluation) return skip('No labelled test or validation split is configured.', { settings: ['heat.data.test.labels'] });
      const heat = heatLine(evaluation.methods);
      return judgeMetrics(heat?.metrics, heat?.counts, evaluation.split);
    },
  },
  {
    id: 'phase6.targets', phase: 6,
    title: 'HEAT meets the minimum, target or stretch criteria (AUPR, FPR95, AUROC)',
    settings: ['heat.score.combination', 'heat.score.temperature', 'heat.statistics.covariance'],
    async run(m) {
      const evaluation = await m.evaluation();
      if (!evaluation) return skip('No labelled test or validation split is configured.', { settings: ['heat.data.test.labels'] });
      return judgeTargets(heatLine(evaluation.methods)?.metrics, evaluation.split);
    },
  },
];
