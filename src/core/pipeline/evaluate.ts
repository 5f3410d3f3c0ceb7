/**
 * `heat-lens eval`: scores a labelled split once and evaluates HEAT and the baselines from that one pass.
 *
 * Steps: open one session (model + head). When a validation split is configured, score it first and take
 * each method's F1-optimal threshold there. Then score the test split, resize every map bilinearly from the
 * logits' resolution to the label's, and feed one metric accumulator per method. Last, write the reports.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import * as path from 'node:path';
import type { EvalOptions } from '../api';
import { get, SETTINGS, type HeatConfig, type SplitName } from '../config';
import { HeatError, throwIfCancelled } from '../errors';
import { labelMappingFromConfig, listSplit, loadLabel, type LabelMapping, type Sample } from '../data';
import { MetricAccumulator, validationThreshold, type GivenThreshold, type MethodEvaluation } from '../eval/metrics';
import { writeNpy } from '../eval/npy';
import { writeReport, type ReportFiles } from '../eval/report';
import { checkOutputPath, writeDirAtomic } from '../fsutil';
import { noProgress, silentLogger, type Logger, type Progress } from '../log';
import type { ClassStatistics } from '../stats/types';
import { resizeBilinear } from './resize';
import { makeNormalizer } from './score';
import { uniqueImageNames } from './names';
import { HeatSession, type ImageRun } from './session';

/** Evaluated methods: label in reports, and how its score map is read from one image's run. */
interface Method {
  name: string;
  score(run: ImageRun, normalized: Float32Array | undefined): Float32Array | undefined;
}

export interface EvaluationResult {
  methods: MethodEvaluation[];
  files?: ReportFiles;
  outDir?: string;
  executionProvider: string;
  split: SplitName;
  thresholdSource: 'validation' | 'none';
  durationSeconds: number;
}

/** Methods evaluated from one pass; Mahalanobis and standardized max logit need statistics. */
export function evaluationMethods(statistics: ClassStatistics | undefined): Method[] {
  const map = (name: string) => (run: ImageRun) => run.maps.get(name);
  const methods: Method[] = [
    { name: 'HEAT', score: (_run, normalized) => normalized },
    { name: 'HEAT (before normalization)', score: map('heat') },
    { name: 'Max softmax', score: map('max_softmax') },
    { name: 'Max logit', score: map('max_logit') },
    { name: 'Energy', score: map('energy') },
  ];
  if (statistics?.maxLogit) {
    const { mean, std } = statistics.maxLogit;
    methods.push({ name: 'Standardized max logit', score: (run) => standardizedMaxLogit(run, mean, std) });
  }
  if (statistics) methods.push({ name: 'Mahalanobis', score: map('mahalanobis') });
  methods.push({ name: 'Spatial consistency', score: map('spatial') });
  return methods;
}

/**
 * Standardized max logit: the max logit standardised by the training statistics of the predicted class,
 * negated so that higher = more anomalous: (μ_c − max z) / σ_c. The head's `max_logit` map already
 * contains −max z.
 */
function standardizedMaxLogit(run: ImageRun, mean: Float64Array, std: Float64Array): Float32Array | undefined {
  const negMax = run.maps.get('max_logit');
  if (!negMax) return undefined;
  const { means, stds } = withFallbackMoments(mean, std);
  const out = new Float32Array(negMax.length);
  for (let i = 0; i < out.length; i++) {
    const c = run.prediction[i];
    out[i] = (means[c] + negMax[i]) / stds[c];
  }
  return out;
}

/**
 * Classes without training pixels (std 0) take the mean of the other classes' moments, so that a pixel
 * predicted as such a class is standardised on the same scale as the rest instead of on (0, 1).
 */
function withFallbackMoments(mean: Float64Array, std: Float64Array): { means: Float64Array; stds: Float64Array } {
  let sumMean = 0;
  let sumStd = 0;
  let known = 0;
  for (let c = 0; c < std.length; c++) {
    if (std[c] > 0) { sumMean += mean[c]; sumStd += std[c]; known++; }
  }
  const fallbackMean = known > 0 ? sumMean / known : 0;
  const fallbackStd = known > 0 ? sumStd / known : 1;
  const means = Float64Array.from(mean, (m, c) => (std[c] > 0 ? m : fallbackMean));
  const stds = Float64Array.from(std, (s) => (s > 0 ? s : fallbackStd));
  return { means, stds };
}

/** Scores and evaluates the test split (or options.split); writes the reports when options.outDir is set. */
export async function evaluate(config: HeatConfig, options: EvalOptions = {}): Promise<EvaluationResult> {
  const log = options.log ?? silentLogger;
  const progress = options.progress ?? noProgress;
  const split = options.split ?? 'test';
  const started = Date.now();
  if (options.outDir) await checkOutputPath(options.outDir, 'folder', 'the report folder (--out)');

  const testSamples = await listSplit(config, split, { requireLabels: true });
  if (testSamples.length === 0) {
    throw new HeatError(`The ${split} split has no images.`, `Set heat.data.${split}.images to a glob of labelled images.`, `heat.data.${split}.images`);
  }
  const valSamples = split === 'val' ? [] : await listSplit(config, 'val', { requireLabels: true });

  const session = await HeatSession.open(config, { log });
  try {
    const mapping = labelMappingFromConfig(config, session.classCount);
    const methods = evaluationMethods(session.statistics);

    let thresholds: (GivenThreshold | null)[] = methods.map(() => null);
    if (valSamples.length > 0) {
      log.info(`Choosing F1-optimal thresholds on the validation split (${valSamples.length} images).`);
      const validation = await scoreSplit(config, session, methods, valSamples, mapping, { ...options, log, progress }, 'Validation', undefined);
      thresholds = validation.map(validationThreshold);
    } else if (split === 'val') {
      log.info('The validation split is the split evaluated, so no threshold is chosen: it would be chosen on the pixels it is applied to.');
    } else {
      log.warn('No validation split is configured (heat.data.val.images), so no threshold is chosen; the test split is never used for that.');
    }

    // Saved scores go to a temporary folder that becomes scores/ only when the split is done, so a cancelled or
    // failed evaluation leaves no partial set beside an earlier report.
    const scoreTest = (scoresDir: string | undefined) => scoreSplit(config, session, methods, testSamples, mapping, { ...options, log, progress }, 'Evaluating', scoresDir, thresholds);
    let evaluations: MethodEvaluation[] = [];
    if (options.saveScores && options.outDir) {
      await writeDirAtomic(path.join(options.outDir, 'scores'), async (dir) => {
        evaluations = await scoreTest(dir);
        throwIfCancelled(options.signal, 'Evaluation');
      });
    } else {
      evaluations = await scoreTest(undefined);
    }
    const thresholdSource = valSamples.length > 0 ? 'validation' : 'none';
    const durationSeconds = (Date.now() - started) / 1000;

    let files: ReportFiles | undefined;
    if (options.outDir) {
      throwIfCancelled(options.signal, 'Evaluation');
      files = await writeReport(options.outDir, {
        methods: evaluations,
        headline: 'HEAT',
        provenance: {
          model: { path: session.model.path, sha256: session.model.sha256 },
          statistics: session.statisticsPath ? { path: session.statisticsPath, sha256: await sha256File(session.statisticsPath) } : null,
          config: { source: config.source, settings: settingsOf(config) },
          executionProvider: session.executionProvider,
          split,
          startedAt: new Date(started).toISOString(),
          durationSeconds,
          thresholdSource,
        },
      });
      log.info(`Wrote ${files.markdown}.`);
    }
    return { methods: evaluations, files, outDir: options.outDir, executionProvider: session.executionProvider, split, thresholdSource, durationSeconds };
  } finally {
    await session.release();
  }
}

interface SplitOptions extends EvalOptions {
  log: Logger;
  progress: Progress;
}

/** Scores a split in one pass: each image runs once and feeds every method's accumulator. */
async function scoreSplit(
  config: HeatConfig, session: HeatSession, methods: Method[], samples: Sample[], mapping: LabelMapping,
  options: SplitOptions, stage: string, scoresDir: string | undefined, thresholds?: (GivenThreshold | null)[],
): Promise<MethodEvaluation[]> {
  const maxExactPixels = get<number>(config, 'heat.eval.maxExactPixels');
  const accumulators = methods.map((m) => new MetricAccumulator(m.name, { maxExactPixels }));
  const normalizer = makeNormalizer(config);
  // Per-image file names for --save-scores; frames of different sequences often share a stem.
  const names = uniqueImageNames(samples.map((s) => s.image));

  for (let i = 0; i < samples.length; i++) {
    throwIfCancelled(options.signal, 'Evaluation');
    options.progress.report(i, samples.length, stage);
    const sample = samples[i];
    const run = await session.runImage(sample.image);
    const label = await loadLabel(sample.label as string, mapping, { width: run.image.width, height: run.image.height, image: sample.image });
    const heat = run.maps.get('heat');
    const normalized = heat ? normalizer.normalize(heat, sample.image) : undefined;

    for (let m = 0; m < methods.length; m++) {
      const scores = methods[m].score(run, normalized);
      if (!scores) continue;
      const resized = resizeBilinear(scores, run.height, run.width, label.height, label.width);
      accumulators[m].add(resized, label.anomaly, sample.image);
      if (scoresDir && m === 0) {
        await writeNpy(path.join(scoresDir, `${names[i]}.heat.npy`), resized, [label.height, label.width]);
        await writeNpy(path.join(scoresDir, `${names[i]}.label.npy`), label.anomaly, [label.height, label.width]);
      }
    }
  }
  options.progress.report(samples.length, samples.length, stage);
  return accumulators.map((acc, m) => acc.finish(thresholds?.[m] ?? undefined));
}

function settingsOf(config: HeatConfig): Record<string, unknown> {
  return Object.fromEntries(SETTINGS.map((s) => [s.key, config[s.key]]));
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
