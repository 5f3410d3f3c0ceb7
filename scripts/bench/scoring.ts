/**
 * Scoring benchmark: the bare forward pass of a model against full HEAT scoring (model + head graph with
 * energy, Mahalanobis, spatial consistency, weights and combination, plus the host-side normalizer) on the
 * same input tensor, in the same run. Reported as a ratio; the goal is ≤ 1.25 on the CPU.
 */
import * as ort from 'onnxruntime-node';
import { buildHeatHead, FEATURES_INPUT, LOGITS_INPUT, ScoreNormalizer } from '../../src/core/heat';
import { createSession, ScoringPipeline, type ProviderSetting } from '../../src/core/model';
import type { ClassStatistics } from '../../src/core/stats/types';
import type { Layout } from '../../src/core/tensor';

export interface ScoringBenchRow {
  model: string;
  provider: string;
  mode: string;
  forwardMs: number;
  scoringMs: number;
  ratio: number;
  runs: number;
}

export interface ScoringCase {
  name: string;
  model: Uint8Array;
  feeds: Record<string, ort.Tensor>;
  logits: { tensor: string; layout: Layout };
  features: { tensor: string; layout: Layout };
  classes: number;
  dim: number;
}

/** Seeded class statistics with a well-conditioned tied precision; the values do not matter for timing. */
export function syntheticStatistics(classes: number, dim: number): ClassStatistics {
  let state = 12345;
  const random = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
  const precision = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) precision[i * dim + i] = 1 + random();
  return {
    classCount: classes,
    dim,
    means: new Float64Array(classes * dim).map(() => random()),
    counts: new Float64Array(classes).fill(1000),
    emptyClasses: [],
    tiedPrecision: precision,
    metadata: {
      formatVersion: '1', modelSha256: '', featureTensor: '', dim, classNames: [], labelMapping: {}, preprocessing: {},
      regularization: { epsilon: 1e-4, mode: 'absolute' }, labelSource: 'groundTruth', imageCount: 0, createdAt: '',
    },
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Times `runs` alternating forward and scoring runs after one warm-up each, and returns the medians. */
export async function benchmarkScoring(c: ScoringCase, provider: ProviderSetting, runs: number, log: (line: string) => void): Promise<ScoringBenchRow> {
  const bare = await createSession(c.model, provider, { info() {}, warn() {}, error() {}, debug() {} }, 'bare model');
  const head = buildHeatHead({ statistics: syntheticStatistics(c.classes, c.dim), classCount: c.classes });
  const pipeline = await ScoringPipeline.create(c.model, head.model, {
    [LOGITS_INPUT]: c.logits,
    [FEATURES_INPUT]: c.features,
  }, { provider: bare.provider });
  const normalizer = new ScoreNormalizer({ mode: 'adaptive', alpha: 0.9 });

  const forward = async () => { await bare.session.run(c.feeds); };
  const scoring = async () => {
    const out = await pipeline.run(c.feeds);
    normalizer.normalize(out.heat.data as Float32Array);
  };
  await forward();
  await scoring();

  const forwardTimes: number[] = [];
  const scoringTimes: number[] = [];
  for (let i = 0; i < runs; i++) {
    let t = performance.now();
    await forward();
    forwardTimes.push(performance.now() - t);
    t = performance.now();
    await scoring();
    scoringTimes.push(performance.now() - t);
  }
  await bare.session.release();
  await pipeline.release();

  const forwardMs = median(forwardTimes);
  const scoringMs = median(scoringTimes);
  const row = { model: c.name, provider: pipeline.executionProvider, mode: pipeline.mode, forwardMs, scoringMs, ratio: scoringMs / forwardMs, runs };
  log(`  ${c.name}: forward ${forwardMs.toFixed(1)} ms, HEAT scoring ${scoringMs.toFixed(1)} ms, ratio ${row.ratio.toFixed(3)} (${row.mode}, ${row.provider}, median of ${runs})`);
  return row;
}
