import * as assert from 'assert';
import { HeatError } from '../../src/core/errors';
import { batchMoments, ScoreNormalizer } from '../../src/core/heat';
import { RefAdaptiveNormalizer } from '../reference/heat-reference';
import { assertClose, normals, rng } from './helpers';

describe('heat normalizer', () => {
  it('adaptive: first batch initialises', () => {
    const n = new ScoreNormalizer({ mode: 'adaptive', alpha: 0.9 });
    const out = n.normalize([1, 2, 3, 4]);
    const std = Math.sqrt(5 / 3);
    assert.ok(Math.abs(n.current!.mean - 2.5) < 1e-12);
    assert.ok(Math.abs(n.current!.std - std) < 1e-12);
    assertClose(out, [1, 2, 3, 4].map((v) => (v - 2.5) / (std + 1e-6)), 'first batch', 1e-6);
  });

  it('adaptive: update, then apply', () => {
    const n = new ScoreNormalizer({ mode: 'adaptive', alpha: 0.9 });
    n.normalize([1, 2, 3, 4]);
    const out = n.normalize([10, 12]);
    // Batch 2: mean 11, std sqrt(2). State: 0.9·2.5 + 0.1·11 = 3.35; 0.9·1.2909944 + 0.1·1.4142136.
    const mean = 0.9 * 2.5 + 0.1 * 11;
    const std = 0.9 * Math.sqrt(5 / 3) + 0.1 * Math.SQRT2;
    assert.ok(Math.abs(n.current!.mean - 3.35) < 1e-12);
    assert.ok(Math.abs(n.current!.std - std) < 1e-12);
    assert.strictEqual(n.current!.batches, 2);
    assertClose(out, [(10 - mean) / (std + 1e-6), (12 - mean) / (std + 1e-6)], 'second batch', 1e-6);
  });

  it('adaptive: alpha 0 uses the batch', () => {
    const n = new ScoreNormalizer({ mode: 'adaptive', alpha: 0 });
    n.normalize([100, 200, 300]);
    const out = n.normalize([1, 2, 3]);
    assertClose(out, [-1 / (1 + 1e-6), 0, 1 / (1 + 1e-6)], 'alpha 0', 1e-6);
  });

  it('adaptive: ten batches vs reference', () => {
    const random = rng(5);
    const n = new ScoreNormalizer({ mode: 'adaptive', alpha: 0.7 });
    const ref = new RefAdaptiveNormalizer(0.7);
    for (let b = 0; b < 10; b++) {
      const batch = normals(random, 500, 1 + b, -20 + 3 * b);
      assertClose(n.normalize(batch), ref.normalize(Array.from(batch)), `batch ${b}`, 1e-5);
    }
  });

  it('adaptive: reset clears state', () => {
    const n = new ScoreNormalizer({ mode: 'adaptive' });
    n.normalize([1, 2, 3]);
    n.reset();
    assert.strictEqual(n.current, undefined);
    n.normalize([10, 20, 30]);
    assert.strictEqual(n.current!.mean, 20);
  });

  it('batch moments: values near 1e6', () => {
    const { mean, std } = batchMoments(Float32Array.of(1e6 + 1, 1e6 + 2, 1e6 + 3));
    assert.strictEqual(mean, 1e6 + 2);
    assert.strictEqual(std, 1);
  });

  it('fixed: given constants', () => {
    const n = new ScoreNormalizer({ mode: 'fixed', mean: -30, std: 4 });
    n.normalize([1000, 2000]);
    assertClose(n.normalize([-30, -26]), [0, 4 / (4 + 1e-6)], 'fixed', 1e-7);
  });

  it('none: scores unchanged', () => {
    const n = new ScoreNormalizer({ mode: 'none' });
    assert.deepStrictEqual(Array.from(n.normalize([-25.5, 3])), [-25.5, 3]);
  });

  it('single value: std 0', () => {
    const n = new ScoreNormalizer({ mode: 'adaptive' });
    assert.deepStrictEqual(Array.from(n.normalize([7])), [0]);
  });

  it('bad input: HeatError', () => {
    const isHeat = (re: RegExp) => (e: unknown) => e instanceof HeatError && re.test(e.message);
    assert.throws(() => new ScoreNormalizer({ mode: 'adaptive' }).normalize([1, NaN]), isHeat(/Score 1 of the batch is NaN/));
    assert.throws(() => new ScoreNormalizer({ mode: 'adaptive', alpha: 1.5 }), isHeat(/heat\.score\.alpha/));
    assert.throws(() => new ScoreNormalizer({ mode: 'fixed', mean: 0 }), isHeat(/heat\.score\.fixedMean/));
    assert.throws(() => new ScoreNormalizer({ mode: 'ema' as never }), isHeat(/heat\.score\.normalization/));
    assert.throws(() => new ScoreNormalizer({ mode: 'adaptive' }).normalize([]), isHeat(/empty score batch/));
  });
});
