import { promisify } from 'node:util';
import * as zlib from 'node:zlib';

/**
 * Minimal PNG sample decoder for label images.
 *
 * Label PNGs hold class indices, not colours, and sharp cannot return them unchanged: it expands palette
 * images to RGB, converts greyscale to sRGB and rescales 16-bit samples to 0..255. This decoder returns the
 * stored samples unchanged. Colour type 3 gives palette indices, and types 0 and 4 give grey values (1, 2, 4,
 * 8 or 16 bit). RGB(A) gives every channel, so the caller can check that a colour label is really grey. Interlaced (Adam7) files are supported; ancillary chunks are skipped.
 */

export interface PngSamples {
  width: number;
  height: number;
  /** Bits per sample as stored: 1, 2, 4, 8 or 16. */
  bitDepth: number;
  /** PNG colour type: 0 grey, 2 RGB, 3 palette, 4 grey + alpha, 6 RGBA. */
  colorType: number;
  /** Samples per pixel in `data`: 1 for grey and palette, 2 grey + alpha, 3 RGB, 4 RGBA. */
  channels: number;
  /** Row-major, pixel-interleaved samples; width · height · channels values. */
  data: Uint8Array | Uint16Array;
}

export const PNG_SIGNATURE = Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10]);

const CHANNELS_BY_COLOR_TYPE: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const ALLOWED_DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };

/** Adam7 passes: start column, start row, column step, row step. */
const ADAM7 = [
  [0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2],
] as const;

export function isPng(bytes: Uint8Array): boolean {
  if (bytes.length < PNG_SIGNATURE.length) return false;
  return PNG_SIGNATURE.every((b, i) => bytes[i] === b);
}

/** Decodes a PNG file's samples. Throws a plain Error describing the defect on a malformed file. */
export function decodePngSamples(bytes: Uint8Array): PngSamples {
  const { header, compressed } = parsePng(bytes);
  let raw: Buffer;
  try {
    raw = zlib.inflateSync(compressed);
  } catch (error) {
    throw inflateError(error);
  }
  return unpackPng(header, raw);
}

const inflate = promisify(zlib.inflate);

/**
 * decodePngSamples with the inflation on libuv's worker threads, so that a label can be decompressed while the
 * main thread is busy (for example while onnxruntime runs the model on it).
 */
export async function decodePngSamplesAsync(bytes: Uint8Array): Promise<PngSamples> {
  const { header, compressed } = parsePng(bytes);
  let raw: Buffer;
  try {
    raw = await inflate(compressed);
  } catch (error) {
    throw inflateError(error);
  }
  return unpackPng(header, raw);
}

interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  interlace: number;
}

function inflateError(error: unknown): Error {
  return new Error(`image data cannot be inflated (${(error as Error).message})`);
}

/** Checks the signature, the chunk CRCs and the header, and joins the IDAT chunks. */
function parsePng(bytes: Uint8Array): { header: PngHeader; compressed: Buffer } {
  if (!isPng(bytes)) throw new Error('not a PNG file (signature missing)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  let header: PngHeader | undefined;
  const idat: Uint8Array[] = [];
  let offset = 8;
  let ended = false;
  while (offset + 12 <= bytes.length) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    const dataStart = offset + 8;
    const dataEnd = dataStart + length;
    if (dataEnd + 4 > bytes.length) throw new Error(`chunk ${type} is truncated`);
    const expectedCrc = view.getUint32(dataEnd);
    if (zlib.crc32(bytes.subarray(offset + 4, dataEnd)) >>> 0 !== expectedCrc) throw new Error(`chunk ${type} has a bad CRC`);

    const chunk = bytes.subarray(dataStart, dataEnd);
    if (type === 'IHDR') {
      const h = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      header = { width: h.getUint32(0), height: h.getUint32(4), bitDepth: chunk[8], colorType: chunk[9], interlace: chunk[12] };
    } else if (type === 'IDAT') {
      idat.push(chunk);
    } else if (type === 'IEND') {
      ended = true;
      break;
    }
    offset = dataEnd + 4;
  }
  if (!header) throw new Error('IHDR chunk missing');
  if (!ended) throw new Error('file is truncated (IEND chunk missing)');

  const { width, height, bitDepth, colorType } = header;
  const channels = CHANNELS_BY_COLOR_TYPE[colorType];
  if (channels === undefined || !ALLOWED_DEPTHS[colorType].includes(bitDepth)) {
    throw new Error(`unsupported colour type ${colorType} with bit depth ${bitDepth}`);
  }
  if (width === 0 || height === 0) throw new Error(`empty image ${width}x${height}`);
  return { header, compressed: Buffer.concat(idat) };
}

/** Unfilters the inflated stream `raw` into samples. */
function unpackPng(header: PngHeader, raw: Uint8Array): PngSamples {
  const { width, height, bitDepth, colorType, interlace } = header;
  const channels = CHANNELS_BY_COLOR_TYPE[colorType];
  const data = bitDepth === 16 ? new Uint16Array(width * height * channels) : new Uint8Array(width * height * channels);
  const format = { bitDepth, channels };
  if (interlace === 0) {
    const used = unpackPass(raw, 0, width, height, format, data, width, [0, 0, 1, 1]);
    if (used > raw.length) throw new Error('image data is truncated (shorter than the IHDR size)');
  } else {
    let position = 0;
    for (const pass of ADAM7) {
      const passWidth = Math.ceil((width - pass[0]) / pass[2]);
      const passHeight = Math.ceil((height - pass[1]) / pass[3]);
      if (passWidth <= 0 || passHeight <= 0) continue;
      position = unpackPass(raw, position, passWidth, passHeight, format, data, width, pass);
      if (position > raw.length) throw new Error('image data is truncated (shorter than the IHDR size)');
    }
  }
  return { width, height, bitDepth, colorType, channels, data };
}

/**
 * Unfilters one (sub-)image starting at `start` in the inflated stream and scatters its samples into
 * `out` at column `x0 + i·dx`, row `y0 + j·dy`. Returns the stream position after the pass.
 */
function unpackPass(
  raw: Uint8Array,
  start: number,
  width: number,
  height: number,
  format: { bitDepth: number; channels: number },
  out: Uint8Array | Uint16Array,
  fullWidth: number,
  [x0, y0, dx, dy]: readonly number[],
): number {
  const { bitDepth, channels } = format;
  const bitsPerPixel = bitDepth * channels;
  const rowBytes = Math.ceil((width * bitsPerPixel) / 8);
  // Filters look back one whole pixel, or one byte when pixels are smaller than a byte.
  const bpp = Math.max(1, bitsPerPixel >> 3);
  let previous = new Uint8Array(rowBytes);
  let current = new Uint8Array(rowBytes);
  let position = start;

  for (let y = 0; y < height; y++) {
    if (position + 1 + rowBytes > raw.length) return raw.length + 1;
    const filter = raw[position];
    const line = raw.subarray(position + 1, position + 1 + rowBytes);
    position += 1 + rowBytes;
    unfilterRow(filter, line, previous, current, bpp);

    const outRow = (y0 + y * dy) * fullWidth;
    if (bitDepth === 8 && dx === 1) {
      out.set(current.subarray(0, width * channels), outRow * channels);
    } else {
      for (let x = 0; x < width; x++) {
        const target = (outRow + x0 + x * dx) * channels;
        for (let c = 0; c < channels; c++) out[target + c] = readSample(current, x * channels + c, bitDepth);
      }
    }
    [previous, current] = [current, previous];
  }
  return position;
}

function unfilterRow(filter: number, line: Uint8Array, previous: Uint8Array, out: Uint8Array, bpp: number): void {
  const n = line.length;
  switch (filter) {
    case 0:
      out.set(line);
      return;
    case 1:
      for (let i = 0; i < n; i++) out[i] = (line[i] + (i >= bpp ? out[i - bpp] : 0)) & 0xff;
      return;
    case 2:
      for (let i = 0; i < n; i++) out[i] = (line[i] + previous[i]) & 0xff;
      return;
    case 3:
      for (let i = 0; i < n; i++) out[i] = (line[i] + (((i >= bpp ? out[i - bpp] : 0) + previous[i]) >> 1)) & 0xff;
      return;
    case 4:
      for (let i = 0; i < n; i++) {
        const left = i >= bpp ? out[i - bpp] : 0;
        const upLeft = i >= bpp ? previous[i - bpp] : 0;
        out[i] = (line[i] + paeth(left, previous[i], upLeft)) & 0xff;
      }
      return;
    default:
      throw new Error(`unknown row filter ${filter}`);
  }
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

/** Reads sample `index` of an unfiltered row; sub-byte samples are packed most significant bits first. */
function readSample(row: Uint8Array, index: number, bitDepth: number): number {
  switch (bitDepth) {
    case 8: return row[index];
    case 16: return (row[2 * index] << 8) | row[2 * index + 1];
    default: {
      const bit = index * bitDepth;
      const shift = 8 - bitDepth - (bit & 7);
      return (row[bit >> 3] >> shift) & ((1 << bitDepth) - 1);
    }
  }
}
