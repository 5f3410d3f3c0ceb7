/**
 * Statistics files: finalised statistics for the Mahalanobis head, and partial (shard) files holding the
 * mergeable moments. Both are safetensors with every tensor in F64 (little-endian float64), because shard
 * merging must reproduce a single pass to 1e-9 and precisions of ill-conditioned covariances need float64.
 *
 * Final file tensors: class_means [C,D], class_counts [C], tied_covariance [D,D], tied_precision [D,D],
 * class_covariances [C,D,D], class_precisions [C,D,D], eigenvectors [D,k] (column j = eigenvector j),
 * eigenvalues [k] (descending, regularised), max_logit_mean [C], max_logit_std [C].
 * Partial file tensors: class_counts [C], class_means [C,D], and either class_scatters [C,D,D] (per class
 * Σ (x−μc)(x−μc)ᵀ) or pooled_scatter [D,D] (their sum), then max_logit_count [C], max_logit_mean [C],
 * max_logit_m2 [C].
 * Covariances are stored before regularisation; precisions and eigenvalues after it.
 */
import { promises as fs } from 'node:fs';
import { HeatError } from '../errors';
import { writeFileAtomic } from '../fsutil';
import { ClassMoments, ScalarMoments } from './accumulator';
import { decodeSafetensors, encodeSafetensors, NamedTensor, SafetensorsContent } from './safetensors';
import { ClassStatistics, StatisticsMetadata } from './types';

export const STATISTICS_FORMAT_VERSION = '1';

/** Metadata values stored as plain strings; every other value is stored as JSON text. */
const STRING_KEYS = new Set(['formatVersion', 'modelSha256', 'featureTensor', 'labelSource', 'createdAt', 'kind', 'shard', 'split', 'scatterPrecision']);

export function encodeMetadata(metadata: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata)) {
    if (value === undefined) continue;
    out[key] = STRING_KEYS.has(key) && typeof value === 'string' ? value : JSON.stringify(value);
  }
  return out;
}

export function decodeMetadata(raw: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (STRING_KEYS.has(key)) { out[key] = value; continue; }
    try { out[key] = JSON.parse(value); } catch { out[key] = value; }
  }
  return out;
}

const f64 = (shape: number[], data: Float64Array): NamedTensor => ({ dtype: 'F64', shape, data });

/** Builds the safetensors content of a finalised statistics file. */
export function statisticsContent(stats: ClassStatistics): SafetensorsContent {
  const { classCount: c, dim: d } = stats;
  const tensors: Record<string, NamedTensor> = {
    class_means: f64([c, d], stats.means),
    class_counts: f64([c], stats.counts),
  };
  if (stats.tiedCovariance) tensors.tied_covariance = f64([d, d], stats.tiedCovariance);
  if (stats.tiedPrecision) tensors.tied_precision = f64([d, d], stats.tiedPrecision);
  if (stats.classCovariances) tensors.class_covariances = f64([c, d, d], stats.classCovariances);
  if (stats.classPrecisions) tensors.class_precisions = f64([c, d, d], stats.classPrecisions);
  if (stats.lowRank) {
    tensors.eigenvectors = f64([d, stats.lowRank.rank], stats.lowRank.vectors);
    tensors.eigenvalues = f64([stats.lowRank.rank], stats.lowRank.values);
  }
  if (stats.maxLogit) {
    tensors.max_logit_mean = f64([c], stats.maxLogit.mean);
    tensors.max_logit_std = f64([c], stats.maxLogit.std);
  }
  const metadata = encodeMetadata({ ...stats.metadata, kind: 'final', emptyClasses: stats.emptyClasses });
  return { tensors, metadata };
}

/** Partial sums of one shard, and the metadata that must agree between shards. */
export interface PartialStatistics {
  moments: ClassMoments;
  maxLogit: ScalarMoments;
  /** `imageCount` counts this shard's images; `shard` is "i/N". */
  metadata: StatisticsMetadata & { shard?: string };
}

export function partialContent(partial: PartialStatistics): SafetensorsContent {
  const { classCount: c, dim: d } = partial.moments;
  return {
    tensors: {
      class_counts: f64([c], partial.moments.counts),
      class_means: f64([c, d], partial.moments.means),
      ...(partial.moments.kind === 'classwise'
        ? { class_scatters: f64([c, d, d], partial.moments.scatters) }
        : { pooled_scatter: f64([d, d], partial.moments.scatters) }),
      max_logit_count: f64([c], partial.maxLogit.counts),
      max_logit_mean: f64([c], partial.maxLogit.means),
      max_logit_m2: f64([c], partial.maxLogit.m2),
    },
    metadata: encodeMetadata({ ...partial.metadata, kind: 'partial' }),
  };
}

export async function writeStatistics(file: string, stats: ClassStatistics): Promise<void> {
  await writeFileAtomic(file, encodeSafetensors(statisticsContent(stats)));
}

export async function writePartialStatistics(file: string, partial: PartialStatistics): Promise<void> {
  await writeFileAtomic(file, encodeSafetensors(partialContent(partial)));
}

/** Reads a statistics file; `fix` is the advice when it cannot be read (a shard file is found differently). */
async function readContent(file: string, fix = 'Check heat.statistics.path, or create the file with "heat-lens stats".'): Promise<SafetensorsContent & { meta: Record<string, unknown> }> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (error) {
    throw new HeatError(`Cannot read statistics file ${file}: ${(error as Error).message}.`, fix, file);
  }
  const content = decodeSafetensors(bytes, file);
  const meta = decodeMetadata(content.metadata);
  if (meta.formatVersion !== STATISTICS_FORMAT_VERSION) {
    throw new HeatError(
      `${file} has statistics format version ${JSON.stringify(meta.formatVersion ?? null)}; this version of HEAT Lens reads version ${STATISTICS_FORMAT_VERSION}.`,
      'Recompute it with "heat-lens stats".', file,
    );
  }
  return { ...content, meta };
}

function tensor(content: SafetensorsContent, file: string, name: string, shape: number[]): Float64Array;
function tensor(content: SafetensorsContent, file: string, name: string, shape: number[], optional: true): Float64Array | undefined;
function tensor(content: SafetensorsContent, file: string, name: string, shape: number[], optional = false): Float64Array | undefined {
  const found = content.tensors[name];
  if (!found) {
    if (optional) return undefined;
    throw new HeatError(`${file} lacks the tensor ${name}.`, 'Recompute it with "heat-lens stats".', file);
  }
  if (found.dtype !== 'F64' || found.shape.length !== shape.length || found.shape.some((s, i) => s !== shape[i])) {
    throw new HeatError(`${file}: tensor ${name} is ${found.dtype} ${JSON.stringify(found.shape)}, expected F64 ${JSON.stringify(shape)}.`, 'Recompute it with "heat-lens stats".', file);
  }
  return found.data as Float64Array;
}

function dimensions(content: SafetensorsContent, file: string): [number, number] {
  const means = content.tensors.class_means;
  if (!means || means.shape.length !== 2) throw new HeatError(`${file} lacks the tensor class_means [C, D].`, 'Recompute it with "heat-lens stats".', file);
  return [means.shape[0], means.shape[1]];
}

/** Reads a finalised statistics file without checking it against a model. */
export async function readStatistics(file: string): Promise<ClassStatistics> {
  const content = await readContent(file);
  if (content.meta.kind === 'partial') {
    throw new HeatError(`${file} is a partial shard file, not finished statistics.`, `Combine the shards with "heat-lens stats merge SHARDS… --out FILE".`, file);
  }
  const [c, d] = dimensions(content, file);
  const eigenvalues = content.tensors.eigenvalues;
  const rank = eigenvalues?.shape[0];
  const maxLogitMean = tensor(content, file, 'max_logit_mean', [c], true);
  const maxLogitStd = tensor(content, file, 'max_logit_std', [c], true);
  const { emptyClasses, kind: _kind, ...metadata } = content.meta;
  return {
    classCount: c,
    dim: d,
    means: tensor(content, file, 'class_means', [c, d]),
    counts: tensor(content, file, 'class_counts', [c]),
    emptyClasses: Array.isArray(emptyClasses) ? (emptyClasses as number[]) : [],
    tiedCovariance: tensor(content, file, 'tied_covariance', [d, d], true),
    tiedPrecision: tensor(content, file, 'tied_precision', [d, d], true),
    classCovariances: tensor(content, file, 'class_covariances', [c, d, d], true),
    classPrecisions: tensor(content, file, 'class_precisions', [c, d, d], true),
    lowRank: rank !== undefined
      ? { rank, vectors: tensor(content, file, 'eigenvectors', [d, rank]), values: tensor(content, file, 'eigenvalues', [rank]) }
      : undefined,
    maxLogit: maxLogitMean && maxLogitStd ? { mean: maxLogitMean, std: maxLogitStd } : undefined,
    metadata: metadata as StatisticsMetadata,
  };
}

export async function readPartialStatistics(file: string): Promise<PartialStatistics> {
  const content = await readContent(file,
    'Pass the files that "heat-lens stats --shard i/N" wrote; without --out they are named statistics.shard-i-of-N.safetensors (or after heat.statistics.path).');
  if (content.meta.kind !== 'partial') {
    throw new HeatError(`${file} is finished statistics, not a partial shard file; finished files cannot be merged exactly.`, 'Merge the shard files written by "heat-lens stats --shard i/N".', file);
  }
  const [c, d] = dimensions(content, file);
  const { kind: _kind, ...metadata } = content.meta;
  const pooled = content.tensors.pooled_scatter !== undefined;
  return {
    moments: {
      kind: pooled ? 'pooled' : 'classwise',
      classCount: c, dim: d,
      counts: tensor(content, file, 'class_counts', [c]),
      means: tensor(content, file, 'class_means', [c, d]),
      scatters: pooled ? tensor(content, file, 'pooled_scatter', [d, d]) : tensor(content, file, 'class_scatters', [c, d, d]),
    },
    maxLogit: {
      counts: tensor(content, file, 'max_logit_count', [c]),
      means: tensor(content, file, 'max_logit_mean', [c]),
      m2: tensor(content, file, 'max_logit_m2', [c]),
    },
    metadata: metadata as PartialStatistics['metadata'],
  };
}

/** Properties of the current model that a statistics file must match; omitted fields are not checked. */
export interface ExpectedStatistics {
  modelSha256?: string;
  featureTensor?: string;
  dim?: number;
  classCount?: number;
}

/**
 * Reads a statistics file and checks it against the current model, feature tensor, D and class count.
 * A mismatch fails with a message naming each difference and how to recompute.
 */
export async function loadStatistics(file: string, expected: ExpectedStatistics): Promise<ClassStatistics> {
  const stats = await readStatistics(file);
  const differences: string[] = [];
  const m = stats.metadata;
  if (expected.modelSha256 !== undefined && m.modelSha256 !== expected.modelSha256) {
    differences.push(`model SHA-256 is ${m.modelSha256} in the file but ${expected.modelSha256} for the current model`);
  }
  if (expected.featureTensor !== undefined && m.featureTensor !== expected.featureTensor) {
    differences.push(`feature tensor is "${m.featureTensor}" in the file but "${expected.featureTensor}" now`);
  }
  if (expected.dim !== undefined && stats.dim !== expected.dim) {
    differences.push(`feature dimension D is ${stats.dim} in the file but ${expected.dim} now`);
  }
  if (expected.classCount !== undefined && stats.classCount !== expected.classCount) {
    differences.push(`class count is ${stats.classCount} in the file but ${expected.classCount} now`);
  }
  if (differences.length > 0) {
    throw new HeatError(
      `Statistics file ${file} does not match the current model: ${differences.join('; ')}.`,
      'Recompute it for this model and layer with "heat-lens stats" (or point heat.statistics.path at matching statistics).',
      file,
    );
  }
  return stats;
}
