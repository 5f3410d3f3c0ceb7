/** Test utilities for the head graphs: seeded random data, random statistics, running a head, comparing maps. */
import * as assert from 'assert';
import * as ort from 'onnxruntime-node';
import type { ClassStatistics } from '../../src/core/stats/types';

/** Mulberry32: a small seeded PRNG so every test run sees the same numbers. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples (Box–Muller). */
export function normals(random: () => number, count: number, scale = 1, shift = 0): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const u = Math.max(random(), 1e-12);
    out[i] = shift + scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  }
  return out;
}

/** A random symmetric positive definite D × D matrix: A Aᵀ / D + 0.5 I. */
export function randomSpd(random: () => number, D: number): Float64Array {
  const A = normals(random, D * D);
  const S = new Float64Array(D * D);
  for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) {
    let s = 0;
    for (let k = 0; k < D; k++) s += A[i * D + k] * A[j * D + k];
    S[i * D + j] = s / D + (i === j ? 0.5 : 0);
  }
  return S;
}

/** D × k matrix with orthonormal columns (Gram–Schmidt on random vectors), row-major. */
export function randomOrthonormal(random: () => number, D: number, k: number): Float64Array {
  const cols: Float64Array[] = [];
  while (cols.length < k) {
    const v = Float64Array.from(normals(random, D));
    for (const u of cols) {
      let d = 0;
      for (let i = 0; i < D; i++) d += v[i] * u[i];
      for (let i = 0; i < D; i++) v[i] -= d * u[i];
    }
    const norm = Math.sqrt(v.reduce((a, b) => a + b * b, 0));
    if (norm < 1e-6) continue;
    cols.push(v.map((x) => x / norm));
  }
  const V = new Float64Array(D * k);
  for (let i = 0; i < D; i++) for (let j = 0; j < k; j++) V[i * k + j] = cols[j][i];
  return V;
}

/** Random statistics with every covariance form filled in; `emptyClasses` get zero counts. */
export function randomStatistics(random: () => number, classCount: number, dim: number, emptyClasses: number[] = [], rank = Math.max(1, dim - 2)): ClassStatistics {
  const counts = new Float64Array(classCount).map((_, c) => (emptyClasses.includes(c) ? 0 : 100 + c));
  const classPrecisions = new Float64Array(classCount * dim * dim);
  for (let c = 0; c < classCount; c++) classPrecisions.set(randomSpd(random, dim), c * dim * dim);
  const values = Float64Array.from({ length: rank }, (_, j) => 2 / (j + 1) + 0.1);
  return {
    classCount,
    dim,
    means: Float64Array.from(normals(random, classCount * dim, 1.5)),
    counts,
    emptyClasses,
    tiedPrecision: randomSpd(random, dim),
    classPrecisions,
    lowRank: { rank, vectors: randomOrthonormal(random, dim, rank), values },
    metadata: {
      formatVersion: '1', modelSha256: '', featureTensor: 'f', dim, classNames: [], labelMapping: {}, preprocessing: {},
      regularization: { epsilon: 1e-4, mode: 'absolute' }, labelSource: 'groundTruth', imageCount: 1, createdAt: '',
    },
  };
}

/**
 * Statistics for large D, cheap to make: diagonally dominant symmetric precisions (positive definite by
 * Gershgorin's theorem), means around 2 like post-ReLU features, and random low-rank vectors scaled by 1/√D.
 */
export function largeStatistics(random: () => number, classCount: number, dim: number, rank: number): ClassStatistics {
  const spd = (): Float64Array => {
    const P = new Float64Array(dim * dim);
    for (let i = 0; i < dim; i++) for (let j = 0; j < i; j++) P[i * dim + j] = P[j * dim + i] = (random() - 0.5) / dim;
    for (let i = 0; i < dim; i++) P[i * dim + i] = 1;
    return P;
  };
  const classPrecisions = new Float64Array(classCount * dim * dim);
  for (let c = 0; c < classCount; c++) classPrecisions.set(spd(), c * dim * dim);
  return {
    ...randomStatistics(random, classCount, 2, [], 1),
    dim,
    means: Float64Array.from(normals(random, classCount * dim, 1, 2)),
    tiedPrecision: spd(),
    classPrecisions,
    lowRank: { rank, vectors: Float64Array.from(normals(random, dim * rank, 1 / Math.sqrt(dim))), values: Float64Array.from({ length: rank }, (_, j) => 1 + 1 / (j + 1)) },
  };
}

export type Feeds = Record<string, { data: Float32Array; dims: number[] }>;

/** Runs an encoded head graph once and returns every output's data. */
export async function runHead(bytes: Uint8Array, feeds: Feeds): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const inputs: Record<string, ort.Tensor> = {};
    for (const name of session.inputNames) inputs[name] = new ort.Tensor('float32', feeds[name].data, feeds[name].dims);
    return await session.run(inputs);
  } finally {
    await session.release();
  }
}

/** Asserts |a − b| ≤ tol·max(1, |b|) element-wise, reporting the worst index. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, tol = 1e-4): void {
  assert.strictEqual(actual.length, expected.length, `${what}: length ${actual.length} vs ${expected.length}`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const b = expected[i];
    if (Number.isNaN(b) || Number.isNaN(a)) {
      assert.ok(Number.isNaN(a) && Number.isNaN(b), `${what}[${i}]: ${a} vs ${b}`);
      continue;
    }
    const excess = Math.abs(a - b) / (tol * Math.max(1, Math.abs(b)));
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = i;
    }
  }
  assert.ok(worstExcess <= 1, `${what}[${worst}]: got ${actual[worst]}, expected ${expected[worst]} (tolerance ${tol} relative)`);
}
