/**
 * Statistics benchmark (not a test; nothing is timed against a threshold). Measures, on the synthetic
 * ResNet-like model (D = 1024 features on a 64 × 128 grid from 512 × 1024 inputs):
 *  - throughput of the statistics pass against the bare forward pass on the same images (goal ≥ 0.8×);
 *  - peak resident memory of a pass over 10 and over 100 images, each in a fresh process (goal: within 10 %).
 *
 *   npx tsx test/stats/bench-statistics.ts [throughputImages=10] [memoryCounts=10,100] [float32|float64]
 */
import { promises as fs } from 'node:fs';
import { statisticsMemoryInChild } from '../../scripts/bench/statistics-memory';
import { stderrLogger } from '../../src/core/log';
import { measureStatisticsThroughput, prepareStatisticsBench } from '../../src/core/stats';
import type { ScatterPrecision } from '../../src/core/stats';

async function main(): Promise<void> {
  const throughputImages = Number(process.argv[2] ?? 10);
  const counts = (process.argv[3] ?? '10,100').split(',').filter(Boolean).map(Number);
  const precision = (process.argv[4] ?? 'float32') as ScatterPrecision;
  const log = stderrLogger();
  const data = await prepareStatisticsBench({ imageCount: Math.max(throughputImages, ...counts), log });
  try {
    const throughput = await measureStatisticsThroughput(data, throughputImages, precision);
    console.log(`throughput (${throughputImages} images, D = ${data.dim}, scatter ${precision}): forward ${throughput.forwardImagesPerSecond.toFixed(3)} images/s, ` +
      `statistics ${throughput.statisticsImagesPerSecond.toFixed(3)} images/s (best of ${throughput.rounds} rounds each), ratio ${throughput.ratio.toFixed(2)} (goal ≥ 0.8; per round ${throughput.roundRatios.map((r) => r.toFixed(2)).join(', ')}); finalisation ${throughput.finalizeSeconds.toFixed(1)} s`);
    const rows = [];
    for (const count of counts) rows.push(await statisticsMemoryInChild(data, count, precision));
    for (const row of rows) console.log(`memory: ${row.images} images, peak RSS ${row.maxRssMb.toFixed(0)} MB, pass ${row.passSeconds.toFixed(1)} s`);
    if (rows.length >= 2) console.log(`peak RSS ratio ${rows[rows.length - 1].images} vs ${rows[0].images} images: ${(rows[rows.length - 1].maxRssMb / rows[0].maxRssMb).toFixed(3)} (goal ≤ 1.10)`);
  } finally {
    await fs.rm(data.dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
