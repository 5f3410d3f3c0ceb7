// A reader for the safetensors header, written from the format's description (8-byte little-endian
// header length, a JSON header of {name: {dtype, shape, data_offsets}} plus __metadata__, then the data),
// so the statistics file is checked without the product's own loader.
import { readFileSync } from 'node:fs';

export interface TensorEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

export interface SafetensorsFile {
  tensors: Record<string, TensorEntry>;
  metadata: Record<string, string>;
  /** the data section, after the header */
  data: Buffer;
}

const BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

export function readSafetensors(file: string): SafetensorsFile {
  const bytes = readFileSync(file);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  if (headerLength <= 0 || 8 + headerLength > bytes.length) throw new Error(`${file}: header length ${headerLength} does not fit the file`);
  const header = JSON.parse(bytes.toString('utf8', 8, 8 + headerLength)) as Record<string, unknown>;
  const { __metadata__: metadata = {}, ...tensors } = header;
  const data = bytes.subarray(8 + headerLength);
  for (const [name, entry] of Object.entries(tensors as Record<string, TensorEntry>)) {
    const [start, end] = entry.data_offsets;
    const width = BYTES[entry.dtype];
    if (!width) throw new Error(`${file}: tensor ${name} has unknown dtype ${entry.dtype}`);
    const expected = entry.shape.reduce((a, b) => a * b, 1) * width;
    if (end - start !== expected || end > data.length) throw new Error(`${file}: tensor ${name} spans ${start}..${end}, expected ${expected} bytes within ${data.length}`);
  }
  return { tensors: tensors as Record<string, TensorEntry>, metadata: metadata as Record<string, string>, data };
}

/** A tensor's values as doubles (F32 and F64 only). */
export function tensorValues(file: SafetensorsFile, name: string): number[] {
  const entry = file.tensors[name];
  if (!entry) throw new Error(`no tensor ${name}; tensors: ${Object.keys(file.tensors).join(', ')}`);
  const [start, end] = entry.data_offsets;
  const slice = file.data.subarray(start, end);
  const copy = new Uint8Array(slice).buffer;
  if (entry.dtype === 'F64') return Array.from(new Float64Array(copy));
  if (entry.dtype === 'F32') return Array.from(new Float32Array(copy));
  if (entry.dtype === 'I64') return Array.from(new BigInt64Array(copy), Number);
  throw new Error(`tensor ${name} has dtype ${entry.dtype}; expected F32, F64 or I64`);
}
