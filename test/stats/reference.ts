/**
 * Independent straight-loop references for the statistics tests, written from the formulas (two-pass,
 * float64, no merging, no onnxruntime).
 */

/** Deterministic pseudo-random numbers (mulberry32), so tests are reproducible. */
export { rng as random } from '../heat/helpers';

/** Standard normal sample by Box–Muller. */
export function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(rand() + 1e-300)) * Math.cos(2 * Math.PI * rand());
}

/** Mean [D] and scatter Σ (x − μ)(x − μ)ᵀ [D, D] of the rows by two passes. */
export function twoPass(rows: number[][], d: number): { mean: number[]; scatter: number[] } {
  const n = rows.length;
  const mean = new Array<number>(d).fill(0);
  for (const row of rows) for (let i = 0; i < d; i++) mean[i] += row[i];
  for (let i = 0; i < d; i++) mean[i] /= n;
  const scatter = new Array<number>(d * d).fill(0);
  for (const row of rows) {
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) scatter[i * d + j] += (row[i] - mean[i]) * (row[j] - mean[j]);
  }
  return { mean, scatter };
}

/** Largest |a − b| / max(1, |b|) over all entries. */
export function maxRelativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return worst;
}

/** Row-major matrix product of [n, k] and [k, m]. */
export function matmul(a: ArrayLike<number>, b: ArrayLike<number>, n: number, k: number, m: number): number[] {
  const out = new Array<number>(n * m).fill(0);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) {
    let s = 0;
    for (let t = 0; t < k; t++) s += a[i * k + t] * b[t * m + j];
    out[i * m + j] = s;
  }
  return out;
}
