/**
 * Benchmark of the statistics pass for `npm run bench`, on the synthetic ResNet-like model (features
 * D × H/8 × W/8). It measures the throughput (images/s) of `computeStatistics` against the bare forward pass
 * (decode, preprocess, model run) on the same images, and the peak resident memory of passes over different
 * numbers of images. Nothing here asserts a time.
 */
import { promises as fs } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { makeConfig } from '../config';
import { silentLogger, type Logger } from '../log';
import { createSession, decodeImage, graphTensors, modelFromBytes, preprocess, preprocessSettings } from '../model';
import { computeStatistics } from './compute';
import type { ScatterPrecision } from './scatter';
import { resnetLikeModel, SYNTHETIC_FEATURES } from './synthetic';

export interface StatisticsBenchOptions {
  /** Feature dimension D (default 1024). */
  dim?: number;
  classes?: number;
  /** Input size (default 512 × 1024, so the feature map is 64 × 128). */
  height?: number;
  width?: number;
  /** Images for the throughput comparison (default 10). */
  throughputImages?: number;
  /** Image counts whose peak memory is compared (default [10, 100]). */
  memoryImages?: number[];
  scatterPrecision?: ScatterPrecision;
  log?: Logger;
  /**
   * Measures one pass over `count` images in a fresh process and returns that process's peak resident set
   * size (measureStatisticsMemory run there). Without it the passes run in this process, one after the other.
   */
  measureMemory?: (data: StatisticsBenchData, count: number, precision: ScatterPrecision) => Promise<{ maxRssMb: number; passSeconds: number }>;
}

export interface StatisticsBenchResult {
  setup: { dim: number; classes: number; input: [number, number]; featureGrid: [number, number]; cpus: number; scatterPrecision: ScatterPrecision };
  throughput: {
    images: number;
    /** Decode + preprocess + model run of the unmodified model. */
    forwardImagesPerSecond: number;
    /** computeStatistics' image pass (model with the feature output, labels, purity, moments). */
    statisticsImagesPerSecond: number;
    /** Rounds of both passes; the rates are the best round of each. */
    rounds: number;
    /** statistics / forward throughput from the best rounds; the goal is ≥ 0.8. */
    ratio: number;
    /** The same ratio within each round, to show the spread. */
    roundRatios: number[];
    finalizeSeconds: number;
  };
  /**
   * Peak resident set size per image count: of a fresh process (`fresh`), or of this process, where
   * `baselineRssMb` is the level before the pass and `peakRssMb` the rise above it.
   */
  memory: { images: number; peakRssMb: number; baselineRssMb: number; fresh: boolean; passSeconds: number }[];
}

/** Writes `count` noise images and block labels (one class per 64 × 64 block) into `dir`. */
async function writeImages(dir: string, count: number, height: number, width: number, classes: number): Promise<void> {
  await fs.mkdir(path.join(dir, 'images'), { recursive: true });
  await fs.mkdir(path.join(dir, 'labels'), { recursive: true });
  let state = 12345;
  const next = () => { state = (state * 1103515245 + 12345) >>> 0; return state >>> 24; };
  for (let k = 0; k < count; k++) {
    const rgb = Buffer.alloc(height * width * 3);
    for (let i = 0; i < rgb.length; i++) rgb[i] = next();
    const label = Buffer.alloc(height * width);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) label[y * width + x] = ((y >> 6) * 7 + (x >> 6) + k) % classes;
    const name = `img${String(k).padStart(4, '0')}`;
    await sharp(rgb, { raw: { width, height, channels: 3 } }).png({ compressionLevel: 1 }).toFile(path.join(dir, 'images', `${name}.png`));
    // Greyscale, as datasets store label files: without toColourspace sharp would write a single channel as RGB.
    await sharp(label, { raw: { width, height, channels: 1 } }).toColourspace('b-w').png().toFile(path.join(dir, 'labels', `${name}.png`));
  }
}

/** Samples the resident set size every 20 ms while `work` runs; returns the peak and the level before. */
async function peakRss<T>(work: () => Promise<T>): Promise<{ result: T; peakMb: number; baselineMb: number }> {
  (globalThis as { gc?: () => void }).gc?.();
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
  try {
    const result = await work();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { result, peakMb: (peak - baseline) / 2 ** 20, baselineMb: baseline / 2 ** 20 };
  } finally {
    clearInterval(timer);
  }
}

/** Synthetic model and images on disk, shared by the measurements below (possibly from several processes). */
export interface StatisticsBenchData {
  dir: string;
  dim: number;
  classes: number;
  height: number;
  width: number;
  images: string[];
}

/** Writes the ResNet-like model and `imageCount` images with labels into a new temporary folder. */
export async function prepareStatisticsBench(options: StatisticsBenchOptions & { imageCount: number }): Promise<StatisticsBenchData> {
  const dim = options.dim ?? 1024;
  const classes = options.classes ?? 19;
  const height = options.height ?? 512;
  const width = options.width ?? 1024;
  const dir = await fs.mkdtemp(path.join(tmpdir(), 'heat-stats-bench-'));
  await fs.writeFile(path.join(dir, 'model.onnx'), resnetLikeModel({ dim, classes, height, width }));
  options.log?.info(`Writing ${options.imageCount} synthetic ${width}×${height} images to ${dir}…`);
  await writeImages(dir, options.imageCount, height, width, classes);
  const images = (await fs.readdir(path.join(dir, 'images'))).sort().map((name) => path.join(dir, 'images', name));
  return { dir, dim, classes, height, width, images };
}

/** Builds a configuration whose train split is the first `count` images (linked into their own folder). */
async function benchConfig(data: StatisticsBenchData, count: number) {
  const listed = path.join(data.dir, `images-${count}`);
  await fs.mkdir(listed, { recursive: true });
  for (const image of data.images.slice(0, count)) await fs.symlink(image, path.join(listed, path.basename(image))).catch(() => undefined);
  return makeConfig({
    'heat.model.path': 'model.onnx', 'heat.model.featureLayer': SYNTHETIC_FEATURES, 'heat.model.mean': [0.5, 0.5, 0.5], 'heat.model.std': [0.25, 0.25, 0.25],
    'heat.executionProvider': 'cpu', 'heat.data.train.images': `images-${count}/*.png`, 'heat.data.train.labels': '{dir}/../labels/{stem}.png',
    'heat.statistics.rank': 64,
  }, data.dir);
}

/** Bare forward pass (decode, preprocess, run of the unmodified model) against the statistics pass on the same images. */
export async function measureStatisticsThroughput(
  data: StatisticsBenchData, count: number, precision: ScatterPrecision = 'float32', rounds = 5,
): Promise<StatisticsBenchResult['throughput']> {
  const config = await benchConfig(data, count);
  const modelBytes = await fs.readFile(path.join(data.dir, 'model.onnx'));
  const input = graphTensors(modelFromBytes(modelBytes).proto).inputs[0];
  const settings = preprocessSettings(config);
  const files = data.images.slice(0, count);

  // Rounds alternate the two passes and the best of each is kept, so a burst of load on a shared machine
  // lands on one round rather than on one side of the comparison. Each round of both passes starts from a
  // new session, whose creation is not timed but whose first run is. computeStatistics creates its session per
  // pass, and the first run of a session is about 25 ms slower, because onnxruntime allocates its buffers then
  // (measured on 2 cores). A bare pass on a session warmed beforehand would give that cost to the statistics pass alone.
  const forward: number[] = [];
  const statistics: number[] = [];
  let finalizeSeconds = 0;
  for (let round = 0; round < rounds; round++) {
    const { session } = await createSession(modelBytes, 'cpu', silentLogger, 'bench model');
    try {
      const started = performance.now();
      for (const file of files) {
        const prepared = await preprocess(await decodeImage(file, silentLogger), settings, input);
        await session.run({ [input.name]: prepared.tensor });
      }
      forward.push((performance.now() - started) / 1000);
    } finally {
      await session.release();
    }
    const report = await computeStatistics(config, { out: path.join(data.dir, `throughput-${count}.safetensors`), scatterPrecision: precision });
    statistics.push(report.seconds.pass);
    finalizeSeconds = report.seconds.finalize;
  }
  const bestForward = Math.min(...forward);
  const bestStatistics = Math.min(...statistics);
  return {
    images: count,
    rounds,
    forwardImagesPerSecond: count / bestForward,
    statisticsImagesPerSecond: count / bestStatistics,
    ratio: bestForward / bestStatistics,
    roundRatios: forward.map((f, i) => f / statistics[i]),
    finalizeSeconds,
  };
}

/**
 * Runs one statistics pass over `count` images and reports the process's peak resident set size (maxRSS over
 * the process's life). Call it in a fresh process, one count per process, to compare counts.
 */
export async function measureStatisticsMemory(data: StatisticsBenchData, count: number, precision: ScatterPrecision = 'float32'): Promise<{ images: number; maxRssMb: number; passSeconds: number }> {
  const config = await benchConfig(data, count);
  const report = await computeStatistics(config, { out: path.join(data.dir, `memory-${count}.safetensors`), scatterPrecision: precision });
  return { images: count, maxRssMb: process.resourceUsage().maxRSS / 1024, passSeconds: report.seconds.pass };
}

/**
 * Measures throughput, then one pass per memory count: through `options.measureMemory` in fresh processes
 * (scripts/bench/statistics-memory.ts), or else in this process with the resident set sampled every 20 ms (peak
 * above the level before each pass). In one process an earlier pass's memory can be reused by a later one.
 */
export async function benchmarkStatistics(options: StatisticsBenchOptions = {}): Promise<StatisticsBenchResult> {
  const throughputImages = options.throughputImages ?? 10;
  const memoryImages = options.memoryImages ?? [10, 100];
  const precision = options.scatterPrecision ?? 'float32';
  const data = await prepareStatisticsBench({ ...options, imageCount: Math.max(throughputImages, ...memoryImages) });
  try {
    const throughput = await measureStatisticsThroughput(data, throughputImages, precision);
    options.log?.info(`Forward ${throughput.forwardImagesPerSecond.toFixed(2)} images/s, statistics ${throughput.statisticsImagesPerSecond.toFixed(2)} images/s (ratio ${throughput.ratio.toFixed(2)}; per round ${throughput.roundRatios.map((r) => r.toFixed(2)).join(', ')}).`);
    const memory: StatisticsBenchResult['memory'] = [];
    for (const count of memoryImages) {
      if (options.measureMemory) {
        const { maxRssMb, passSeconds } = await options.measureMemory(data, count, precision);
        memory.push({ images: count, peakRssMb: maxRssMb, baselineRssMb: 0, fresh: true, passSeconds });
        continue;
      }
      const config = await benchConfig(data, count);
      const { result, peakMb, baselineMb } = await peakRss(() => computeStatistics(config, { out: path.join(data.dir, `memory-${count}.safetensors`), scatterPrecision: precision }));
      memory.push({ images: count, peakRssMb: peakMb, baselineRssMb: baselineMb, fresh: false, passSeconds: result.seconds.pass });
    }
    return {
      setup: { dim: data.dim, classes: data.classes, input: [data.height, data.width], featureGrid: [data.height / 8, data.width / 8], cpus: cpus().length, scatterPrecision: precision },
      throughput,
      memory,
    };
  } finally {
    await fs.rm(data.dir, { recursive: true, force: true });
  }
}
