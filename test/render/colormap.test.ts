import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import {
  classPalette, colorize, colorizeClasses, colorMapLut, COLOR_MAP_NAMES, finiteStats, makeLegend, percentileRange, resolveRange,
  type ColorMapName,
} from '../../src/core/render/colormap';

interface Fixtures {
  colormaps: Record<string, string[]>;
  sample: (number | string)[];
  percentiles: Record<string, number>;
}
const fixtures = require('./fixtures/render-fixtures.json') as Fixtures;

function hex(lut: Uint8Array, i: number): string {
  return Array.from(lut.subarray(3 * i, 3 * i + 3), (v) => v.toString(16).padStart(2, '0')).join('');
}

function rgbOf(hexColour: string): number[] {
  return [0, 2, 4].map((i) => parseInt(hexColour.slice(i, i + 2), 16));
}

function pixel(rgba: Uint8Array, i: number): number[] {
  return Array.from(rgba.subarray(4 * i, 4 * i + 4));
}

const NON_FINITE: Record<string, number> = { nan: NaN, inf: Infinity, '-inf': -Infinity };
const sample = Float32Array.from(fixtures.sample, (v) => (typeof v === 'number' ? v : NON_FINITE[v]));

describe('colour maps', () => {
  for (const name of ['viridis', 'inferno', 'turbo'] as const) {
    it(`${name}: all 256 entries within 1/255 of matplotlib, ends exact`, () => {
      const lut = colorMapLut(name);
      const reference = fixtures.colormaps[name];
      let worst = 0;
      for (let i = 0; i < 256; i++) {
        const expected = rgbOf(reference[i]);
        for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(lut[3 * i + c] - expected[c]));
      }
      assert.ok(worst <= 1, `largest difference ${worst}/255`);
      assert.equal(hex(lut, 0), reference[0]);
      assert.equal(hex(lut, 255), reference[255]);
    });
  }

  it('published colours: viridis #440154 → #21918c → #fde725, inferno #000004 → #fcffa4', () => {
    assert.equal(hex(colorMapLut('viridis'), 0), '440154');
    const middle = colorMapLut('viridis').subarray(3 * 128, 3 * 128 + 3);
    rgbOf('21918c').forEach((v, c) => assert.ok(Math.abs(middle[c] - v) <= 1, `viridis[128] channel ${c}: ${middle[c]} vs ${v}`));
    assert.equal(hex(colorMapLut('viridis'), 255), 'fde725');
    assert.equal(hex(colorMapLut('inferno'), 0), '000004');
    assert.equal(hex(colorMapLut('inferno'), 255), 'fcffa4');
    assert.equal(hex(colorMapLut('turbo'), 0), '30123b');
    assert.equal(hex(colorMapLut('turbo'), 255), '7a0403');
  });

  it('gray: entry i is (i, i, i)', () => {
    const lut = colorMapLut('gray');
    for (const i of [0, 1, 127, 200, 255]) assert.deepEqual(Array.from(lut.subarray(3 * i, 3 * i + 3)), [i, i, i]);
  });

  it('every colour map name has a table', () => {
    for (const name of COLOR_MAP_NAMES) assert.equal(colorMapLut(name).length, 768);
  });

  it('colour module imports nothing, so the webview can bundle it', async () => {
    const source = await fs.readFile(path.join(__dirname, '../../src/core/render/colormap.ts'), 'utf8');
    assert.doesNotMatch(source, /^\s*import\s/m);
    assert.doesNotMatch(source, /require\(/);
  });
});

describe('colorize', () => {
  for (const name of ['viridis', 'inferno', 'gray'] as ColorMapName[]) {
    it(`case 9 (${name}): [-0.5, 0, 0.5, 1.5] in [0, 1] clamps, never wraps`, () => {
      const lut = colorMapLut(name);
      const lowest = [...lut.subarray(0, 3), 255];
      const highest = [...lut.subarray(765, 768), 255];
      const rgba = colorize(Float32Array.of(-0.5, 0, 0.5, 1.5), 4, 1, [0, 1], name);
      assert.deepEqual(pixel(rgba, 0), lowest, '-0.5 shows the lowest colour');
      assert.deepEqual(pixel(rgba, 1), lowest, '0 shows the lowest colour');
      assert.deepEqual(pixel(rgba, 2), [...lut.subarray(3 * 128, 3 * 128 + 3), 255], '0.5 shows entry floor(0.5·256) = 128');
      assert.deepEqual(pixel(rgba, 3), highest, '1.5 shows the highest colour');
    });
  }

  it('case 9 legend states the real minimum and maximum', () => {
    const map = Float32Array.of(-0.5, 0, 0.5, 1.5);
    const legend = makeLegend(map, [0, 1], 'viridis', 'fixed');
    assert.deepEqual(legend, { colormap: 'viridis', min: -0.5, max: 1.5, shownRange: [0, 1], rangeRule: 'fixed', belowRange: 1, aboveRange: 1, nonFinite: 0 });
  });

  it('energies far below zero clamp to the lowest colour', () => {
    const rgba = colorize(Float32Array.of(-40, -20, -1e30), 3, 1, [-25, -5], 'gray');
    assert.deepEqual(pixel(rgba, 0), [0, 0, 0, 255]);
    assert.deepEqual(pixel(rgba, 1), [64, 64, 64, 255]);
    assert.deepEqual(pixel(rgba, 2), [0, 0, 0, 255]);
  });

  it('NaN is transparent; ±Infinity clamp to the ends', () => {
    const rgba = colorize(Float32Array.of(NaN, Infinity, -Infinity), 3, 1, [0, 1], 'gray');
    assert.deepEqual(pixel(rgba, 0), [0, 0, 0, 0]);
    assert.deepEqual(pixel(rgba, 1), [255, 255, 255, 255]);
    assert.deepEqual(pixel(rgba, 2), [0, 0, 0, 255]);
  });

  it('empty range: constant map shows lowest colour', () => {
    const rgba = colorize(Float32Array.of(3, 3, 4), 3, 1, [3, 3], 'gray');
    assert.deepEqual([pixel(rgba, 0), pixel(rgba, 1), pixel(rgba, 2)], [[0, 0, 0, 255], [0, 0, 0, 255], [255, 255, 255, 255]]);
  });

  it('size mismatch is an error', () => {
    assert.throws(() => colorize(new Float32Array(5), 2, 2, [0, 1], 'gray'), /5 values but 2x2 = 4/);
  });
});

describe('ranges', () => {
  for (const [low, high] of [[1, 99], [5, 95], [0, 100], [37.5, 50]]) {
    it(`percentile ${low}-${high} matches numpy, non-finite values left out`, () => {
      const [lo, hi] = percentileRange(sample, low, high);
      assert.ok(Math.abs(lo - fixtures.percentiles[String(low)]) < 1e-9, `${lo} vs ${fixtures.percentiles[String(low)]}`);
      assert.ok(Math.abs(hi - fixtures.percentiles[String(high)]) < 1e-9, `${hi} vs ${fixtures.percentiles[String(high)]}`);
    });
  }

  it('percentiles with many ties match a sort-based reference', () => {
    let seed = 12345;
    const next = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const map = Float32Array.from({ length: 20001 }, () => Math.floor(next() * 7) - 3 + (next() < 0.01 ? 0.5 : 0));
    const sorted = Array.from(map).sort((a, b) => a - b);
    for (const p of [0, 0.3, 1, 25, 50, 77.7, 99, 99.99, 100]) {
      const position = (p / 100) * (sorted.length - 1);
      const below = Math.floor(position);
      const above = Math.min(below + 1, sorted.length - 1);
      const expected = sorted[below] + (sorted[above] - sorted[below]) * (position - below);
      assert.ok(Math.abs(percentileRange(map, p, p)[0] - expected) < 1e-12, `percentile ${p}`);
    }
  });

  it('minmax and fixed', () => {
    assert.deepEqual(resolveRange(sample, { mode: 'minmax' }), [fixtures.percentiles['0'], fixtures.percentiles['100']]);
    assert.deepEqual(resolveRange(sample, { mode: 'fixed', low: -3, high: 2 }), [-3, 2]);
    assert.deepEqual(resolveRange(sample, { mode: 'percentile' }), [fixtures.percentiles['1'], fixtures.percentiles['99']]);
  });

  it('a map without finite values gets [0, 1] and null extremes', () => {
    const map = Float32Array.of(NaN, NaN);
    assert.deepEqual(resolveRange(map, { mode: 'minmax' }), [0, 1]);
    assert.deepEqual(resolveRange(map, { mode: 'percentile' }), [0, 1]);
    assert.deepEqual(finiteStats(map), { min: null, max: null, mean: null, finite: 0, nonFinite: 2 });
  });

  it('bad percentiles are an error', () => {
    assert.throws(() => percentileRange(sample, 99, 1), /0 <= low <= high <= 100/);
  });
});

describe('class palette', () => {
  it('up to 14 classes: StreetHazards colours', () => {
    const palette = classPalette(14);
    assert.deepEqual(Array.from(palette.subarray(3 * 7, 3 * 8)), [128, 64, 128], 'road');
    assert.deepEqual(Array.from(palette.subarray(3 * 13, 3 * 14)), [60, 250, 240], 'anomaly');
  });

  it('generated colours: pairwise distance at least 37', () => {
    for (const count of [15, 21, 40, 150]) {
      const palette = classPalette(count);
      let closest = Infinity;
      for (let a = 0; a < count; a++) {
        for (let b = Math.max(a + 1, 14); b < count; b++) {
          const d = Math.hypot(palette[3 * a] - palette[3 * b], palette[3 * a + 1] - palette[3 * b + 1], palette[3 * a + 2] - palette[3 * b + 2]);
          closest = Math.min(closest, d);
        }
      }
      assert.ok(closest >= 37, `${count} classes: a generated colour is ${closest.toFixed(1)} from another`);
    }
  });

  it('a class keeps its colour whatever the class count', () => {
    assert.deepEqual(Array.from(classPalette(21).subarray(0, 42)), Array.from(classPalette(14)));
    assert.deepEqual(Array.from(classPalette(40).subarray(0, 63)), Array.from(classPalette(21)));
  });

  it('colorizeClasses: void and out-of-palette ids are transparent', () => {
    const rgba = colorizeClasses(Uint8Array.of(0, 7, 255, 14), 4, 1, classPalette(14));
    assert.deepEqual(pixel(rgba, 1), [128, 64, 128, 255]);
    assert.deepEqual(pixel(rgba, 2), [0, 0, 0, 0]);
    assert.deepEqual(pixel(rgba, 3), [0, 0, 0, 0]);
  });
});
