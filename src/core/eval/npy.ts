/**
 * NumPy `.npy` files (format version 1.0) for `--save-scores`: per-image score maps (float32) and label
 * masks (uint8), readable with `numpy.load`. Layout: the magic "\x93NUMPY", version 1.0 and a little-endian
 * uint16 header length. Then a Python dict literal, padded with spaces and ending in "\n" so the data starts
 * on a 64-byte boundary as numpy writes it. Then the array in C order, little-endian.
 */
import { HeatError } from '../errors';
import { writeFileAtomic } from '../fsutil';

export type NpyArray = Float32Array | Uint8Array;

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

function descriptor(array: NpyArray): string {
  if (array instanceof Float32Array) return '<f4';
  if (array instanceof Uint8Array) return '|u1';
  throw new HeatError('Only float32 and uint8 arrays can be written as .npy.', 'Convert the array to a Float32Array or Uint8Array first.');
}

/** Encodes `array` with `shape` (row-major) as the bytes of a .npy file. */
export function encodeNpy(array: NpyArray, shape: readonly number[]): Uint8Array {
  const elements = shape.reduce((a, b) => a * b, 1);
  if (!shape.every((d) => Number.isInteger(d) && d >= 0) || elements !== array.length) {
    throw new HeatError(`A .npy shape of [${shape.join(', ')}] does not fit an array of ${array.length} values.`, 'Pass the map\'s [height, width].');
  }
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descriptor(array)}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const unpadded = MAGIC.length + 2 + 2 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';

  const data = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  const out = new Uint8Array(MAGIC.length + 4 + header.length + data.length);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  // Typed arrays hold the machine's byte order; every platform Node supports here is little-endian.
  out.set(data, 10 + header.length);
  return out;
}

/** Writes `array` with `shape` to `file` as a .npy file, atomically. */
export async function writeNpy(file: string, array: NpyArray, shape: readonly number[]): Promise<void> {
  await writeFileAtomic(file, encodeNpy(array, shape));
}
