import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import sharp from 'sharp';
import { decodePngSamples, decodePngSamplesAsync } from '../../src/core/data/png';

const FIXTURES = path.join(__dirname, 'fixtures');

/** Filter type bytes of a non-interlaced PNG's rows, to show that a test covers more than filter 0. */
function filterTypes(png: Uint8Array, rowBytes: number): Set<number> {
  const chunks: Buffer[] = [];
  for (let offset = 8; offset < png.length;) {
    const length = Buffer.from(png.buffer, png.byteOffset).readUInt32BE(offset);
    if (Buffer.from(png.subarray(offset + 4, offset + 8)).toString('latin1') === 'IDAT') chunks.push(Buffer.from(png.subarray(offset + 8, offset + 8 + length)));
    offset += 12 + length;
  }
  const raw = zlib.inflateSync(Buffer.concat(chunks));
  const types = new Set<number>();
  for (let i = 0; i < raw.length; i += rowBytes + 1) types.add(raw[i]);
  return types;
}

describe('png decoder', () => {
  const expected = require('./fixtures/label-fixtures.json') as Record<string, { width: number; height: number; values: number[] }>;

  for (const name of ['palette8.png', 'palette1.png', 'palette2.png', 'palette4.png', 'palette2-interlaced.png', 'grey8.png', 'grey16.png']) {
    it(`${name} gives the stored samples (Python fixture)`, async () => {
      const samples = decodePngSamples(await fs.readFile(path.join(FIXTURES, name)));
      assert.equal(samples.width, expected[name].width);
      assert.equal(samples.height, expected[name].height);
      assert.equal(samples.channels, 1);
      assert.deepEqual(Array.from(samples.data), expected[name].values);
    });
  }

  it('palette file gives indices, not colours', async () => {
    const samples = decodePngSamples(await fs.readFile(path.join(FIXTURES, 'palette8.png')));
    assert.equal(samples.colorType, 3);
    assert.ok(Math.max(...samples.data) > 200, 'fixture spans the index range');
  });

  it('RGB and grey-alpha keep every channel', async () => {
    const rgb = decodePngSamples(await fs.readFile(path.join(FIXTURES, 'rgb-grey.png')));
    assert.equal(rgb.channels, 3);
    assert.deepEqual(Array.from(rgb.data.filter((_, i) => i % 3 === 0)), expected['rgb-grey.png'].values);
    const la = decodePngSamples(await fs.readFile(path.join(FIXTURES, 'grey-alpha.png')));
    assert.equal(la.channels, 2);
    assert.deepEqual(Array.from(la.data.filter((_, i) => i % 2 === 0)), expected['grey-alpha.png'].values);
  });

  for (const progressive of [false, true]) {
    it(`libvips 8-bit grey with adaptive filters, ${progressive ? 'Adam7 interlaced' : 'not interlaced'}`, async () => {
      const width = 37;
      const height = 23;
      const values = Uint8Array.from({ length: width * height }, (_, i) => (i * 7 + (i % width) * 13 + ((i * i) % 17)) & 255);
      const png = await sharp(values, { raw: { width, height, channels: 1 } }).toColourspace('b-w')
        .png({ progressive, adaptiveFiltering: true, compressionLevel: 9 }).toBuffer();
      if (!progressive) assert.ok(filterTypes(png, width).size > 1, 'the encoder used more than one row filter');
      const samples = decodePngSamples(png);
      assert.equal(samples.bitDepth, 8);
      assert.deepEqual(Array.from(samples.data), Array.from(values));
    });
  }

  it('libvips 16-bit grey, interlaced', async () => {
    const width = 19;
    const height = 11;
    const values = Uint16Array.from({ length: width * height }, (_, i) => (i * 2713) & 0xffff);
    const png = await sharp(values, { raw: { width, height, channels: 1 } }).toColourspace('grey16').png({ progressive: true }).toBuffer();
    const samples = decodePngSamples(png);
    assert.equal(samples.bitDepth, 16);
    assert.deepEqual(Array.from(samples.data), Array.from(values));
  });

  it('truncated, bad CRC and non-PNG input are errors', async () => {
    const good = await fs.readFile(path.join(FIXTURES, 'grey8.png'));
    assert.throws(() => decodePngSamples(good.subarray(0, good.length - 20)), /truncated/);
    const flipped = Buffer.from(good);
    flipped[40] ^= 0xff;
    assert.throws(() => decodePngSamples(flipped), /bad CRC/);
    assert.throws(() => decodePngSamples(Buffer.from('GIF89a not a png')), /not a PNG/);
  });

  it('the asynchronous decoder gives the same samples and errors', async () => {
    for (const name of ['palette2-interlaced.png', 'grey8.png', 'grey16.png']) {
      const bytes = await fs.readFile(path.join(FIXTURES, name));
      const samples = await decodePngSamplesAsync(bytes);
      assert.deepEqual(Array.from(samples.data), expected[name].values, name);
      assert.equal(samples.bitDepth, decodePngSamples(bytes).bitDepth, name);
    }
    // A valid chunk layout whose IDAT is not a zlib stream: the CRC is recomputed so only the inflation fails.
    const good = await fs.readFile(path.join(FIXTURES, 'grey8.png'));
    let offset = 8;
    while (Buffer.from(good.subarray(offset + 4, offset + 8)).toString('latin1') !== 'IDAT') offset += 12 + good.readUInt32BE(offset);
    const broken = Buffer.from(good);
    const length = broken.readUInt32BE(offset);
    broken.fill(0x55, offset + 8, offset + 8 + length);
    broken.writeUInt32BE(zlib.crc32(broken.subarray(offset + 4, offset + 8 + length)) >>> 0, offset + 8 + length);
    assert.throws(() => decodePngSamples(broken), /cannot be inflated/);
    await assert.rejects(decodePngSamplesAsync(broken), /cannot be inflated/);
    await assert.rejects(decodePngSamplesAsync(good.subarray(0, good.length - 20)), /truncated/);
  });
});
