/**
 * Reader and writer of the safetensors format (https://github.com/huggingface/safetensors), so that
 * statistics files open in Python with `safetensors.numpy.load_file` or `safetensors.torch.load_file`.
 *
 * Layout: 8 bytes little-endian unsigned header length N; N bytes of UTF-8 JSON mapping each tensor name to
 * {dtype, shape, data_offsets: [begin, end]} (offsets relative to the byte after the header) plus an optional
 * "__metadata__" object of string → string; then the tensor bytes, little-endian, row-major. As the Python
 * library does, the header is padded with spaces to a multiple of 8 bytes and tensors are laid out
 * contiguously, sorted by decreasing alignment and then by name.
 */
import { endianness } from 'node:os';
import { HeatError } from '../errors';

export type SafetensorsDtype = 'F64' | 'F32' | 'I64' | 'I32';

export interface NamedTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: Float64Array | Float32Array | BigInt64Array | Int32Array;
}

export interface SafetensorsContent {
  tensors: Record<string, NamedTensor>;
  metadata: Record<string, string>;
}

const BYTES: Record<SafetensorsDtype, number> = { F64: 8, F32: 4, I64: 8, I32: 4 };
/** Larger than any header this product writes; guards against reading a wrong file as a giant header. */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

function checkHost(): void {
  if (endianness() !== 'LE') throw new Error('safetensors files are little-endian; this host is big-endian.');
}

function arrayTypeMatches(tensor: NamedTensor): boolean {
  switch (tensor.dtype) {
    case 'F64': return tensor.data instanceof Float64Array;
    case 'F32': return tensor.data instanceof Float32Array;
    case 'I64': return tensor.data instanceof BigInt64Array;
    case 'I32': return tensor.data instanceof Int32Array;
  }
}

export function encodeSafetensors(content: SafetensorsContent): Uint8Array {
  checkHost();
  const names = Object.keys(content.tensors).sort((a, b) => {
    const byAlignment = BYTES[content.tensors[b].dtype] - BYTES[content.tensors[a].dtype];
    if (byAlignment !== 0) return byAlignment;
    if (a === b) return 0;
    return a < b ? -1 : 1;
  });

  const header: Record<string, unknown> = {};
  if (Object.keys(content.metadata).length > 0) header.__metadata__ = content.metadata;
  let offset = 0;
  for (const name of names) {
    const tensor = content.tensors[name];
    const elements = tensor.shape.reduce((a, b) => a * b, 1);
    if (!arrayTypeMatches(tensor) || tensor.data.length !== elements) {
      throw new Error(`Tensor ${name}: ${tensor.data.constructor.name} of ${tensor.data.length} elements does not match ${tensor.dtype} ${JSON.stringify(tensor.shape)}.`);
    }
    const bytes = elements * BYTES[tensor.dtype];
    header[name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }

  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) json = Buffer.concat([json, Buffer.alloc(padded - json.length, 0x20)]);

  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let position = 8 + json.length;
  for (const name of names) {
    const data = content.tensors[name].data;
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), position);
    position += data.byteLength;
  }
  return out;
}

/** Parses and validates a safetensors buffer. `source` names the file in error messages. */
export function decodeSafetensors(bytes: Uint8Array, source: string): SafetensorsContent {
  checkHost();
  const invalid = (what: string) => new HeatError(`${source} is not a valid safetensors file: ${what}.`, 'Recompute it with "heat-lens stats".', source);
  if (bytes.length < 8) throw invalid(`it has ${bytes.length} bytes, fewer than the 8-byte header length`);
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (headerLength > BigInt(Math.min(MAX_HEADER_BYTES, bytes.length - 8))) {
    throw invalid(`the header length ${headerLength} exceeds the file size ${bytes.length}`);
  }
  const dataStart = 8 + Number(headerLength);

  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, Number(headerLength)).toString('utf8'));
  } catch (error) {
    throw invalid(`the header is not JSON (${(error as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw invalid('the header is not a JSON object');

  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: SafetensorsDtype; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('__metadata__ is not an object');
      for (const [key, item] of Object.entries(value)) {
        if (typeof item !== 'string') throw invalid(`__metadata__.${key} is not a string`);
        metadata[key] = item;
      }
      continue;
    }
    const info = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof info.dtype !== 'string' || !(info.dtype in BYTES)) throw invalid(`tensor ${name} has unsupported dtype ${JSON.stringify(info.dtype)}`);
    if (!Array.isArray(info.shape) || !info.shape.every((s) => Number.isInteger(s) && s >= 0)) throw invalid(`tensor ${name} has an invalid shape`);
    const offsets = info.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0)) throw invalid(`tensor ${name} has invalid data_offsets`);
    const dtype = info.dtype as SafetensorsDtype;
    const shape = info.shape as number[];
    const [begin, end] = offsets as number[];
    const expected = shape.reduce((a, b) => a * b, 1) * BYTES[dtype];
    if (end - begin !== expected) throw invalid(`tensor ${name} spans ${end - begin} bytes but ${dtype} ${JSON.stringify(shape)} needs ${expected}`);
    entries.push({ name, dtype, shape, begin, end });
  }

  // The format requires the tensors to cover the data section exactly, without holes or overlaps.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const entry of entries) {
    if (entry.begin !== cursor) throw invalid(`tensor ${entry.name} starts at byte ${entry.begin}, expected ${cursor} (holes or overlaps)`);
    cursor = entry.end;
  }
  if (dataStart + cursor !== bytes.length) throw invalid(`the tensors end at byte ${dataStart + cursor} but the file has ${bytes.length}`);

  const tensors: Record<string, NamedTensor> = {};
  for (const entry of entries) {
    // Copy into a fresh, aligned buffer: a Node Buffer's subarray shares (and may misalign) the file's memory.
    const buffer = new Uint8Array(bytes.subarray(dataStart + entry.begin, dataStart + entry.end)).buffer;
    const data = entry.dtype === 'F64' ? new Float64Array(buffer)
      : entry.dtype === 'F32' ? new Float32Array(buffer)
        : entry.dtype === 'I64' ? new BigInt64Array(buffer)
          : new Int32Array(buffer);
    tensors[entry.name] = { dtype: entry.dtype, shape: entry.shape, data };
  }
  return { tensors, metadata };
}
