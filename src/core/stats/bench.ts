/**
 * Benchmark of the statistics pass for `npm run bench`: throughput (images/s) of `computeStatistics` against
 * the bare forward pass (decode, preprocess, model run) on the same images, and peak resident memory of
 * passes over different numbers of images, on the synthetic ResNet-like model (features D × H/8 × W/8).
 * Nothing here asserts a time; it only measures.
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { makeConfig } from '../config';
import { silentLogger, type Logger } from '../log';
import { createSession, decodeImage, graphTensors, modelFromBytes, preprocess, preprocessSettings } from '../model';
import { computeStatistics, type StatisticsReport } from './compute';
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
}

export interface StatisticsBenchResult {
  setup: { dim: number; classes: number; input: [number, number]; featureGrid: [number, number]; cpus: number; scatterPrecision: ScatterPrecision };
  throughput: {
    images: number;
    /** Decode + preprocess + model run of the unmodified model. */
    forwardImagesPerSecond: number;
    /** computeStatistics' image pass (model with the feature output, labels, purity, moments). */
    statisticsImagesPerSecond: number;
    /** statistics / forward; the goal is ≥ 0.8. */
    ratio: number;
    finalizeSeconds: number;
  };
  /** Peak resident set size above the level before the pass, per image count. */
  memory: { images: number; peakRssMb: number; baselineRssMb: number; passSeconds: number }[];
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
    await sharp(label, { raw: { width, height, channels: 1 } }).png().toFile(path.join(dir, 'labels', `${name}.png`));
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

export async function benchmarkStatistics(options: StatisticsBenchOptions = {}): Promise<StatisticsBenchResult> {
  const dim = options.dim ?? 1024;
  const classes = options.classes ?? 19;
  const height = options.height ?? 512;
  const width = options.width ?? 1024;
  const throughputImages = options.throughputImages ?? 10;
  const memoryImages = options.memoryImages ?? [10, 100];
  const precision = options.scatterPrecision ?? 'float32';
  const log = options.log ?? silentLogger;
  const dir = await fs.mkdtemp(path.join(tmpdir(), 'heat-stats-bench-'));
  try {
    const modelBytes = resnetLikeModel({ dim, classes, height, width });
    await fs.writeFile(path.join(dir, 'model.onnx'), modelBytes);
    const largest = Math.max(throughputImages, ...memoryImages);
    log.info(`Writing ${largest} synthetic ${width}×${height} images…`);
    await writeImages(dir, largest, height, width, classes);
    const allImages = (await fs.readdir(path.join(dir, 'images'))).sort();
    const configFor = (count: number) => {
      const listed = path.join(dir, `images-${count}`);
      return { listed, config: makeConfig({
        'heat.model.path': 'model.onnx', 'heat.model.featureLayer': SYNTHETIC_FEATURES, 'heat.model.mean': [0.5, 0.5, 0.5], 'heat.model.std': [0.25, 0.25, 0.25],
        'heat.executionProvider': 'cpu', 'heat.data.train.images': `images-${count}/*.png`, 'heat.data.train.labels': '{dir}/../labels/{stem}.png',
        'heat.statistics.rank': 64,
      }, dir) };
    };
    const prepare = async (count: number) => {
      const { listed, config } = configFor(count);
      await fs.mkdir(listed, { recursive: true });
      for (const name of allImages.slice(0, count)) await fs.symlink(path.join(dir, 'images', name), path.join(listed, name)).catch(() => undefined);
      return config;
    };

    // Bare forward pass: the model as exported (logits only), same decode and preprocessing.
    const model = modelFromBytes(modelBytes);
    const input = graphTensors(model.proto).inputs[0];
    const { session } = await createSession(modelBytes, 'cpu', silentLogger, 'bench model');
    const throughputConfig = await prepare(throughputImages);
    const settings = preprocessSettings(throughputConfig);
    const files = allImages.slice(0, throughputImages).map((name) => path.join(dir, 'images', name));
    await session.run({ [input.name]: (await preprocess(await decodeImage(files[0], silentLogger), settings, input)).tensor });
    let started = performance.now();
    for (const file of files) {
      const prepared = await preprocess(await decodeImage(file, silentLogger), settings, input);
      await session.run({ [input.name]: prepared.tensor });
    }
    const forwardSeconds = (performance.now() - started) / 1000;
    await session.release();
    log.info(`Bare forward: ${(throughputImages / forwardSeconds).toFixed(2)} images/s.`);

    started = performance.now();
    const report: StatisticsReport = await computeStatistics(throughputConfig, { out: path.join(dir, 'throughput.safetensors'), scatterPrecision: precision });
    log.info(`Statistics pass: ${(throughputImages / report.seconds.pass).toFixed(2)} images/s (${((performance.now() - started) / 1000).toFixed(1)} s with finalisation).`);

    const memory: StatisticsBenchResult['memory'] = [];
    for (const count of memoryImages) {
      const config = await prepare(count);
      const { result, peakMb, baselineMb } = await peakRss(() => computeStatistics(config, { out: path.join(dir, `memory-${count}.safetensors`), scatterPrecision: precision }));
      memory.push({ images: count, peakRssMb: peakMb, baselineRssMb: baselineMb, passSeconds: result.seconds.pass });
      log.info(`${count} images: peak RSS +${peakMb.toFixed(0)} MB over ${baselineMb.toFixed(0)} MB, pass ${result.seconds.pass.toFixed(1)} s.`);
    }

    return {
      setup: { dim, classes, input: [height, width], featureGrid: [height / 8, width / 8], cpus: (await import('node:os')).cpus().length, scatterPrecision: precision },
      throughput: {
        images: throughputImages,
        forwardImagesPerSecond: throughputImages / forwardSeconds,
        statisticsImagesPerSecond: throughputImages / report.seconds.pass,
        ratio: forwardSeconds / report.seconds.pass,
        finalizeSeconds: report.seconds.finalize,
      },
      memory,
    };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
