/**
 * Metric benchmark for `npm run bench`: throughput (pixels/s) and peak memory of MetricAccumulator on
 * synthetic pixels, next to the time V8 takes to sort a Float32Array of the same size (the baseline,
 * measured in the same run). Goals: ≥ 20 M pixels/s, and peak memory growing by < 100 MB from 10^7 to
 * 10^8 pixels (the histogram switch keeps memory bounded).
 */
import { DEFAULT_MAX_EXACT_PIXELS, MetricAccumulator } from './metrics';

export interface MetricsBenchRow {
  pixels: number;
  /** Computation mode of the pooled metrics at this size. */
  computation: 'exact' | 'histogram';
  /** add() over every image plus finish(). */
  seconds: number;
  pixelsPerSecond: number;
  /** Peak resident memory above the memory at the start of the run, in MB (sampled after each image and at the end). */
  peakRssDeltaMB: number;
  /** Rise of the process's lifetime peak RSS during the run, in MB; 0 when an earlier run peaked higher. */
  maxRssRiseMB: number;
  /** Peak bytes the accumulator itself held in typed arrays, in MB (exact accounting, free of GC timing). */
  peakAllocatedMB: number;
  /** Float32Array.prototype.sort() on the same number of random values. */
  sortSeconds: number;
  sortPixelsPerSecond: number;
}

export interface MetricsBenchResult {
  rows: MetricsBenchRow[];
  /** Peak RSS delta of the largest size minus that of the smallest, in MB. */
  memoryGrowthMB: number;
  /** Peak accumulator allocation of the largest size minus that of the smallest, in MB. */
  allocatedGrowthMB: number;
  goals: { pixelsPerSecond: number; memoryGrowthMB: number; throughputMet: boolean; memoryMet: boolean };
}

export interface MetricsBenchOptions {
  sizes?: number[];
  /** Pixels per synthetic image. */
  imagePixels?: number;
  maxExactPixels?: number;
  log?: (line: string) => void;
}

const MB = 1024 * 1024;

/** A seeded generator of standard normal float32 values (Box–Muller over a linear congruential generator). */
function normals(count: number, seed: number): Float32Array {
  let state = seed >>> 0;
  const uniform = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state + 0.5) / 4294967296;
  };
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  return out;
}

/** Four synthetic images reused in turn: energies around -30, 5 % anomaly pixels shifted up by 3, 1 % ignored. */
function syntheticImages(pixels: number): { scores: Float32Array; labels: Uint8Array }[] {
  return [0, 1, 2, 3].map((seed) => {
    const scores = normals(pixels, 17 + seed);
    const labels = new Uint8Array(pixels);
    for (let i = 0; i < pixels; i++) {
      scores[i] = -30 + 3 * scores[i];
      if (i % 20 === seed) {
        labels[i] = 1;
        scores[i] += 9;
      } else if (i % 100 === 7) {
        labels[i] = 255;
      }
    }
    return { scores, labels };
  });
}

function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) gc();
}

/** Resident memory of the process in bytes; maxRSS is the lifetime peak. */
function memory(): { rss: number; maxRss: number } {
  return { rss: process.memoryUsage.rss(), maxRss: process.resourceUsage().maxRSS * 1024 };
}

function measureMetrics(pixels: number, images: ReturnType<typeof syntheticImages>, maxExactPixels: number): Omit<MetricsBenchRow, 'sortSeconds' | 'sortPixelsPerSecond'> {
  collectGarbage();
  const before = memory();
  let peak = before.rss;
  const accumulator = new MetricAccumulator('bench', { maxExactPixels });
  const start = process.hrtime.bigint();
  const imagePixels = images[0].scores.length;
  for (let done = 0, i = 0; done < pixels; done += imagePixels, i++) {
    const image = images[i % images.length];
    const take = Math.min(imagePixels, pixels - done);
    accumulator.add(image.scores.subarray(0, take), image.labels.subarray(0, take));
    peak = Math.max(peak, process.memoryUsage.rss());
  }
  const evaluation = accumulator.finish();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const after = memory();
  peak = Math.max(peak, after.rss);
  // The lifetime peak describes this run only when this run raised it.
  if (after.maxRss > before.maxRss) peak = Math.max(peak, after.maxRss);
  return {
    pixels,
    computation: evaluation.metrics.computation ?? 'exact',
    seconds,
    pixelsPerSecond: pixels / seconds,
    peakRssDeltaMB: (peak - before.rss) / MB,
    maxRssRiseMB: Math.max(0, after.maxRss - before.maxRss) / MB,
    peakAllocatedMB: accumulator.peakAllocatedBytes / MB,
  };
}

function measureSort(pixels: number): number {
  collectGarbage();
  const values = new Float32Array(pixels);
  let state = 12345;
  for (let i = 0; i < pixels; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    values[i] = state / 4294967296 - 0.5;
  }
  const start = process.hrtime.bigint();
  values.sort();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/**
 * Runs the metric benchmark. Metrics for every size run first, the sort baselines after them, so the
 * baselines' large arrays do not inflate the metrics' memory peaks. Run node with --expose-gc for steadier
 * memory numbers.
 */
export async function benchmarkMetrics(options: MetricsBenchOptions = {}): Promise<MetricsBenchResult> {
  const sizes = options.sizes ?? [1e7, 1e8];
  const log = options.log ?? (() => undefined);
  const images = syntheticImages(options.imagePixels ?? 1 << 20);
  const maxExactPixels = options.maxExactPixels ?? DEFAULT_MAX_EXACT_PIXELS;

  const measured = [];
  for (const pixels of sizes) {
    const row = measureMetrics(pixels, images, maxExactPixels);
    log(`metrics ${pixels.toExponential(0)} pixels: ${row.computation}, ${row.seconds.toFixed(2)} s, ${(row.pixelsPerSecond / 1e6).toFixed(1)} M pixels/s, peak RSS +${row.peakRssDeltaMB.toFixed(0)} MB, accumulator ${row.peakAllocatedMB.toFixed(0)} MB`);
    measured.push(row);
    await new Promise((resolve) => setImmediate(resolve));
  }
  const rows: MetricsBenchRow[] = [];
  for (const row of measured) {
    const sortSeconds = measureSort(row.pixels);
    log(`sort Float32Array of ${row.pixels.toExponential(0)}: ${sortSeconds.toFixed(2)} s`);
    rows.push({ ...row, sortSeconds, sortPixelsPerSecond: row.pixels / sortSeconds });
    await new Promise((resolve) => setImmediate(resolve));
  }

  const memoryGrowthMB = rows[rows.length - 1].peakRssDeltaMB - rows[0].peakRssDeltaMB;
  const allocatedGrowthMB = rows[rows.length - 1].peakAllocatedMB - rows[0].peakAllocatedMB;
  const slowest = Math.min(...rows.map((r) => r.pixelsPerSecond));
  return {
    rows,
    memoryGrowthMB,
    allocatedGrowthMB,
    goals: { pixelsPerSecond: 20e6, memoryGrowthMB: 100, throughputMet: slowest >= 20e6, memoryMet: memoryGrowthMB < 100 && allocatedGrowthMB < 100 },
  };
}
