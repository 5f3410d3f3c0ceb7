import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { deflateSync } from 'node:zlib';
import * as path from 'node:path';
import sharp from 'sharp';
import { HeatError } from '../../src/core/errors';
import { memoryLogger } from '../../src/core/log';
import { decodeImage } from '../../src/core/model';

/** 4×2 RGB test pattern: distinct values per pixel and channel. */
const W = 4;
const H = 2;
const RGB = Uint8Array.from({ length: W * H * 3 }, (_, i) => (i * 29 + 7) % 256);

/** CRC-32 as PNG chunks use it (polynomial 0xEDB88320). */
function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** Encodes a 16-bit RGB PNG holding 8-bit values v as v·257 (big-endian), each row with filter type 0. */
function png16(rgb: Uint8Array, width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([16, 2, 0, 0, 0], 8);
  const rows = Buffer.alloc(height * (1 + width * 6));
  for (let y = 0; y < height; y++) {
    for (let i = 0; i < width * 3; i++) rows.writeUInt16BE(rgb[y * width * 3 + i] * 257, y * (1 + width * 6) + 1 + i * 2);
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

describe('model/decodeImage', () => {
  let dir: string;
  before(() => { dir = mkdtempSync(path.join(tmpdir(), 'heat-image-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const raw = (data: Uint8Array, channels: 1 | 2 | 3 | 4) => sharp(Buffer.from(data), { raw: { width: W, height: H, channels } });

  it('8-bit RGB PNG decodes exactly', async () => {
    const file = path.join(dir, 'rgb.png');
    await raw(RGB, 3).png().toFile(file);
    const log = memoryLogger();
    const image = await decodeImage(file, log);
    assert.deepEqual([image.width, image.height], [W, H]);
    assert.deepEqual([...image.data], [...RGB]);
    assert.deepEqual(log.lines, []);
  });

  it('16-bit PNG is reduced to 8 bits with a note', async () => {
    // Written by hand (sharp 0.35 does not round-trip raw 16-bit input): each value v stored as v·257 maps back to v.
    const file = path.join(dir, 'deep.png');
    writeFileSync(file, png16(RGB, W, H));
    assert.equal((await sharp(file).metadata()).depth, 'ushort', 'fixture is a 16-bit PNG');
    const log = memoryLogger();
    const image = await decodeImage(file, log);
    assert.deepEqual([...image.data], [...RGB]);
    assert.ok(log.lines.some((l) => /16-bit samples reduced to 8 bits/.test(l)), log.lines.join('\n'));
  });

  it('palette PNG expands to its RGB colours', async () => {
    const file = path.join(dir, 'palette.png');
    const two = Uint8Array.from({ length: W * H * 3 }, (_, i) => (Math.floor(i / 3) % 2 === 0 ? [200, 10, 50] : [0, 120, 255])[i % 3]);
    await raw(two, 3).png({ palette: true, colours: 2, dither: 0 }).toFile(file);
    assert.equal((await sharp(file).metadata()).isPalette, true, 'fixture is a palette PNG');
    const log = memoryLogger();
    const image = await decodeImage(file, log);
    assert.deepEqual([...image.data], [...two]);
    assert.ok(log.lines.some((l) => /palette colours expanded/.test(l)));
  });

  it('grayscale PNG is replicated to three equal channels with a note', async () => {
    const file = path.join(dir, 'gray.png');
    const gray = Uint8Array.from({ length: W * H }, (_, i) => i * 30);
    await raw(gray, 1).toColourspace('b-w').png().toFile(file);
    assert.equal((await sharp(file).metadata()).channels, 1, 'fixture is a one-channel PNG');
    const log = memoryLogger();
    const image = await decodeImage(file, log);
    assert.deepEqual([...image.data], [...gray].flatMap((v) => [v, v, v]));
    assert.ok(log.lines.some((l) => /grayscale replicated to RGB/.test(l)));
  });

  it('RGBA PNG drops alpha and keeps the colour with a note', async () => {
    const file = path.join(dir, 'rgba.png');
    const rgba = new Uint8Array(W * H * 4);
    for (let i = 0; i < W * H; i++) { rgba.set(RGB.subarray(i * 3, i * 3 + 3), i * 4); rgba[i * 4 + 3] = 255; }
    await raw(rgba, 4).png().toFile(file);
    const log = memoryLogger();
    const image = await decodeImage(file, log);
    assert.deepEqual([...image.data], [...RGB]);
    assert.ok(log.lines.some((l) => /alpha channel dropped/.test(l)));
  });

  it('EXIF orientation is noted, not applied', async () => {
    const file = path.join(dir, 'rotated.jpg');
    await raw(RGB, 3).jpeg().withMetadata({ orientation: 6 }).toFile(file);
    const log = memoryLogger();
    const image = await decodeImage(file, log);
    assert.deepEqual([image.width, image.height], [W, H], 'stored size, not the rotated one');
    assert.ok(log.lines.some((l) => /EXIF orientation 6 not applied/.test(l)), log.lines.join('\n'));
  });

  it('JPEG and lossless WebP decode to RGB of the right size', async () => {
    const flat = new Uint8Array(W * H * 3).fill(0).map((_, i) => [90, 160, 30][i % 3]);
    const jpeg = path.join(dir, 'image.jpg');
    await raw(flat, 3).jpeg({ quality: 100 }).toFile(jpeg);
    const fromJpeg = await decodeImage(jpeg, memoryLogger());
    assert.deepEqual([fromJpeg.width, fromJpeg.height, fromJpeg.data.length], [W, H, W * H * 3]);
    // A flat colour survives JPEG within a few levels.
    fromJpeg.data.forEach((v, i) => assert.ok(Math.abs(v - flat[i]) <= 3, `jpeg[${i}] = ${v}`));

    const webp = path.join(dir, 'image.webp');
    await raw(RGB, 3).webp({ lossless: true }).toFile(webp);
    assert.deepEqual([...(await decodeImage(webp, memoryLogger())).data], [...RGB]);
  });

  it('corrupt image is a HeatError naming the file', async () => {
    const file = path.join(dir, 'broken.png');
    writeFileSync(file, Buffer.from('\x89PNG\r\n\x1a\nnot really a png'));
    await assert.rejects(decodeImage(file, memoryLogger()), (error: unknown) =>
      error instanceof HeatError && error.message.includes(`Cannot decode image ${file}`) && /PNG, JPEG, WebP or TIFF/.test(error.message));
  });

  it('missing image is a HeatError naming the file', async () => {
    const file = path.join(dir, 'absent.jpg');
    await assert.rejects(decodeImage(file, memoryLogger()), (error: unknown) => error instanceof HeatError && error.message.includes(`Image file not found: ${file}`));
  });
});
