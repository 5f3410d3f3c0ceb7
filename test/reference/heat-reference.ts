/**
 * Plain TypeScript reference for the HEAT heads: straight loops over pixels and classes in float64,
 * written from the formulas (not from the graph code), used only by the parity tests.
 *
 * Layouts: logits [N, C, H, W], features [N, D, h, w], maps [N, H, W], all row-major.
 */

export interface Dims4 { n: number; c: number; h: number; w: number }

export type RefPadding = 'exclude' | 'zero';
export type RefComponent = 'energy' | 'mahalanobis' | 'spatial';

const idx = (d: Dims4, n: number, c: number, y: number, x: number): number => ((n * d.c + c) * d.h + y) * d.w + x;
const mapIdx = (d: Dims4, n: number, y: number, x: number): number => (n * d.h + y) * d.w + x;

/** Calls fn(n, y, x, classValues) for every pixel. */
function eachPixel(z: ArrayLike<number>, d: Dims4, fn: (n: number, y: number, x: number, v: number[]) => void): void {
  for (let n = 0; n < d.n; n++) for (let y = 0; y < d.h; y++) for (let x = 0; x < d.w; x++) {
    const v: number[] = [];
    for (let c = 0; c < d.c; c++) v.push(z[idx(d, n, c, y, x)]);
    fn(n, y, x, v);
  }
}

function pixelMap(z: ArrayLike<number>, d: Dims4, f: (v: number[]) => number): Float64Array {
  const out = new Float64Array(d.n * d.h * d.w);
  eachPixel(z, d, (n, y, x, v) => { out[mapIdx(d, n, y, x)] = f(v); });
  return out;
}

function logSumExp(v: number[]): number {
  const m = Math.max(...v);
  let s = 0;
  for (const a of v) s += Math.exp(a - m);
  return m + Math.log(s);
}

function softmaxVec(v: number[]): number[] {
  const lse = logSumExp(v);
  return v.map((a) => Math.exp(a - lse));
}

/** E = −T·log Σ_c exp(z_c/T). */
export function refEnergy(z: ArrayLike<number>, d: Dims4, T: number): Float64Array {
  return pixelMap(z, d, (v) => -T * logSumExp(v.map((a) => a / T)));
}

export function refMaxLogit(z: ArrayLike<number>, d: Dims4): Float64Array {
  return pixelMap(z, d, (v) => -Math.max(...v));
}

export function refMaxSoftmax(z: ArrayLike<number>, d: Dims4): Float64Array {
  return pixelMap(z, d, (v) => -Math.max(...softmaxVec(v)));
}

/** −SML = −(max z − μ_ĉ)/σ_ĉ with ĉ = argmax z (first maximum). */
export function refStandardizedMaxLogit(z: ArrayLike<number>, d: Dims4, mean: ArrayLike<number>, std: ArrayLike<number>): Float64Array {
  return pixelMap(z, d, (v) => {
    let best = 0;
    for (let c = 1; c < v.length; c++) if (v[c] > v[best]) best = c;
    return -(v[best] - mean[best]) / std[best];
  });
}

/** H = −Σ p log(p + 1e-8). */
export function refEntropy(z: ArrayLike<number>, d: Dims4): Float64Array {
  return pixelMap(z, d, (v) => {
    let h = 0;
    for (const p of softmaxVec(v)) h -= p * Math.log(p + 1e-8);
    return h;
  });
}

export function refSoftmax(z: ArrayLike<number>, d: Dims4): Float64Array {
  const out = new Float64Array(d.n * d.c * d.h * d.w);
  eachPixel(z, d, (n, y, x, v) => softmaxVec(v).forEach((p, c) => { out[idx(d, n, c, y, x)] = p; }));
  return out;
}

export function refPrediction(z: ArrayLike<number>, d: Dims4): Int32Array {
  const out = new Int32Array(d.n * d.h * d.w);
  eachPixel(z, d, (n, y, x, v) => {
    let best = 0;
    for (let c = 1; c < v.length; c++) if (v[c] > v[best]) best = c;
    out[mapIdx(d, n, y, x)] = best;
  });
  return out;
}

/** k × k mean around every cell, per channel; 'exclude' divides by the in-image cell count, 'zero' by k². */
export function refAvgPool(a: ArrayLike<number>, d: Dims4, k: number, padding: RefPadding): Float64Array {
  const r = (k - 1) / 2;
  const out = new Float64Array(a.length);
  for (let n = 0; n < d.n; n++) for (let c = 0; c < d.c; c++) for (let y = 0; y < d.h; y++) for (let x = 0; x < d.w; x++) {
    let sum = 0;
    let count = 0;
    for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) {
      const yy = y + dy;
      const xx = x + dx;
      if (yy < 0 || yy >= d.h || xx < 0 || xx >= d.w) continue;
      sum += a[idx(d, n, c, yy, xx)];
      count++;
    }
    out[idx(d, n, c, y, x)] = sum / (padding === 'zero' ? k * k : count);
  }
  return out;
}

/** Spatial anomaly score −S: KL(p ‖ avgpool(p)) with ε = 1e-8, or Σ_c neighbourhood variance. */
export function refSpatial(z: ArrayLike<number>, d: Dims4, k: number, method: 'kl' | 'variance', padding: RefPadding): Float64Array {
  const p = refSoftmax(z, d);
  const out = new Float64Array(d.n * d.h * d.w);
  if (method === 'kl') {
    const q = refAvgPool(p, d, k, padding);
    for (let n = 0; n < d.n; n++) for (let y = 0; y < d.h; y++) for (let x = 0; x < d.w; x++) {
      let s = 0;
      for (let c = 0; c < d.c; c++) {
        const i = idx(d, n, c, y, x);
        s += p[i] * Math.log((p[i] + 1e-8) / (q[i] + 1e-8));
      }
      out[mapIdx(d, n, y, x)] = s;
    }
    return out;
  }
  const mean = refAvgPool(p, d, k, padding);
  const meanSq = refAvgPool(p.map((v) => v * v), d, k, padding);
  for (let n = 0; n < d.n; n++) for (let y = 0; y < d.h; y++) for (let x = 0; x < d.w; x++) {
    let s = 0;
    for (let c = 0; c < d.c; c++) {
      const i = idx(d, n, c, y, x);
      s += meanSq[i] - mean[i] * mean[i];
    }
    out[mapIdx(d, n, y, x)] = s;
  }
  return out;
}

/** Reliability weights normalised over `components`; 0 for the others. */
export function refWeights(z: ArrayLike<number>, d: Dims4, components: RefComponent[], padding: RefPadding): Record<RefComponent, Float64Array> {
  const p = refSoftmax(z, d);
  const H = refEntropy(z, d);
  const dev = new Float64Array(p.length);
  for (let n = 0; n < d.n; n++) for (let y = 0; y < d.h; y++) for (let x = 0; x < d.w; x++) {
    let mean = 0;
    for (let c = 0; c < d.c; c++) mean += p[idx(d, n, c, y, x)] / d.c;
    for (let c = 0; c < d.c; c++) dev[idx(d, n, c, y, x)] = (p[idx(d, n, c, y, x)] - mean) ** 2;
  }
  const pooled = refAvgPool(dev, d, 3, padding);
  const size = d.n * d.h * d.w;
  const w = { energy: new Float64Array(size), mahalanobis: new Float64Array(size), spatial: new Float64Array(size) };
  for (let n = 0; n < d.n; n++) for (let y = 0; y < d.h; y++) for (let x = 0; x < d.w; x++) {
    const m = mapIdx(d, n, y, x);
    let v = 0;
    for (let c = 0; c < d.c; c++) v += pooled[idx(d, n, c, y, x)];
    const raw = { energy: 1 / (H[m] + 1e-6), mahalanobis: 1, spatial: 1 / (v + 1e-6) };
    let total = 0;
    for (const c of components) total += raw[c];
    for (const c of components) w[c][m] = raw[c] / total;
  }
  return w;
}

export interface RefStatistics {
  classCount: number;
  dim: number;
  means: Float64Array;
  counts: Float64Array;
  emptyClasses: number[];
  tiedPrecision?: Float64Array;
  classPrecisions?: Float64Array;
  lowRank?: { rank: number; vectors: Float64Array; values: Float64Array };
}

/** min over non-empty classes of sqrt(max(0, (f−μ)ᵀP(f−μ))) per feature cell, [N, h, w], direct form. */
export function refMahalanobisCoarse(f: ArrayLike<number>, fd: Dims4, s: RefStatistics, covariance: 'tied' | 'classwise' | 'lowrank'): Float64Array {
  const D = s.dim;
  const out = new Float64Array(fd.n * fd.h * fd.w);
  for (let n = 0; n < fd.n; n++) for (let y = 0; y < fd.h; y++) for (let x = 0; x < fd.w; x++) {
    let best = Infinity;
    for (let c = 0; c < s.classCount; c++) {
      if (s.emptyClasses.includes(c) || s.counts[c] === 0) continue;
      const diff: number[] = [];
      for (let j = 0; j < D; j++) diff.push(f[idx(fd, n, j, y, x)] - s.means[c * D + j]);
      let d2 = 0;
      if (covariance === 'lowrank') {
        const lr = s.lowRank!;
        for (let j = 0; j < lr.rank; j++) {
          let proj = 0;
          for (let i = 0; i < D; i++) proj += diff[i] * lr.vectors[i * lr.rank + j];
          d2 += (proj * proj) / lr.values[j];
        }
      } else {
        const P = covariance === 'tied' ? s.tiedPrecision! : s.classPrecisions!.subarray(c * D * D, (c + 1) * D * D);
        for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) d2 += diff[i] * P[i * D + j] * diff[j];
      }
      best = Math.min(best, Math.sqrt(Math.max(d2, 0)));
    }
    out[(n * fd.h + y) * fd.w + x] = best;
  }
  return out;
}

/**
 * Bilinear resize of [N, h, w] maps to [N, H, W] with torch F.interpolate(mode='bilinear',
 * align_corners=False) semantics: source = (dst + 0.5)·(in/out) − 0.5, clamped below at 0; the
 * upper neighbour is clamped to the last row/column.
 */
export function refBilinear(a: ArrayLike<number>, n: number, h: number, w: number, H: number, W: number): Float64Array {
  const out = new Float64Array(n * H * W);
  const axis = (dst: number, inSize: number, outSize: number): [number, number, number] => {
    const src = Math.max((dst + 0.5) * (inSize / outSize) - 0.5, 0);
    const i0 = Math.min(Math.floor(src), inSize - 1);
    const i1 = Math.min(i0 + 1, inSize - 1);
    return [i0, i1, src - i0];
  };
  for (let b = 0; b < n; b++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const [y0, y1, ty] = axis(y, h, H);
    const [x0, x1, tx] = axis(x, w, W);
    const at = (yy: number, xx: number): number => a[(b * h + yy) * w + xx];
    const top = at(y0, x0) * (1 - tx) + at(y0, x1) * tx;
    const bottom = at(y1, x0) * (1 - tx) + at(y1, x1) * tx;
    out[(b * H + y) * W + x] = top * (1 - ty) + bottom * ty;
  }
  return out;
}

/** HEAT = Σ w_i·s_i with s_E = +E, s_M = M, s_S = −S; optional z-scoring and equal weights. */
export function refHeat(
  scores: Partial<Record<RefComponent, Float64Array>>,
  weights: Record<RefComponent, Float64Array>,
  components: RefComponent[],
  standardization?: Partial<Record<RefComponent, { mean: number; std: number }>>,
  equal = false,
): Float64Array {
  const size = scores[components[0]]!.length;
  const out = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    let h = 0;
    for (const c of components) {
      let s = scores[c]![i];
      if (standardization) s = (s - standardization[c]!.mean) / standardization[c]!.std;
      h += (equal ? 1 / components.length : weights[c][i]) * s;
    }
    out[i] = h;
  }
  return out;
}

/** EMA normaliser of the HEAT method, updated then applied, with torch's unbiased std, in float64. */
export class RefAdaptiveNormalizer {
  mean?: number;
  std?: number;
  constructor(private readonly alpha: number) {}

  normalize(batch: number[]): number[] {
    const m = batch.reduce((a, b) => a + b, 0) / batch.length;
    const sd = Math.sqrt(batch.reduce((a, b) => a + (b - m) ** 2, 0) / (batch.length - 1));
    if (this.mean === undefined || this.std === undefined) {
      this.mean = m;
      this.std = sd;
    } else {
      this.mean = this.alpha * this.mean + (1 - this.alpha) * m;
      this.std = this.alpha * this.std + (1 - this.alpha) * sd;
    }
    return batch.map((v) => (v - this.mean!) / (this.std! + 1e-6));
  }
}
