import { strict as assert } from 'node:assert';
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { HeatError } from '../../src/core/errors';
import { MetricAccumulator, MethodEvaluation, MetricsOptions } from '../../src/core/eval/metrics';

/** Golden values from scikit-learn, written by test/fixtures/metrics/make_metrics.py. */
interface Golden {
  name: string;
  images: { scores: number[]; labels: number[] }[];
  expected: {
    pooled: { aupr: number; auroc: number; fpr95: number } | null;
    bestF1: { threshold: number; f1: number };
    images: ({ aupr: number; auroc: number; fpr95: number } | null)[];
    perImage: { aupr: number | null; auroc: number | null; fpr95: number | null; imagesUsed: number; imagesSkipped: number };
    counts: { known: number; anomaly: number; ignored: number };
    fpr95Definitions?: { firstTprAtLeast95: number; tprNearest95: number; knownAsPositive: number };
    fpr95DropIntermediate?: number;
    logits?: number[][];
    energy64?: number[];
  };
}

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'metrics');
const TOLERANCE = 1e-9;

function loadGolden(name: string): Golden {
  return JSON.parse(readFileSync(path.join(FIXTURES, `${name}.json`), 'utf8')) as Golden;
}

function evaluate(golden: Golden, options: MetricsOptions = {}): MethodEvaluation {
  const accumulator = new MetricAccumulator('score', options);
  golden.images.forEach((image, i) => accumulator.add(Float32Array.from(image.scores), Uint8Array.from(image.labels), `image ${i}`));
  return accumulator.finish();
}

function near(actual: number | null, expected: number | null, what: string): void {
  assert.notEqual(actual, null, `${what} is null`);
  assert.ok(Math.abs((actual as number) - (expected as number)) <= TOLERANCE, `${what}: ${actual} vs scikit-learn ${expected}`);
}

function checkAgainstGolden(golden: Golden, evaluation: MethodEvaluation): void {
  const { pooled, perImage } = evaluation.metrics;
  const expected = golden.expected;
  near(pooled.aupr.value, expected.pooled!.aupr, `${golden.name} pooled AUPR`);
  near(pooled.auroc.value, expected.pooled!.auroc, `${golden.name} pooled AUROC`);
  near(pooled.fpr95.value, expected.pooled!.fpr95, `${golden.name} pooled FPR95`);
  near(perImage.aupr.value, expected.perImage.aupr, `${golden.name} per-image AUPR`);
  near(perImage.auroc.value, expected.perImage.auroc, `${golden.name} per-image AUROC`);
  near(perImage.fpr95.value, expected.perImage.fpr95, `${golden.name} per-image FPR95`);
  assert.equal(perImage.imagesUsed, expected.perImage.imagesUsed);
  assert.equal(perImage.imagesSkipped, expected.perImage.imagesSkipped);
  expected.images.forEach((image, i) => {
    const mine = evaluation.images[i];
    if (image === null) return assert.equal(mine.auroc, null, `image ${i} should be skipped`);
    near(mine.aupr, image.aupr, `${golden.name} image ${i} AUPR`);
    near(mine.auroc, image.auroc, `${golden.name} image ${i} AUROC`);
    near(mine.fpr95, image.fpr95, `${golden.name} image ${i} FPR95`);
  });
  assert.equal(evaluation.counts.known, expected.counts.known);
  assert.equal(evaluation.counts.anomaly, expected.counts.anomaly);
  assert.equal(evaluation.counts.ignored, expected.counts.ignored);
  near(evaluation.bestF1!.f1.value, expected.bestF1.f1, `${golden.name} best F1`);
  assert.equal(evaluation.bestF1!.threshold, expected.bestF1.threshold, `${golden.name} F1-optimal threshold`);
}

describe('eval/metrics: scikit-learn golden fixtures', () => {
  const names = readdirSync(FIXTURES).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, ''));

  it('fixtures are present', () => assert.ok(names.length >= 8, `found ${names.length} fixtures in ${FIXTURES}`));

  for (const name of names) {
    it(`${name}: exact metrics match scikit-learn within 1e-9`, () => {
      const golden = loadGolden(name);
      checkAgainstGolden(golden, evaluate(golden));
    });
  }

  it('ties: same pooled result as one image', () => {
    const golden = loadGolden('ties');
    const merged: Golden = {
      ...golden,
      images: [{ scores: golden.images.flatMap((i) => i.scores), labels: golden.images.flatMap((i) => i.labels) }],
    };
    const pooled = evaluate(merged).metrics.pooled;
    near(pooled.aupr.value, golden.expected.pooled!.aupr, 'merged AUPR');
    near(pooled.auroc.value, golden.expected.pooled!.auroc, 'merged AUROC');
  });
});

describe('eval/metrics: cases', () => {
  it('case 1: pooled AUROC 0.75 and AUPR 0.558824, per-image 1.0, both reported', () => {
    const scoresA = new Float32Array(16);
    const scoresB = new Float32Array(16).fill(10);
    const labels = new Uint8Array(16);
    scoresA[5] = 1;
    scoresB[5] = 11;
    labels[5] = 1;
    const accumulator = new MetricAccumulator('case1');
    accumulator.add(scoresA, labels, 'A');
    accumulator.add(scoresB, labels, 'B');
    const { pooled, perImage } = accumulator.finish().metrics;
    assert.equal(pooled.auroc.value, 0.75);
    assert.ok(Math.abs(pooled.aupr.value! - 0.558824) < 5e-7);
    assert.equal(perImage.auroc.value, 1);
    assert.equal(perImage.aupr.value, 1);
    assert.equal(perImage.imagesUsed, 2);
  });

  it('case 3: energy AUROC 1, inverted 0', () => {
    const golden = loadGolden('case3-score-sign');
    // Reference: E = -logsumexp(z), higher = more anomalous.
    const energy = golden.expected.logits!.map((z) => -Math.log(z.reduce((sum, v) => sum + Math.exp(v), 0)));
    assert.ok(Math.abs(energy[0] - -10.0000454) < 1e-7);
    assert.ok(Math.abs(energy[1] - -1.6931472) < 1e-7);
    const labels = Uint8Array.from([0, 1]);
    const straight = new MetricAccumulator('energy');
    straight.add(Float32Array.from(energy), labels);
    assert.equal(straight.finish().metrics.pooled.auroc.value, 1);
    const inverted = new MetricAccumulator('negated energy');
    inverted.add(Float32Array.from(energy.map((e) => -e)), labels);
    assert.equal(inverted.finish().metrics.pooled.auroc.value, 0);
  });

  it('case 4: repeated known pixels lower AUPR only', () => {
    const once = evaluate(loadGolden('case4-ratio')).metrics.pooled;
    const repeated = evaluate(loadGolden('case4-ratio-repeated')).metrics.pooled;
    assert.ok(Math.abs(once.auroc.value! - repeated.auroc.value!) < 1e-12);
    assert.equal(once.fpr95.value, repeated.fpr95.value);
    assert.ok(repeated.aupr.value! < once.aupr.value! - 0.1, `AUPR ${repeated.aupr.value} vs ${once.aupr.value}`);
  });

  it('case 5: FPR95 uses first TPR >= 0.95', () => {
    const golden = loadGolden('case5-fpr95-definitions');
    const definitions = golden.expected.fpr95Definitions!;
    assert.equal(golden.images[0].labels.filter((l) => l === 1).length, 10);
    assert.equal(new Set([definitions.firstTprAtLeast95, definitions.tprNearest95, definitions.knownAsPositive]).size, 3);
    const fpr95 = evaluate(golden).metrics.pooled.fpr95.value;
    assert.ok(Math.abs(fpr95! - definitions.firstTprAtLeast95) < TOLERANCE);
    assert.notEqual(fpr95, definitions.tprNearest95);
    assert.notEqual(fpr95, definitions.knownAsPositive);
  });

  it('FPR95 on collinear ties: 0.95, not the 1.0 of a thinned ROC curve', () => {
    const golden = loadGolden('collinear-ties');
    const fpr95 = evaluate(golden).metrics.pooled.fpr95.value;
    assert.ok(Math.abs(fpr95! - 0.95) < 1e-12);
    assert.equal(golden.expected.fpr95DropIntermediate, 1);
  });

  it('raw energies -20 to -40: ranked unchanged', () => {
    const golden = loadGolden('imbalanced-energy');
    const all = golden.images.flatMap((i) => i.scores);
    // A sigmoid would map all of these to 0 in float32 and tie them.
    assert.ok(Math.max(...all) < -10);
    assert.ok(Math.min(...all) < -35);
    checkAgainstGolden(golden, evaluate(golden));
  });
});

describe('eval/metrics: undefined values and bad input', () => {
  it('no anomaly pixels: every pooled metric is null with a reason, never NaN', () => {
    const accumulator = new MetricAccumulator('energy');
    accumulator.add(Float32Array.from([1, 2, 3]), Uint8Array.from([0, 0, 255]));
    const { pooled, perImage } = accumulator.finish().metrics;
    for (const value of [pooled.aupr, pooled.auroc, pooled.fpr95, perImage.aupr]) {
      assert.equal(value.value, null);
      assert.match(value.reason!, /no anomaly pixels|no image has both/);
    }
    assert.equal(perImage.imagesSkipped, 1);
  });

  it('no known pixels: pooled metrics are null with the reason', () => {
    const accumulator = new MetricAccumulator('energy');
    accumulator.add(Float32Array.from([1, 2]), Uint8Array.from([1, 1]));
    assert.match(accumulator.finish().metrics.pooled.auroc.reason!, /no known pixels/);
  });

  it('NaN scores: metrics are null and the reason names the count and image', () => {
    const accumulator = new MetricAccumulator('heat');
    accumulator.add(Float32Array.from([0, Number.NaN, 1]), Uint8Array.from([0, 1, 1]), 'frame_007.png');
    const evaluation = accumulator.finish();
    assert.equal(evaluation.metrics.pooled.aupr.value, null);
    assert.match(evaluation.metrics.pooled.aupr.reason!, /1 of 3 evaluated scores are NaN \(first in frame_007\.png\)/);
    assert.equal(evaluation.metrics.perImage.auroc.value, null);
    assert.equal(evaluation.counts.nan, 1);
  });

  it('ignore label 255 never counts, whatever its score', () => {
    const withIgnored = new MetricAccumulator('s');
    withIgnored.add(Float32Array.from([0, 1, 100, Number.NaN]), Uint8Array.from([0, 1, 255, 255]));
    const result = withIgnored.finish();
    assert.equal(result.metrics.pooled.auroc.value, 1);
    assert.deepEqual([result.counts.known, result.counts.anomaly, result.counts.ignored], [1, 1, 2]);
  });

  it('label value 7: HeatError with fix', () => {
    const accumulator = new MetricAccumulator('energy');
    assert.throws(
      () => accumulator.add(Float32Array.from([0, 1]), Uint8Array.from([0, 7]), 'a.png'),
      (e: unknown) => e instanceof HeatError && /label value 7 at pixel 1/.test(e.message) && /a\.png/.test(e.message) && /heat\.labels/.test(e.message),
    );
  });

  it('score and label lengths that differ are a HeatError', () => {
    const accumulator = new MetricAccumulator('energy');
    assert.throws(() => accumulator.add(new Float32Array(4), new Uint8Array(3), 'b.png'), (e: unknown) => e instanceof HeatError && /4 scores but 3 labels/.test(e.message));
  });

  it('maxExactPixels of 0 is a HeatError', () => {
    assert.throws(() => new MetricAccumulator('energy', { maxExactPixels: 0 }), HeatError);
  });
});

describe('eval/metrics: thresholds', () => {
  it('a given threshold is applied with precision, recall and F1 from counts', () => {
    const golden = loadGolden('random-large');
    const accumulator = new MetricAccumulator('score');
    golden.images.forEach((image) => accumulator.add(Float32Array.from(image.scores), Uint8Array.from(image.labels)));
    const evaluation = accumulator.finish({ value: 0.5, source: 'validation' });

    // Reference: count directly.
    let tp = 0;
    let fp = 0;
    let positives = 0;
    for (const image of golden.images) {
      image.scores.forEach((s, i) => {
        const label = image.labels[i];
        if (label === 255) return;
        if (label === 1) positives++;
        if (Math.fround(s) >= 0.5) {
          if (label === 1) tp++;
          else fp++;
        }
      });
    }
    const stats = evaluation.atThreshold!;
    assert.deepEqual([stats.truePositives, stats.falsePositives, stats.falseNegatives], [tp, fp, positives - tp]);
    assert.ok(Math.abs(stats.f1.value! - (2 * tp) / (2 * tp + fp + positives - tp)) < 1e-15);
    assert.deepEqual(evaluation.metrics.threshold, { value: 0.5, source: 'validation', f1: stats.f1.value });
  });
});

/** Normal random numbers from a seeded generator, so the test is reproducible. */
function normals(count: number, seed: number): Float32Array {
  let state = seed >>> 0;
  const uniform = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state + 0.5) / 4294967296;
  };
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  return out;
}

describe('eval/metrics: histogram mode', () => {
  const IMAGES = 10;
  const PIXELS = 100_000;

  function run(maxExactPixels: number): MethodEvaluation {
    const accumulator = new MetricAccumulator('score', { maxExactPixels });
    for (let image = 0; image < IMAGES; image++) {
      const scores = normals(PIXELS, 1000 + image);
      const labels = new Uint8Array(PIXELS);
      for (let i = 0; i < PIXELS; i += 13) {
        labels[i] = 1;
        scores[i] += 1.5;
      }
      for (let i = 5; i < PIXELS; i += 101) labels[i] = 255;
      accumulator.add(scores, labels);
    }
    const evaluation = accumulator.finish();
    finishedRuns.set(evaluation, accumulator);
    return evaluation;
  }

  const finishedRuns = new Map<MethodEvaluation, MetricAccumulator>();
  function runThreshold(evaluation: MethodEvaluation, threshold: number) {
    return finishedRuns.get(evaluation)!.thresholdStats(threshold);
  }

  it('10^6 pixels: histogram within its bound', () => {
    const exact = run(10_000_000);
    const histogram = run(150_000);
    assert.equal(exact.metrics.computation, 'exact');
    assert.equal(histogram.metrics.computation, 'histogram');
    for (const name of ['aupr', 'auroc', 'fpr95'] as const) {
      const e = exact.metrics.pooled[name];
      const h = histogram.metrics.pooled[name];
      assert.equal(e.bound, undefined);
      assert.ok(h.bound! > 0, `${name} bound ${h.bound}`);
      assert.ok(h.bound! < 0.01, `${name} bound ${h.bound}`);
      assert.ok(Math.abs(e.value! - h.value!) <= h.bound!, `${name}: exact ${e.value}, histogram ${h.value} ± ${h.bound}`);
    }
    assert.deepEqual(histogram.metrics.perImage, exact.metrics.perImage, 'per-image metrics stay exact');
    for (const curve of [exact.curves.roc, exact.curves.pr, histogram.curves.roc, histogram.curves.pr]) {
      assert.ok(curve.length > 50, `${curve.length} curve points`);
      assert.ok(curve.length <= 512, `${curve.length} curve points`);
    }
    assert.deepEqual(histogram.counts, exact.counts);
  });

  it('threshold inside a bin: within uncertain pixels', () => {
    const exact = run(10_000_000);
    const histogram = run(150_000);
    for (const threshold of [0.3, 1.2345, 2]) {
      const e = runThreshold(exact, threshold);
      const h = runThreshold(histogram, threshold);
      const uncertain = h.uncertainPixels;
      assert.ok(e.truePositives <= h.truePositives, `TP at ${threshold}`);
      assert.ok(h.truePositives - e.truePositives <= uncertain, `TP at ${threshold}`);
      assert.ok(e.falsePositives <= h.falsePositives, `FP at ${threshold}`);
      assert.ok(h.falsePositives - e.falsePositives <= uncertain, `FP at ${threshold}`);
    }
  });

  it('histogram F1 threshold: bin edge, exact counts', () => {
    const histogram = run(150_000);
    assert.equal(histogram.bestF1!.uncertainPixels, 0);
  });

  it('switching keeps the pixels collected before the limit (all counted in the histogram)', () => {
    const histogram = run(150_000);
    const counted = histogram.histogram!.known.reduce((a, b) => a + b, 0) + histogram.histogram!.anomaly.reduce((a, b) => a + b, 0);
    assert.equal(counted, histogram.counts.known + histogram.counts.anomaly);
  });
});

describe('eval/metrics: histogram bound in one bin', () => {
  // 100 distinct float32 scores 1 + i·2^-23 share one histogram bin (relative bin width 2^-11).
  function evaluateOrder(anomalyOnTop: boolean, maxExactPixels: number): MethodEvaluation {
    const scores = Float32Array.from({ length: 100 }, (_, i) => 1 + i * 2 ** -23);
    const labels = Uint8Array.from({ length: 100 }, (_, i) => ((anomalyOnTop ? i >= 90 : i < 10) ? 1 : 0));
    const accumulator = new MetricAccumulator('score', { maxExactPixels });
    accumulator.add(scores, labels);
    return accumulator.finish();
  }

  for (const anomalyOnTop of [true, false]) {
    it(`anomaly ${anomalyOnTop ? 'ranked first' : 'ranked last'}: the bound covers the exact value`, () => {
      const exact = evaluateOrder(anomalyOnTop, 1000).metrics.pooled;
      const binned = evaluateOrder(anomalyOnTop, 1).metrics.pooled;
      assert.equal(binned.auroc.value, 0.5, 'one bin is one tie');
      for (const name of ['aupr', 'auroc', 'fpr95'] as const) {
        const difference = Math.abs(exact[name].value! - binned[name].value!);
        assert.ok(difference <= binned[name].bound! + 1e-12, `${name}: exact ${exact[name].value}, binned ${binned[name].value} ± ${binned[name].bound}`);
      }
    });
  }
});
