/**
 * Minimal reader for the NumPy `.npy` files under test/fixtures/golden (format versions 1.0 to 3.0,
 * C order, little-endian float32, float64, int64, int32 and uint8).
 */
import { readFileSync } from 'node:fs';

export type NpyData = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;

export interface NpyArray {
  data: NpyData;
  shape: number[];
  dtype: string;
}

const MAGIC = '\x93NUMPY';

const DTYPES: Record<string, { bytes: number; make: (buffer: ArrayBuffer, offset: number, length: number) => NpyData }> = {
  '<f4': { bytes: 4, make: (b, o, n) => new Float32Array(b, o, n) },
  '<f8': { bytes: 8, make: (b, o, n) => new Float64Array(b, o, n) },
  '<i8': { bytes: 8, make: (b, o, n) => new BigInt64Array(b, o, n) },
  '<i4': { bytes: 4, make: (b, o, n) => new Int32Array(b, o, n) },
  '|u1': { bytes: 1, make: (b, o, n) => new Uint8Array(b, o, n) },
};

/** Parses `.npy` bytes; `source` names the file in errors. */
export function parseNpy(bytes: Uint8Array, source: string): NpyArray {
  const magic = String.fromCharCode(...bytes.subarray(0, 6));
  if (magic !== MAGIC) throw new Error(`${source} is not a .npy file (magic ${JSON.stringify(magic)}).`);

  const major = bytes[6];
  if (major < 1 || major > 3) throw new Error(`${source}: unsupported .npy format version ${major}.${bytes[7]}.`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const header = Buffer.from(bytes.subarray(headerStart, headerStart + headerLength)).toString(major === 3 ? 'utf8' : 'latin1');

  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw new Error(`${source}: invalid .npy header ${header.trim()}.`);
  if (fortran === 'True') throw new Error(`${source}: Fortran-order arrays are not supported; save with np.ascontiguousarray.`);
  const dtype = DTYPES[descr];
  if (!dtype) throw new Error(`${source}: unsupported dtype ${descr} (supported: ${Object.keys(DTYPES).join(', ')}).`);

  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const dataStart = headerStart + headerLength;
  if (bytes.byteLength - dataStart !== count * dtype.bytes) {
    throw new Error(`${source}: expected ${count * dtype.bytes} data bytes for shape [${shape.join(', ')}] ${descr}, found ${bytes.byteLength - dataStart}.`);
  }
  // Copy into a fresh buffer, so the typed array is aligned whatever the header length.
  const copy = bytes.slice(dataStart).buffer;
  return { data: dtype.make(copy, 0, count), shape, dtype: descr };
}

/** Reads a `.npy` file. */
export function readNpy(file: string): NpyArray {
  return parseNpy(new Uint8Array(readFileSync(file)), file);
}
