/**
 * Dense float64 linear algebra for symmetric positive (semi-)definite D×D matrices, row-major, written
 * for D up to a few thousand: every inner loop walks contiguous memory. Used once per statistics file,
 * never per pixel.
 */
import { HeatError } from '../errors';

/** Splits D channels into `parts` contiguous ranges: bounds[i] to bounds[i + 1]. */
export function blockBounds(d: number, parts: number): number[] {
  return Array.from({ length: parts + 1 }, (_, i) => Math.floor((i * d) / parts));
}

/**
 * Cholesky factor L (lower triangular, row-major) with A = L·Lᵀ. Reads only the lower triangle of `a`.
 * Throws when A is not positive definite, naming the pivot, since that means the regularisation is too small.
 */
export function cholesky(a: Float64Array, d: number, what = 'matrix'): Float64Array {
  const l = new Float64Array(d * d);
  for (let j = 0; j < d; j++) {
    const rowJ = j * d;
    for (let i = j; i < d; i++) {
      const rowI = i * d;
      // L[i][j] = (A[i][j] − Σ_{k<j} L[i][k]·L[j][k]) / L[j][j]; on the diagonal the square root instead.
      let s = a[rowI + j];
      for (let k = 0; k < j; k++) s -= l[rowI + k] * l[rowJ + k];
      if (i === j) {
        if (!(s > 0) || !Number.isFinite(s)) {
          throw new HeatError(
            `The ${what} is not positive definite (Cholesky pivot ${j} is ${s}).`,
            'Increase heat.statistics.regularization, or use heat.statistics.regularizationMode "relative".',
          );
        }
        l[rowJ + j] = Math.sqrt(s);
      } else {
        l[rowI + j] = s / l[rowJ + j];
      }
    }
  }
  return l;
}

/** Inverse of a lower-triangular matrix (row-major), itself lower triangular, by forward substitution row by row. */
export function invertLower(l: Float64Array, d: number): Float64Array {
  const w = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    const rowI = i * d;
    // Row i of W = L⁻¹ solves Σ_k L[i][k]·W[k] = e_i, so W[i] = (e_i − Σ_{k<i} L[i][k]·W[k]) / L[i][i].
    w[rowI + i] = 1;
    for (let k = 0; k < i; k++) {
      const factor = l[rowI + k];
      if (factor === 0) continue;
      const rowK = k * d;
      for (let j = 0; j <= k; j++) w[rowI + j] -= factor * w[rowK + j];
    }
    const pivot = l[rowI + i];
    for (let j = 0; j <= i; j++) w[rowI + j] /= pivot;
  }
  return w;
}

/** Inverse of a symmetric positive definite matrix: A⁻¹ = L⁻ᵀ·L⁻¹ with L its Cholesky factor. Symmetric by construction. */
export function invertSpd(a: Float64Array, d: number, what?: string): Float64Array {
  const w = invertLower(cholesky(a, d, what), d);
  const p = new Float64Array(d * d);
  // P = Wᵀ·W = Σ_k outer(W[k], W[k]); row k of W is zero beyond column k. Fill the upper triangle, then mirror.
  for (let k = 0; k < d; k++) {
    const rowK = k * d;
    for (let r = 0; r <= k; r++) {
      const wr = w[rowK + r];
      if (wr === 0) continue;
      const rowR = r * d;
      for (let c = r; c <= k; c++) p[rowR + c] += wr * w[rowK + c];
    }
  }
  for (let r = 0; r < d; r++) for (let c = 0; c < r; c++) p[r * d + c] = p[c * d + r];
  return p;
}

export interface SymmetricEigen {
  /** Eigenvalues, descending. */
  values: Float64Array;
  /** Row j is the unit eigenvector of values[j] (row-major [D, D]); only when vectors were requested. */
  vectors?: Float64Array;
}

/**
 * Eigen-decomposition of a real symmetric matrix: Householder reduction to tridiagonal form, then the
 * implicit QL algorithm with Wilkinson-style shifts (the classical EISPACK tred2/tql2 pair, restructured so
 * that every loop runs along rows). Reads the lower triangle. O(D³); without vectors about a third of that.
 */
export function symmetricEigen(matrix: Float64Array, d: number, withVectors: boolean): SymmetricEigen {
  const a = Float64Array.from(matrix);
  const diag = new Float64Array(d);
  const off = new Float64Array(d);
  tridiagonalize(a, d, diag, off, withVectors);
  // After the reduction the rows of `a` hold Qᵀ; QL rotations then act on pairs of rows.
  const zt = withVectors ? transpose(a, d) : undefined;
  tridiagonalQl(diag, off, d, zt);

  const order = Array.from({ length: d }, (_, i) => i).sort((i, j) => diag[j] - diag[i]);
  const values = Float64Array.from(order, (i) => diag[i]);
  if (!zt) return { values };
  const vectors = new Float64Array(d * d);
  order.forEach((from, to) => vectors.set(zt.subarray(from * d, from * d + d), to * d));
  return { values, vectors };
}

function transpose(a: Float64Array, d: number): Float64Array {
  const t = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) t[j * d + i] = a[i * d + j];
  return t;
}

/**
 * Householder reduction of the symmetric matrix in `a` (lower triangle used) to tridiagonal form:
 * `diag` receives the diagonal, `off[i]` the sub-diagonal element (i, i−1). With `withVectors`, `a` is
 * overwritten by the orthogonal Q with A = Q·T·Qᵀ.
 */
function tridiagonalize(a: Float64Array, d: number, diag: Float64Array, off: Float64Array, withVectors: boolean): void {
  const p = off; // off[0..l] doubles as the work vector p = A·u / h, as in the classical algorithm.
  for (let i = d - 1; i > 0; i--) {
    const l = i - 1;
    const rowI = i * d;
    let h = 0;
    if (l > 0) {
      let scale = 0;
      for (let k = 0; k <= l; k++) scale += Math.abs(a[rowI + k]);
      if (scale === 0) {
        off[i] = a[rowI + l];
      } else {
        // u = scaled row i (columns 0..l), with its last element shifted so that the reflection zeroes the rest.
        for (let k = 0; k <= l; k++) { a[rowI + k] /= scale; h += a[rowI + k] * a[rowI + k]; }
        let f = a[rowI + l];
        let g = f >= 0 ? -Math.sqrt(h) : Math.sqrt(h);
        off[i] = scale * g;
        h -= f * g;
        a[rowI + l] = f - g;

        // p = A[0..l][0..l]·u / h using only the lower triangle, walked by rows.
        for (let j = 0; j <= l; j++) p[j] = 0;
        for (let j = 0; j <= l; j++) {
          const rowJ = j * d;
          const uj = a[rowI + j];
          let s = 0;
          for (let k = 0; k < j; k++) { s += a[rowJ + k] * a[rowI + k]; p[k] += a[rowJ + k] * uj; }
          p[j] += s + a[rowJ + j] * uj;
        }
        f = 0;
        for (let j = 0; j <= l; j++) {
          if (withVectors) a[j * d + i] = a[rowI + j] / h;
          p[j] /= h;
          f += p[j] * a[rowI + j];
        }
        // q = p − (uᵀp / 2h)·u; A ← A − u·qᵀ − q·uᵀ on the lower triangle.
        const hh = f / (h + h);
        for (let j = 0; j <= l; j++) {
          const uj = a[rowI + j];
          p[j] -= hh * uj;
        }
        for (let j = 0; j <= l; j++) {
          const uj = a[rowI + j];
          const qj = p[j];
          const rowJ = j * d;
          for (let k = 0; k <= j; k++) a[rowJ + k] -= uj * p[k] + qj * a[rowI + k];
        }
      }
    } else {
      off[i] = a[rowI + l];
    }
    diag[i] = h;
  }

  diag[0] = 0;
  off[0] = 0;
  const g = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    const rowI = i * d;
    if (withVectors && diag[i] !== 0) {
      // Apply reflection i to the accumulated transform: g = u_iᵀ·A[0..i)[0..i), then A[k][j] −= g[j]·A[k][i].
      g.fill(0, 0, i);
      for (let k = 0; k < i; k++) {
        const uk = a[rowI + k];
        const rowK = k * d;
        for (let j = 0; j < i; j++) g[j] += uk * a[rowK + j];
      }
      for (let k = 0; k < i; k++) {
        const rowK = k * d;
        const c = a[rowK + i];
        for (let j = 0; j < i; j++) a[rowK + j] -= g[j] * c;
      }
    }
    diag[i] = a[rowI + i];
    if (withVectors) {
      a[rowI + i] = 1;
      for (let j = 0; j < i; j++) { a[rowI + j] = 0; a[j * d + i] = 0; }
    }
  }
}

/**
 * Implicit QL iterations on the tridiagonal matrix (diag, off with off[i] = T[i][i−1]); eigenvalues end up in
 * `diag`. When `zt` is given (rows = basis vectors), the same rotations are applied to its rows.
 */
function tridiagonalQl(diag: Float64Array, off: Float64Array, d: number, zt?: Float64Array): void {
  for (let i = 1; i < d; i++) off[i - 1] = off[i];
  off[d - 1] = 0;
  const epsilon = Number.EPSILON;
  for (let l = 0; l < d; l++) {
    let iterations = 0;
    for (;;) {
      let m = l;
      for (; m < d - 1; m++) {
        const scale = Math.abs(diag[m]) + Math.abs(diag[m + 1]);
        if (Math.abs(off[m]) <= epsilon * scale) break;
      }
      if (m === l) break;
      if (++iterations > 60) throw new Error(`Eigenvalue iteration did not converge at index ${l}.`);

      let g = (diag[l + 1] - diag[l]) / (2 * off[l]);
      let r = Math.hypot(g, 1);
      g = diag[m] - diag[l] + off[l] / (g + (g >= 0 ? r : -r));
      let s = 1;
      let c = 1;
      let p = 0;
      let i = m - 1;
      let underflow = false;
      for (; i >= l; i--) {
        const f = s * off[i];
        const b = c * off[i];
        r = Math.hypot(f, g);
        off[i + 1] = r;
        if (r === 0) { diag[i + 1] -= p; off[m] = 0; underflow = true; break; }
        s = f / r;
        c = g / r;
        g = diag[i + 1] - p;
        r = (diag[i] - g) * s + 2 * c * b;
        p = s * r;
        diag[i + 1] = g + p;
        g = c * r - b;
        if (zt) {
          const rowA = i * d;
          const rowB = (i + 1) * d;
          for (let k = 0; k < d; k++) {
            const zb = zt[rowB + k];
            const za = zt[rowA + k];
            zt[rowB + k] = s * za + c * zb;
            zt[rowA + k] = c * za - s * zb;
          }
        }
      }
      if (underflow) continue;
      diag[l] -= p;
      off[l] = g;
      off[m] = 0;
    }
  }
}
