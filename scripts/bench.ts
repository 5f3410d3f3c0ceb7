/**
 * `npm run bench`: every HEAT Lens benchmark, each against a baseline measured in the same run.
 * Prints a report and writes bench-results.json. Sections can be chosen: `npm run bench -- scoring metrics`.
 * Nothing here asserts a time; docs/benchmarks.md records what was measured and on which machine.
 */
import { existsSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { benchmarkMetrics } from '../src/core/eval/bench';
import type { ProviderSetting } from '../src/core/model';
import { benchmarkStatistics } from '../src/core/stats';
import { resnetLikeModel, SYNTHETIC_FEATURES, SYNTHETIC_LOGITS, SYNTHETIC_LOW_LOGITS } from '../src/core/stats/synthetic';
import { benchmarkScoring, type ScoringBenchRow } from './bench/scoring';
import { statisticsMemoryInChild } from './bench/statistics-memory';

const REAL = path.resolve(__dirname, '..', '..', 'shared', 'real');
const log = (line: string) => process.stdout.write(`${line}\n`);

function seededTensor(dims: number[], low: number, high: number): ort.Tensor {
  let state = 99;
  const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    data[i] = low + (high - low) * (state / 4294967296);
  }
  return new ort.Tensor('float32', data, dims);
}

async function scoringSection(provider: ProviderSetting): Promise<ScoringBenchRow[]> {
  log(`\n## Scoring: bare forward vs full HEAT scoring (provider setting "${provider}")`);
  const rows: ScoringBenchRow[] = [];
  const deeplab = path.join(REAL, 'models', 'deeplabv3-mnv2-voc', 'deeplab_v3_1_default_1.onnx');
  if (existsSync(deeplab)) {
    const { readFileSync } = await import('node:fs');
    rows.push(await benchmarkScoring({
      name: 'DeepLabV3 (MobileNetV2, 257×257, D=256)',
      model: readFileSync(deeplab),
      feeds: { sub_7: seededTensor([1, 257, 257, 3], -1, 1) },
      logits: { tensor: 'ResizeBilinear_3', layout: 'NHWC' },
      features: { tensor: 'Relu__94:0', layout: 'NCHW' },
      classes: 21,
      dim: 256,
    }, provider, 40, log));
    rows.push(await benchmarkScoring({
      name: 'DeepLabV3 with its 33×33 logits (logits/semantic/BiasAdd)',
      model: readFileSync(deeplab),
      feeds: { sub_7: seededTensor([1, 257, 257, 3], -1, 1) },
      logits: { tensor: 'logits/semantic/BiasAdd', layout: 'NCHW' },
      features: { tensor: 'Relu__94:0', layout: 'NCHW' },
      classes: 21,
      dim: 256,
    }, provider, 40, log));
  } else {
    log(`  DeepLabV3 skipped: ${deeplab} is absent (see ../shared/real/README.md).`);
  }

  // The statistics benchmark uses the same model; its only graph output is the logits, so the bare forward
  // pass does not copy the feature map out.
  // The second row binds the logits before the model's ×8 upsampling, which the merged graph then no longer computes.
  const synthetic = [
    { name: 'Synthetic ResNet-like (512×1024, features 1024×64×128)', logits: SYNTHETIC_LOGITS },
    { name: 'Synthetic ResNet-like with its 64×128 logits (logits_low)', logits: SYNTHETIC_LOW_LOGITS },
  ];
  for (const row of synthetic) {
    rows.push(await benchmarkScoring({
      name: row.name,
      model: resnetLikeModel(),
      feeds: { image: seededTensor([1, 3, 512, 1024], -2, 2) },
      logits: { tensor: row.logits, layout: 'NCHW' },
      features: { tensor: SYNTHETIC_FEATURES, layout: 'NCHW' },
      classes: 19,
      dim: 1024,
    }, provider, 9, log));
  }
  return rows;
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const providerArg = process.argv.find((a) => a.startsWith('--provider='));
  const provider = (providerArg?.split('=')[1] ?? 'cpu') as ProviderSetting;
  const run = (section: string) => wanted.length === 0 || wanted.includes(section);
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, onnxruntime-node ${ort.env.versions.node}`;
  log(`# HEAT Lens benchmarks\n\nMachine: ${machine}`);
  const results: Record<string, unknown> = { machine, date: new Date().toISOString() };

  if (run('scoring')) results.scoring = await scoringSection(provider);

  if (run('statistics')) {
    log('\n## Statistics pass: throughput vs bare forward, peak memory for 10 and 100 images (synthetic D = 1024)');
    const stats = await benchmarkStatistics({ log: { info: log, warn: log, error: log, debug() {} }, measureMemory: statisticsMemoryInChild });
    log(`  forward ${stats.throughput.forwardImagesPerSecond.toFixed(2)} images/s, statistics ${stats.throughput.statisticsImagesPerSecond.toFixed(2)} images/s, ratio ${stats.throughput.ratio.toFixed(3)} (goal ≥ 0.8)`);
    for (const m of stats.memory) log(`  ${m.images} images: peak RSS ${m.peakRssMb.toFixed(0)} MB (a fresh process), pass ${m.passSeconds.toFixed(1)} s`);
    if (stats.memory.length >= 2) {
      const [small, large] = [stats.memory[0], stats.memory[stats.memory.length - 1]];
      const peak = (m: typeof small) => m.baselineRssMb + m.peakRssMb;
      log(`  peak RSS ${large.images} vs ${small.images} images: ${peak(large).toFixed(0)} vs ${peak(small).toFixed(0)} MB, ${(100 * (peak(large) / peak(small) - 1)).toFixed(1)} % more (goal within 10 %)`);
    }
    results.statistics = stats;
  }

  if (run('metrics')) {
    log('\n## Metrics: throughput and peak memory vs sorting a Float32Array of the same size');
    const metrics = await benchmarkMetrics({ log });
    for (const r of metrics.rows) {
      log(`  ${r.pixels.toExponential(0)} pixels (${r.computation}): ${(r.pixelsPerSecond / 1e6).toFixed(1)} M pixels/s, sort baseline ${(r.sortPixelsPerSecond / 1e6).toFixed(1)} M pixels/s, peak RSS +${r.peakRssDeltaMB.toFixed(0)} MB`);
    }
    log(`  memory growth 1e7 → 1e8: ${metrics.memoryGrowthMB.toFixed(0)} MB (goal < 100 MB); throughput goal ≥ 20 M pixels/s: ${metrics.goals.throughputMet ? 'met' : 'not met'}`);
    results.metrics = metrics;
  }

  if (run('sweep')) {
    log('\n## Sweep: 24 configurations in one pass vs 24 separate evaluations');
    const { benchmarkSweep } = await import('./bench/sweep');
    results.sweep = await benchmarkSweep(log);
  }

  const out = path.resolve(__dirname, '..', 'bench-results.json');
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  log(`\nWrote ${out}.`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
