/**
 * Phase 1 — energy score and metrics. Energy E = −T·logsumexp(z/T), higher = more anomalous.
 * Since max z ≤ T·logsumexp(z/T) ≤ max z + T·ln C, every pixel must satisfy −max z − T·ln C ≤ E ≤ −max z.
 * The head's max-logit map contains −max z, so this bound checks the energy map pixel by pixel without
 * recomputing it.
 */
import type { MethodMetrics } from '../api';
import { get } from '../config';
import { listSplit } from '../data';
import type { EvaluationResult } from '../pipeline/evaluate';
import { fail, num, pass, skip, warn, type CheckDefinition, type CheckOutcome } from './types';

export interface EnergyMapInput {
  energy: Float32Array;
  /** −max z per pixel (the head's max_logit map). */
  negMaxLogit: Float32Array;
  height: number;
  width: number;
}

/**
 * Judges energy maps: size equal to the logits' spatial size (`logits` is measured on the first map's image),
 * finite values, and the logsumexp bounds.
 */
export function judgeEnergyMaps(maps: readonly EnergyMapInput[], logits: { height: number; width: number } | undefined, temperature: number, classCount: number): CheckOutcome {
  if (maps.length === 0) return skip('No energy map was produced.');
  const spread = temperature * Math.log(classCount);
  let pixels = 0;
  let nonFinite = 0;
  let outside = 0;
  let worst = 0;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  const wrongShape: string[] = [];
  for (const [index, m] of maps.entries()) {
    if (m.energy.length !== m.height * m.width || (logits && index === 0 && (m.height !== logits.height || m.width !== logits.width))) {
      wrongShape.push(`${m.height}×${m.width} (${m.energy.length} values)`);
    }
    for (let i = 0; i < m.energy.length; i++) {
      const e = m.energy[i];
      pixels++;
      if (!Number.isFinite(e)) { nonFinite++; continue; }
      if (e < min) min = e;
      if (e > max) max = e;
      sum += e;
      const upper = m.negMaxLogit[i];
      const tolerance = 1e-4 * Math.max(1, Math.abs(e));
      const excess = Math.max(e - upper, upper - spread - e);
      if (excess > tolerance) { outside++; worst = Math.max(worst, excess); }
    }
  }
  const size = `${maps[0].height}×${maps[0].width}`;
  const logitsSize = logits ? `${logits.height}×${logits.width}` : 'not measured';
  const range = `range ${num(min)} to ${num(max)}, mean ${num(sum / Math.max(1, pixels - nonFinite))}`;
  if (wrongShape.length > 0) return fail(`Energy maps of ${wrongShape.join(', ')} do not match the logits' ${logitsSize}.`);
  if (nonFinite > 0) return fail(`${nonFinite} of ${pixels} energy values are NaN or infinite over ${maps.length} images.`);
  if (outside > 0) {
    return fail(`${outside} of ${pixels} energy values break −max z − T·ln C ≤ E ≤ −max z (T = ${num(temperature)}, C = ${classCount}; worst by ${num(worst)}).`);
  }
  if (max - min <= 1e-6 * Math.max(1, Math.abs(min))) {
    return warn(`Energy is constant (${num(min)}) over ${pixels} pixels of ${maps.length} images: the logits tensor probably holds probabilities, not logits.`, {
      settings: ['heat.model.logitsTensor'],
    });
  }
  return pass(`${maps.length} images: energy ${size} = logits ${logitsSize}, all ${pixels} values finite, ${range}, and within −max z − T·ln C ≤ E ≤ −max z (T·ln C = ${num(spread)}).`);
}

/** Judges the metric values: each in [0, 1] or undefined with a reason, and the HEAT line present. */
export function judgeMetricFormat(methods: readonly MethodMetrics[], split: string): CheckOutcome {
  if (methods.length === 0) return skip('No method was evaluated.');
  const bad: string[] = [];
  let defined = 0;
  for (const m of methods) {
    for (const group of [m.pooled, m.perImage] as const) {
      for (const key of ['aupr', 'auroc', 'fpr95'] as const) {
        const metric = group[key];
        if (metric.value === null) { if (!metric.reason) bad.push(`${m.method} ${key} undefined without a reason`); continue; }
        defined++;
        if (!(metric.value >= 0 && metric.value <= 1)) bad.push(`${m.method} ${key} = ${metric.value}`);
      }
    }
  }
  if (bad.length > 0) return fail(`Metric values outside [0, 1] or unexplained: ${bad.slice(0, 4).join('; ')}.`);
  const heat = methods.find((m) => m.method === 'HEAT') ?? methods[0];
  const p = heat.pooled;
  const show = (v: { value: number | null; reason?: string }) => (v.value === null ? `undefined (${v.reason})` : num(v.value));
  return pass(`${methods.length} methods on the ${split} split, ${defined} defined values all in [0, 1]; ${heat.method} pooled AUPR ${show(p.aupr)}, FPR95 ${show(p.fpr95)}, AUROC ${show(p.auroc)} (anomaly positive, AP as scikit-learn, FPR at the first TPR ≥ 0.95).`);
}

/** Judges where the threshold comes from: the validation split must be configured and labelled. */
export function judgeThresholdSource(valImages: number, valLabelled: number, evaluation: { source: 'validation' | 'none'; value?: number; f1?: number } | undefined): CheckOutcome {
  if (valImages === 0) {
    return warn('heat.data.val.images lists no image, so no threshold is chosen (the test split is never used for that).', { settings: ['heat.data.val.images'] });
  }
  if (valLabelled < valImages) {
    return warn(`${valImages - valLabelled} of ${valImages} validation images have no label, so the F1-optimal threshold cannot be chosen there.`, { settings: ['heat.data.val.labels'] });
  }
  if (evaluation && evaluation.source !== 'validation') return fail(`The evaluation took its threshold from "${evaluation.source}", not from the ${valImages} validation images.`);
  const chosen = evaluation?.value !== undefined ? `; HEAT threshold ${num(evaluation.value)}${evaluation.f1 !== undefined ? ` (F1 ${num(evaluation.f1)} when applied to the test split)` : ''}` : '';
  return pass(`The threshold is chosen F1-optimally on ${valImages} labelled validation images, never on the test split${chosen}.`);
}

const metric = (methods: readonly MethodMetrics[], name: string) => methods.find((m) => m.method === name);

/**
 * Judges energy and HEAT against max logit on AUPR. An AUROC below 0.5 is an orientation error (the score
 * ranks known pixels above anomalies), reported as a failure rather than a weak result.
 */
export function judgeBaseline(methods: readonly MethodMetrics[], split: string): CheckOutcome {
  const baseline = metric(methods, 'Max logit');
  const contenders = ['Energy', 'HEAT'].map((n) => metric(methods, n)).filter((m): m is MethodMetrics => m !== undefined);
  if (!baseline || contenders.length === 0) return skip(`The ${split} evaluation has no max-logit baseline or no energy/HEAT line.`);

  const inverted = contenders.filter((m) => m.pooled.auroc.value !== null && m.pooled.auroc.value < 0.5);
  if (inverted.length > 0) {
    const list = inverted.map((m) => `${m.method} AUROC ${num(m.pooled.auroc.value as number)}`).join(', ');
    return fail(`Inverted orientation: ${list} < 0.5 on the ${split} split, so the score ranks known pixels above anomalies. The usual cause is the sign: the anomaly score must be +E (higher = more anomalous), not −E. With the sign right, the model ranks these anomalies as more familiar than known pixels.`, {
      settings: ['heat.score.temperature'],
    });
  }
  const base = baseline.pooled.aupr.value;
  if (base === null) return skip(`Max-logit AUPR is undefined on the ${split} split: ${baseline.pooled.aupr.reason}.`);
  const parts = contenders.map((m) => {
    const v = m.pooled.aupr.value;
    return { name: m.method, value: v, beats: v !== null && v >= base };
  });
  const text = parts.map((p) => `${p.name} AUPR ${p.value === null ? 'undefined' : num(p.value)}`).join(', ');
  const evidence = `${text} vs max logit ${num(base)} on the ${split} split.`;
  if (parts.every((p) => p.beats)) return pass(evidence);
  const losers = parts.filter((p) => !p.beats).map((p) => p.name);
  return warn(`${evidence} ${losers.join(' and ')} ${losers.length > 1 ? 'do' : 'does'} not beat the baseline.`, {
    // No single setting is right for every model (on the bundled sample, standardized is worse), so the fix is a measurement.
    fix: {
      description: 'Compare the combinations and components on the validation split with a sweep, for example the grid {"combination": ["reliability", "standardized", "equal"]}, then set the best.',
      command: 'heat.runSweep',
    },
    settings: ['heat.score.combination', 'heat.score.components'],
  });
}

export const PHASE1_CHECKS: CheckDefinition[] = [
  {
    id: 'phase1.energy-shape-range', phase: 1,
    title: 'Energy map has the logits\' size and finite values in the range logsumexp allows',
    settings: ['heat.score.temperature', 'heat.model.logitsTensor'],
    async run(m) {
      const { runs, classCount } = await m.sessionRuns();
      let logits: { height: number; width: number } | undefined;
      try {
        const probe = await m.featureProbe();
        logits = { height: probe.logitsHeight, width: probe.logitsWidth };
      } catch { /* size not measured; the other properties are still judged */ }
      const maps = runs.filter((r) => r.run.maps.has('energy') && r.run.maps.has('max_logit')).map((r) => ({
        energy: r.run.maps.get('energy') as Float32Array, negMaxLogit: r.run.maps.get('max_logit') as Float32Array, height: r.run.height, width: r.run.width,
      }));
      return judgeEnergyMaps(maps, logits, get<number>(m.config, 'heat.score.temperature'), classCount);
    },
  },
  {
    id: 'phase1.metric-format', phase: 1,
    title: 'Metrics AUPR, FPR95 and AUROC are reported as fractions with their conventions',
    settings: ['heat.data.test.images', 'heat.labels.anomaly', 'heat.labels.ignore'],
    async run(m) {
      const evaluation = await m.evaluation();
      if (!evaluation) return skip('No labelled test or validation split is configured, so no metric is computed.', { settings: ['heat.data.test.labels'] });
      return judgeMetricFormat(evaluation.methods.map((e) => e.metrics), evaluation.split);
    },
  },
  {
    id: 'phase1.threshold-validation', phase: 1,
    title: 'Threshold is chosen on the validation split',
    settings: ['heat.data.val.images', 'heat.data.val.labels'],
    async run(m) {
      const val = await listSplit(m.config, 'val');
      const labelled = val.filter((s) => s.label).length;
      let chosen: Parameters<typeof judgeThresholdSource>[2];
      if (val.length > 0 && labelled === val.length) {
        const evaluation: EvaluationResult | null = await m.evaluation();
        const heat = evaluation?.methods.find((e) => e.metrics.method === 'HEAT')?.metrics.threshold;
        if (evaluation && evaluation.split !== 'val') chosen = { source: evaluation.thresholdSource, value: heat?.value, f1: heat?.f1 };
      }
      return judgeThresholdSource(val.length, labelled, chosen);
    },
  },
  {
    id: 'phase1.beats-max-logit', phase: 1,
    title: 'Energy and HEAT beat the max-logit baseline (AUROC below 0.5 means inverted orientation)',
    settings: ['heat.score.temperature', 'heat.score.combination'],
    async run(m) {
      const evaluation = await m.evaluation();
      if (!evaluation) return skip('No labelled test or validation split is configured, so the baseline cannot be compared.', { settings: ['heat.data.test.labels'] });
      return judgeBaseline(evaluation.methods.map((e) => e.metrics), evaluation.split);
    },
  },
];
