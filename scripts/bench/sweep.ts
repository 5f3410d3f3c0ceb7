/**
 * Sweep benchmark: the 24-configuration grid on a validation split (the sample workspace, and RoadAnomaly with
 * DeepLabV3 when ../shared/real exists). It runs once as a one-pass sweep and once as 24 separate
 * `heat-lens eval --split val` evaluations (evaluate(): one model session and one pass over the split per
 * configuration), in the same process. Both read the same statistics, computed beforehand into a temporary
 * folder. Also reports the largest AUPR difference between the two paths.
 */
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig, withOverrides, type HeatConfig } from '../../src/core/config';
import { evaluate } from '../../src/core/pipeline/evaluate';
import { computeStatistics } from '../../src/core/stats/compute';
import { expandGrid, runSweep, settingsSnippet, validateGrid, baseConfiguration } from '../../src/core/sweep';

const SAMPLE = path.resolve(__dirname, '..', '..', 'samples', 'street');
export const BENCH_GRID = { temperature: [0.5, 1, 2], alpha: [0.8, 0.9], kernelSize: [3, 5], covariance: ['tied', 'classwise'] };

export interface SweepBenchResult {
  workspace: string;
  configurations: number;
  images: number;
  sweepSeconds: number;
  sweepForwardPasses: number;
  separateSeconds: number;
  separateForwardPasses: number;
  speedup: number;
  maxAuprDifference: number;
}

const REAL = path.resolve(__dirname, '..', '..', '..', 'shared', 'real');
const ROAD_ANOMALY = path.resolve(__dirname, '..', '..', 'examples', 'deeplabv3-roadanomaly-sweep.json');

/** Runs the comparison on the sample workspace, and on RoadAnomaly with DeepLabV3 when ../shared/real exists. */
export async function benchmarkSweep(log: (line: string) => void): Promise<SweepBenchResult[]> {
  const results = [await compare('samples/street', await loadConfig(undefined, SAMPLE), log)];
  if (existsSync(REAL)) results.push(await compare('RoadAnomaly val, DeepLabV3', await loadConfig(ROAD_ANOMALY), log));
  else log(`  RoadAnomaly skipped: ${REAL} is absent.`);
  return results;
}

async function compare(workspace: string, loaded: HeatConfig, log: (line: string) => void): Promise<SweepBenchResult> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'heat-bench-sweep-'));
  try {
    const config = withOverrides(loaded, { 'heat.statistics.path': path.join(dir, 'statistics.safetensors'), 'heat.executionProvider': 'cpu', 'heat.sweep.grid': BENCH_GRID });
    await computeStatistics(config, {});
    const configurations = expandGrid(validateGrid(BENCH_GRID), baseConfiguration(config));

    // Warm-up: one evaluation loads onnxruntime and the model files into the caches both paths use.
    await evaluate(config, { split: 'val' });

    let t0 = performance.now();
    const sweep = await runSweep(config, BENCH_GRID);
    const sweepSeconds = (performance.now() - t0) / 1000;

    t0 = performance.now();
    let maxAuprDifference = 0;
    let separateForwardPasses = 0;
    for (const c of configurations) {
      const result = await evaluate(withOverrides(config, settingsSnippet(c)), { split: 'val' });
      separateForwardPasses += sweep.images;
      const heat = result.methods.find((m) => m.metrics.method === 'HEAT')!.metrics.pooled.aupr.value as number;
      const row = sweep.rows.find((r) => JSON.stringify(r.configuration) === JSON.stringify(c))!;
      maxAuprDifference = Math.max(maxAuprDifference, Math.abs(heat - (row.metrics.pooled.aupr.value as number)));
    }
    const separateSeconds = (performance.now() - t0) / 1000;

    const out: SweepBenchResult = {
      workspace, configurations: configurations.length, images: sweep.images, sweepSeconds, sweepForwardPasses: sweep.forwardPasses,
      separateSeconds, separateForwardPasses, speedup: separateSeconds / sweepSeconds, maxAuprDifference,
    };
    log(`  ${workspace}: ${out.configurations} configurations × ${out.images} validation images (CPU)`);
    log(`    one-pass sweep: ${sweepSeconds.toFixed(2)} s, ${out.sweepForwardPasses} forward passes`);
    log(`    ${out.configurations} separate evaluations: ${separateSeconds.toFixed(2)} s, ${separateForwardPasses} forward passes`);
    log(`    speed-up ${out.speedup.toFixed(1)}× (goal ≥ 8×); largest AUPR difference between the paths ${maxAuprDifference.toExponential(2)}`);
    return out;
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
