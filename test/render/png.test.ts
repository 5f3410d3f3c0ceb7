import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { classPalette, colorize, colorMapLut } from '../../src/core/render/colormap';
import { writeClassPng, writeMapPng } from '../../src/core/render/png';

async function readRgba(file: string): Promise<{ data: Uint8Array; width: number; height: number }> {
  const { data, info } = await sharp(file).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

describe('map PNG files', () => {
  let dir: string;
  before(async () => { dir = await fs.mkdtemp(path.join(os.tmpdir(), 'heat-render-')); });
  after(async () => fs.rm(dir, { recursive: true, force: true }));

  it('case 9 on disk: clamped colours and the legend with the real extremes', async () => {
    const file = path.join(dir, 'case9.png');
    const map = Float32Array.of(-0.5, 0, 0.5, 1.5);
    const legend = await writeMapPng(file, map, 2, 2, { colormap: 'inferno', range: [0, 1] });
    assert.deepEqual(legend, { colormap: 'inferno', min: -0.5, max: 1.5, shownRange: [0, 1], rangeRule: 'fixed', belowRange: 1, aboveRange: 1, nonFinite: 0 });
    const { data, width, height } = await readRgba(file);
    assert.deepEqual([width, height], [2, 2]);
    const lut = colorMapLut('inferno');
    assert.deepEqual(Array.from(data.subarray(0, 4)), [...lut.subarray(0, 3), 255]);
    assert.deepEqual(Array.from(data.subarray(12, 16)), [...lut.subarray(765, 768), 255]);
  });

  it('default percentile range: file equals colorize', async () => {
    const width = 40;
    const height = 30;
    const map = Float32Array.from({ length: width * height }, (_, i) => -30 + Math.sin(i) * 10 + (i % 7));
    map[5] = NaN;
    const file = path.join(dir, 'energy.png');
    const legend = await writeMapPng(file, map, width, height);
    assert.equal(legend.rangeRule, 'percentile 1-99');
    assert.equal(legend.nonFinite, 1);
    assert.ok(legend.belowRange > 0);
    assert.ok(legend.aboveRange > 0);
    const { data } = await readRgba(file);
    assert.deepEqual(Array.from(data), Array.from(colorize(map, width, height, legend.shownRange, 'viridis')));
    assert.equal(data[4 * 5 + 3], 0, 'NaN pixel is transparent');
  });

  it('writes atomically: overwriting leaves one file and no temporaries', async () => {
    const sub = path.join(dir, 'atomic');
    const file = path.join(sub, 'heat.png');
    await writeMapPng(file, Float32Array.of(0, 1), 2, 1, { range: { mode: 'minmax' } });
    await writeMapPng(file, Float32Array.of(1, 0), 2, 1, { range: { mode: 'minmax' }, colormap: 'gray' });
    assert.deepEqual(await fs.readdir(sub), ['heat.png']);
    const { data } = await readRgba(file);
    assert.deepEqual(Array.from(data), [255, 255, 255, 255, 0, 0, 0, 255]);
  });

  it('prediction PNG in class colours, void transparent', async () => {
    const file = path.join(dir, 'prediction.png');
    await writeClassPng(file, Int32Array.of(0, 20, 255, 7), 4, 1, 21);
    const { data } = await readRgba(file);
    const palette = classPalette(21);
    assert.deepEqual(Array.from(data.subarray(4, 8)), [...palette.subarray(60, 63), 255]);
    assert.equal(data[11], 0);
    assert.deepEqual(Array.from(data.subarray(12, 16)), [128, 64, 128, 255]);
  });

  it('wrong buffer size is an error', async () => {
    await assert.rejects(writeMapPng(path.join(dir, 'bad.png'), new Float32Array(3), 2, 2), /3 values but 2x2 = 4/);
  });
});
