import { strict as assert } from 'node:assert';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { ClassMoments, emptyMoments, mergeBlock } from '../../src/core/stats/accumulator';
import { finalizeStatistics } from '../../src/core/stats/finalize';
import { cholesky, invertSpd, symmetricEigen } from '../../src/core/stats/linalg';
import { HeatError } from '../../src/core/errors';
import { gaussian, matmul, maxRelativeError, random, twoPass } from './reference';

/** Moments of the given rows per class, built with the reference two-pass (no onnxruntime involved). */
function momentsOf(rowsByClass: number[][][], d: number): ClassMoments {
  const moments = emptyMoments(rowsByClass.length, d);
  rowsByClass.forEach((rows, c) => {
    if (rows.length === 0) return;
    const { mean, scatter } = twoPass(rows, d);
    mergeBlock(moments, c, rows.length, Float64Array.from(mean), Float64Array.from(scatter));
  });
  return moments;
}

function randomSpd(d: number, seed: number): Float64Array {
  const rand = random(seed);
  const a = Array.from({ length: (d + 2) * d }, () => gaussian(rand));
  const s = matmul(Matrix.from1DArray(d + 2, d, a).transpose().to1DArray(), a, d, d + 2, d);
  return Float64Array.from(s.map((v, i) => v + (i % (d + 1) === 0 ? 0.1 : 0)));
}

describe('stats linear algebra', () => {
  it('Cholesky factor reproduces the matrix and the SPD inverse gives the identity', () => {
    const d = 12;
    const a = randomSpd(d, 4);
    const l = cholesky(a, d);
    const lt = Matrix.from1DArray(d, d, Array.from(l)).transpose().to1DArray();
    assert.ok(maxRelativeError(matmul(l, lt, d, d, d), a) < 1e-12);
    const identity = Array.from({ length: d * d }, (_, i) => (i % (d + 1) === 0 ? 1 : 0));
    assert.ok(maxRelativeError(matmul(a, invertSpd(a, d), d, d, d), identity) < 1e-10);
  });

  it('symmetric eigen-decomposition matches ml-matrix and satisfies A·v = λ·v', () => {
    for (const d of [1, 2, 9, 40]) {
      const a = randomSpd(d, d);
      const mine = symmetricEigen(a, d, true);
      const theirs = new EigenvalueDecomposition(Matrix.from1DArray(d, d, Array.from(a)), { assumeSymmetric: true });
      const expected = [...theirs.realEigenvalues].sort((x, y) => y - x);
      assert.ok(maxRelativeError(mine.values, expected) < 1e-10, `D = ${d}`);
      for (let j = 0; j < d; j++) {
        const v = mine.vectors!.subarray(j * d, (j + 1) * d);
        const av = matmul(a, v, d, d, 1);
        assert.ok(maxRelativeError(av, Array.from(v, (x) => x * mine.values[j])) < 1e-9);
      }
      assert.deepEqual([...symmetricEigen(a, d, false).values], [...mine.values]);
    }
  });

  it('a matrix that is not positive definite fails with the regularisation fix', () => {
    assert.throws(() => cholesky(Float64Array.from([1, 2, 2, 1]), 2, 'tied covariance'), (e: unknown) =>
      e instanceof HeatError && /tied covariance is not positive definite/.test(e.message) && /heat\.statistics\.regularization/.test(e.message));
  });
});

describe('stats finalisation', () => {
  it('case 6: dead channels 3 and 6', () => {
    const d = 8;
    const rand = random(6);
    const rows = Array.from({ length: 100 }, () => Array.from({ length: d }, (_, i) => (i === 3 || i === 6 ? 0 : 2 + gaussian(rand) * (1 + i))));
    const epsilon = 1e-4;
    const result = finalizeStatistics(momentsOf([rows], d), { regularization: epsilon, regularizationMode: 'absolute', rank: 4 });

    const tied = result.reports.find((r) => r.name === 'tied')!;
    const reference = new EigenvalueDecomposition(Matrix.from1DArray(d, d, Array.from(result.statistics.tiedCovariance!)), { assumeSymmetric: true });
    const largest = Math.max(...reference.realEigenvalues);
    assert.equal(tied.nullDimensions, 2);
    assert.deepEqual(tied.zeroVarianceChannels, [3, 6]);
    assert.ok(Math.abs(tied.smallestEigenvalue - epsilon) < 1e-12);
    assert.ok(Math.abs(tied.conditionNumber - (largest + epsilon) / epsilon) / tied.conditionNumber < 1e-9);
    assert.ok(result.warnings.some((w) => /tied covariance is rank-deficient \(2 of 8 eigenvalues are zero; 2 channel\(s\) with zero variance: 3, 6\)/.test(w)));

    // The dead channels decouple, so the precision there is exactly 1/ε; distances stay finite.
    const precision = result.statistics.tiedPrecision!;
    assert.ok(Math.abs(precision[3 * d + 3] - 1 / epsilon) < 1e-6);
    const x = Array.from({ length: d }, (_, i) => i + 0.5);
    const diff = x.map((v, i) => v - result.statistics.means[i]);
    const d2 = matmul(diff, matmul(precision, diff, d, d, 1), 1, d, 1)[0];
    assert.ok(Number.isFinite(d2) && d2 > 0);
  });

  it('float32 products: rank with float32 tolerance', () => {
    // 8 samples in D = 64 span 7 dimensions, so 57 eigenvalues are 0. Rounding the scatter to float32, as the
    // float32 products do, turns them into noise of either sign.
    const d = 64;
    const rand = random(64);
    const rows = Array.from({ length: 8 }, () => Array.from({ length: d }, () => 1 + gaussian(rand)));
    const moments = momentsOf([rows], d);
    for (let i = 0; i < moments.scatters.length; i++) moments.scatters[i] = Math.fround(moments.scatters[i]);
    const options = { regularization: 1e-4, regularizationMode: 'absolute' as const, rank: 4 };
    const single = finalizeStatistics(moments, { ...options, productPrecision: 'float32' });
    assert.equal(single.reports[0].nullDimensions, 57);
    assert.ok(single.warnings.some((w) => w.includes('57 of 64 eigenvalues are zero at the float32 precision')), single.warnings.join('\n'));
    const double = finalizeStatistics(moments, { ...options, productPrecision: 'float64' });
    assert.ok(double.reports[0].nullDimensions < 57, `float64 tolerance counted ${double.reports[0].nullDimensions}`);
  });

  it('relative regularisation adds ε·trace/D', () => {
    const d = 4;
    const rand = random(2);
    const rows = Array.from({ length: 30 }, () => Array.from({ length: d }, () => 10 * gaussian(rand)));
    const result = finalizeStatistics(momentsOf([rows], d), { regularization: 0.01, regularizationMode: 'relative', rank: 2 });
    const cov = result.statistics.tiedCovariance!;
    const trace = cov[0] + cov[5] + cov[10] + cov[15];
    assert.ok(Math.abs(result.reports[0].epsilon - (0.01 * trace) / d) < 1e-12);
    const regularized = Array.from(cov, (v, i) => v + (i % (d + 1) === 0 ? result.reports[0].epsilon : 0));
    const identity = Array.from({ length: d * d }, (_, i) => (i % (d + 1) === 0 ? 1 : 0));
    assert.ok(maxRelativeError(matmul(regularized, result.statistics.tiedPrecision!, d, d, d), identity) < 1e-10);
  });

  it('low-rank keeps the top-k eigenpairs of the regularised tied covariance as columns', () => {
    const d = 6;
    const rand = random(8);
    const rows = Array.from({ length: 50 }, () => Array.from({ length: d }, (_, i) => gaussian(rand) * (i + 1)));
    const { statistics } = finalizeStatistics(momentsOf([rows], d), { regularization: 1e-3, regularizationMode: 'absolute', rank: 3 });
    const { rank, vectors, values } = statistics.lowRank!;
    assert.equal(rank, 3);
    const regularized = Array.from(statistics.tiedCovariance!, (v, i) => v + (i % (d + 1) === 0 ? 1e-3 : 0));
    const reference = new EigenvalueDecomposition(Matrix.from1DArray(d, d, regularized), { assumeSymmetric: true });
    assert.ok(maxRelativeError(values, [...reference.realEigenvalues].sort((a, b) => b - a).slice(0, 3)) < 1e-10);
    for (let j = 0; j < rank; j++) {
      const v = Array.from({ length: d }, (_, i) => vectors[i * rank + j]);
      assert.ok(maxRelativeError(matmul(regularized, v, d, d, 1), v.map((x) => x * values[j])) < 1e-9);
    }
  });

  it('classes with no pixels are listed, warned by name and get zero covariance', () => {
    const d = 2;
    const rand = random(1);
    const rows = (n: number) => Array.from({ length: n }, () => [gaussian(rand), gaussian(rand)]);
    const result = finalizeStatistics(momentsOf([rows(20), [], rows(15), []], d), {
      regularization: 1e-4, regularizationMode: 'absolute', rank: 2, classNames: ['road', 'car', 'sky', 'cow'],
    });
    assert.deepEqual(result.statistics.emptyClasses, [1, 3]);
    assert.ok(result.warnings.some((w) => w.includes('2 of 4 classes have no pixels') && w.includes('1 (car), 3 (cow)')));
    assert.deepEqual([...result.statistics.classCovariances!.subarray(4, 8)], [0, 0, 0, 0]);
    assert.equal(result.reports.length, 3);
  });

  it('fewer than two labelled cells is an error naming the settings to check', () => {
    assert.throws(() => finalizeStatistics(emptyMoments(3, 2), { regularization: 1e-4, regularizationMode: 'absolute', rank: 1 }),
      /0 labelled feature cell\(s\).*heat\.statistics\.purity/);
  });
});
