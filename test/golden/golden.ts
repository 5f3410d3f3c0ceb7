/**
 * Access to the PyTorch golden values in test/fixtures/golden (written by samples/tools/make_golden.py),
 * and the comparison the golden tests share.
 */
import * as assert from 'assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { ClassStatistics } from '../../src/core/stats/types';
import { readNpy, type NpyArray } from './npy';

export const REPO = path.resolve(__dirname, '..', '..');
export const GOLDEN_DIR = path.join(REPO, 'test', 'fixtures', 'golden');
export const SAMPLE_DIR = path.join(REPO, 'samples', 'street');
export const SAMPLE_MODEL = path.join(SAMPLE_DIR, 'model.onnx');

export interface MetricGolden {
  aupr: number;
  auroc: number;
  fpr95: number;
  fpr95Threshold: number;
  bestF1: number;
  bestF1Threshold: number;
  positives: number;
  negatives: number;
}

export interface GoldenManifest {
  model: { file: string; featureTensor: string; mean: number[]; std: number[]; scale: number };
  images: { file: string; label: string; source: string; cropTopLeft: [number, number]; cropSize: [number, number] }[];
  settings: { temperatures: number[]; kernelSize: number; alpha: number; regularization: number; purity: number };
  statistics: {
    trainImages: number; dim: number; counts: number[]; total: number; checkedClasses: number[]; classesWithoutCells: number[];
    tiedSmallestEigenvalue: number; tiedLargestEigenvalue: number; tiedRegularisedSmallestEigenvalue: number; tiedRegularisedConditionNumber: number;
  };
  normalizer: { batchMean: number; batchStd: number; mean: number; std: number }[];
  metrics: Record<string, MetricGolden>;
  arrays: Record<string, { file: string; dtype: string; shape: number[] }>;
}

let manifest: GoldenManifest | undefined;

export function golden(): GoldenManifest {
  manifest ??= JSON.parse(readFileSync(path.join(GOLDEN_DIR, 'golden.json'), 'utf8')) as GoldenManifest;
  return manifest;
}

const cache = new Map<string, NpyArray>();

/** Reads one golden array by its manifest name, for example "energy_t1" (cached). */
export function goldenArray(name: string): NpyArray {
  let array = cache.get(name);
  if (!array) {
    const entry = golden().arrays[name];
    if (!entry) throw new Error(`No golden array "${name}" in golden.json.`);
    array = readNpy(path.join(GOLDEN_DIR, entry.file));
    cache.set(name, array);
  }
  return array;
}

export function goldenFloat32(name: string): Float32Array {
  const { data } = goldenArray(name);
  if (!(data instanceof Float32Array)) throw new Error(`Golden array "${name}" is not float32.`);
  return data;
}

export function goldenFloat64(name: string): Float64Array {
  const { data } = goldenArray(name);
  if (!(data instanceof Float64Array)) throw new Error(`Golden array "${name}" is not float64.`);
  return data;
}

/** Builds class statistics from the golden arrays, in the engine's ClassStatistics form. */
export function goldenStatistics(): ClassStatistics {
  const s = golden().statistics;
  const classCount = s.counts.length;
  return {
    classCount,
    dim: s.dim,
    means: goldenFloat64('stats_means'),
    counts: Float64Array.from(s.counts),
    emptyClasses: s.classesWithoutCells,
    tiedCovariance: goldenFloat64('stats_tied_covariance'),
    tiedPrecision: goldenFloat64('stats_tied_precision'),
    classPrecisions: goldenFloat64('stats_class_precisions'),
    metadata: {
      formatVersion: '1', modelSha256: '', featureTensor: golden().model.featureTensor, dim: s.dim, classNames: [], labelMapping: {},
      preprocessing: {}, regularization: { epsilon: golden().settings.regularization, mode: 'absolute' }, labelSource: 'groundTruth',
      imageCount: s.trainImages, createdAt: '',
    },
  };
}

/** Largest relative error seen per component, printed after the golden suites for the record. */
export const maxErrors = new Map<string, number>();

/** Records an error under `component` for the summary printed after the golden suites. */
export function record(component: string, error: number): void {
  maxErrors.set(component, Math.max(maxErrors.get(component) ?? 0, error));
}

/** Fraction of a map's largest magnitude below which mapError measures absolute rather than relative error. */
export const MAP_FLOOR = 0.1;

/**
 * Relative error of a map: max_i |a_i − b_i| / max(|b_i|, floor), with floor = MAP_FLOOR × the largest |b| in
 * `expected`. The engine computes in float32, and rounding a softmax near 1 leaves an absolute noise of about
 * 5e-7 in KL divergences and reliability weights. Without the floor, a KL of 1e-6 would fail a relative 1e-4
 * on that noise alone.
 */
export function mapError(actual: ArrayLike<number>, expected: ArrayLike<number>): { error: number; index: number } {
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  const floor = Math.max(scale * MAP_FLOOR, Number.MIN_VALUE);
  let error = 0;
  let index = -1;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.abs(actual[i] - expected[i]) / Math.max(Math.abs(expected[i]), floor);
    if (!(e <= error)) {
      error = e;
      index = i;
    }
  }
  return { error, index };
}

/** Asserts a map matches its golden values within `tolerance` (mapError) and records the error under `component`. */
export function assertMap(actual: ArrayLike<number>, expected: ArrayLike<number>, component: string, tolerance = 1e-4): void {
  assert.strictEqual(actual.length, expected.length, `${component}: ${actual.length} values, golden has ${expected.length}`);
  const { error, index } = mapError(actual, expected);
  record(component, error);
  assert.ok(error <= tolerance,
    `${component}: relative error ${error.toExponential(3)} > ${tolerance} at ${index} (got ${actual[index]}, golden ${expected[index]})`);
}

/** Normwise relative error max|a − b| / max|b|, for matrices and vectors whose entries cross zero. */
export function assertNormwise(actual: ArrayLike<number>, expected: ArrayLike<number>, component: string, tolerance: number): void {
  assert.strictEqual(actual.length, expected.length, `${component}: ${actual.length} values, golden has ${expected.length}`);
  let difference = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    difference = Math.max(difference, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  const error = scale > 0 ? difference / scale : difference;
  record(component, error);
  assert.ok(error <= tolerance, `${component}: normwise relative error ${error.toExponential(3)} > ${tolerance}`);
}

/** Asserts a scalar within a relative tolerance and records the error. */
export function assertScalar(actual: number, expected: number, component: string, tolerance: number): void {
  const error = Math.abs(actual - expected) / Math.max(Math.abs(expected), Number.MIN_VALUE);
  record(component, error);
  assert.ok(error <= tolerance, `${component}: got ${actual}, golden ${expected} (relative error ${error.toExponential(3)} > ${tolerance})`);
}

/** Prints the recorded maximum errors once, after the last golden suite. */
export function printMaxErrors(): void {
  if (maxErrors.size === 0) return;
  const rows = [...maxErrors].sort((a, b) => a[0].localeCompare(b[0])).map(([name, e]) => `      ${name.padEnd(48)} ${e.toExponential(2)}`);
  console.log(`    golden maximum relative errors:\n${rows.join('\n')}`);
}

/** Returns image i of a [N, ...] array laid out image-major, as a view. */
export function imageSlice<T extends Float32Array | Float64Array | Uint8Array>(data: T, count: number, i: number): T {
  const size = data.length / count;
  return data.subarray(i * size, (i + 1) * size) as T;
}

// A root-level hook: registered once when the first golden test file loads this module, run after all suites.
if (typeof after === 'function') after(printMaxErrors);
