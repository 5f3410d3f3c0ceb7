import { strict as assert } from 'node:assert';
import { colorMapLut } from '../../src/core/render/colormap';
import { blend, readout, renderMask, renderScoreTile, sliderPosition, startingThreshold, weightStats } from '../../webview/lib/viewerModel';

/** RGB of LUT entry i, the independent reference for what a pixel should show. */
function lutColor(name: 'viridis' | 'gray', i: number): number[] {
  const lut = colorMapLut(name);
  return [lut[3 * i], lut[3 * i + 1], lut[3 * i + 2], 255];
}

describe('viewer model', () => {
  it('renderScoreTile fixed range: values outside clamp to the end colours, legend keeps the real extent', () => {
    const map = Float32Array.from([-0.5, 0, 0.5, 1, 1.5, NaN]);
    const { rgba, legend } = renderScoreTile(map, 6, 1, { mode: 'fixed', low: 0, high: 1 }, 'viridis');
    const px = (i: number) => [...rgba.subarray(4 * i, 4 * i + 4)];
    assert.deepEqual(px(0), lutColor('viridis', 0));
    assert.deepEqual(px(1), lutColor('viridis', 0));
    assert.deepEqual(px(2), lutColor('viridis', 128));
    assert.deepEqual(px(3), lutColor('viridis', 255));
    assert.deepEqual(px(4), lutColor('viridis', 255));
    assert.equal(px(5)[3], 0, 'NaN is transparent');
    assert.deepEqual([legend.min, legend.max], [-0.5, 1.5]);
    assert.deepEqual(legend.shownRange, [0, 1]);
    assert.deepEqual([legend.belowRange, legend.aboveRange, legend.nonFinite], [1, 1, 1]);
  });

  it('renderScoreTile percentile range: 1-99 of raw energies (-40..-20) clamps the extremes', () => {
    const map = new Float32Array(101);
    for (let i = 0; i <= 100; i++) map[i] = -40 + 0.2 * i;
    const { rgba, legend } = renderScoreTile(map, 101, 1, { mode: 'percentile', low: 1, high: 99 }, 'gray');
    assert.ok(Math.abs(legend.shownRange[0] - -39.8) < 1e-5 && Math.abs(legend.shownRange[1] - -20.2) < 1e-5);
    assert.deepEqual([...rgba.subarray(0, 4)], lutColor('gray', 0));
    assert.deepEqual([...rgba.subarray(400, 404)], lutColor('gray', 255));
    assert.equal(legend.rangeRule, 'percentile 1-99');
  });

  it('blend: opacity 0 shows the image, 1 the score, NaN score pixels leave the image', () => {
    const image = Uint8Array.from([100, 100, 100, 255, 10, 20, 30, 255]);
    const score = Uint8Array.from([200, 0, 0, 255, 0, 0, 0, 0]);
    assert.deepEqual([...blend(image, score, 0)], [...image]);
    assert.deepEqual([...blend(image, score, 1).subarray(0, 4)], [200, 0, 0, 255]);
    assert.deepEqual([...blend(image, score, 0.5).subarray(0, 8)], [150, 50, 50, 255, 10, 20, 30, 255]);
  });

  it('renderMask: score ≥ threshold counts as anomaly; with ground truth TP white, FN blue', () => {
    const mask = renderMask(Float32Array.from([0.2, 0.8, 0.5]), 0.5, Uint8Array.from([1, 1, 0]));
    assert.deepEqual([...mask.subarray(0, 4)], [40, 90, 230, 255]);
    assert.deepEqual([...mask.subarray(4, 8)], [255, 255, 255, 255]);
    assert.deepEqual([...mask.subarray(8, 12)], [230, 40, 40, 255]);
  });

  it('weightStats: means, dominance shares and the 90 % warning', () => {
    const n = 20;
    const e = new Float32Array(n).fill(0.6);
    const m = new Float32Array(n).fill(0.3);
    const s = new Float32Array(n).fill(0.1);
    e[0] = 0.1; m[0] = 0.8;
    const stats = weightStats({ 'weight-energy': e, 'weight-mahalanobis': m, 'weight-spatial': s })!;
    assert.ok(Math.abs(stats.mean.energy - (0.6 * 19 + 0.1) / 20) < 1e-6);
    assert.equal(stats.dominant.energy, 19 / 20);
    assert.equal(stats.dominant.mahalanobis, 1 / 20);
    assert.match(stats.warning!, /energy weight is the largest at 95\.0 %/);
    e[1] = 0.1; m[1] = 0.8;
    assert.equal(weightStats({ 'weight-energy': e, 'weight-mahalanobis': m, 'weight-spatial': s })!.warning, undefined);
    assert.equal(weightStats({}), undefined);
  });

  it('readout: values at (x, y) row-major, null outside the image', () => {
    const maps = { energy: Float32Array.from([1, 2, 3, 4, 5, 6]), heat: Float32Array.from([6, 5, 4, 3, 2, 1]) };
    assert.deepEqual(readout(maps, ['energy', 'mahalanobis', 'heat'], 3, 2, 2, 1), [{ name: 'energy', value: 6 }, { name: 'heat', value: 1 }]);
    assert.equal(readout(maps, ['energy'], 3, 2, 3, 0), null);
    assert.equal(readout(maps, ['energy'], 3, 2, -1, 0), null);
  });
});

describe('viewer starting threshold', () => {
  const map = Float32Array.from({ length: 101 }, (_, i) => -40 + 0.2 * i);

  it('validation threshold comes first', () => {
    assert.deepEqual(startingThreshold(map, -25.5, -30), { value: -25.5, source: 'validation' });
  });

  it('fixed range high without validation', () => {
    assert.deepEqual(startingThreshold(map, undefined, -30), { value: -30, source: 'fixed range' });
  });

  it('99th percentile otherwise', () => {
    const start = startingThreshold(map);
    assert.equal(start.source, '99th percentile');
    // Values -40, -39.8, …, -20: the 99th percentile by linear interpolation is -20.2.
    assert.ok(Math.abs(start.value - -20.2) < 1e-5, `got ${start.value}`);
  });

  it('non-finite validation value is ignored', () => {
    assert.equal(startingThreshold(map, NaN).source, '99th percentile');
  });

  it('slider position clamps to the ends', () => {
    assert.equal(sliderPosition(-30, -40, -20), 500);
    assert.equal(sliderPosition(-50, -40, -20), 0);
    assert.equal(sliderPosition(5, -40, -20), 1000);
    assert.equal(sliderPosition(1, 1, 1), 1000);
  });
});
