/**
 * Packing of per-pixel arrays for `webview.postMessage`. A typed array posted as-is can arrive as a plain
 * object with numeric keys (case 10), so every array travels as an exact-size ArrayBuffer plus its element
 * type, and the webview rebuilds the typed array. Shared by the extension host and the webviews.
 */

export type ElementType = 'float32' | 'int32' | 'uint8';

/** A typed array as it crosses into a webview. */
export interface PackedArray {
  type: ElementType;
  /** Exactly the array's bytes: never a larger pooled buffer. */
  buffer: ArrayBuffer;
  length: number;
}

export type UnpackedArray = Float32Array | Int32Array | Uint8Array;

function elementType(array: UnpackedArray): ElementType {
  if (array instanceof Float32Array) return 'float32';
  if (array instanceof Int32Array) return 'int32';
  if (array instanceof Uint8Array) return 'uint8';
  throw new TypeError('Only Float32Array, Int32Array and Uint8Array can be packed for a webview.');
}

/** Copies the array's bytes into their own ArrayBuffer unless the array already spans its whole buffer. */
export function packArray(array: UnpackedArray): PackedArray {
  const type = elementType(array);
  const whole = array.byteOffset === 0 && array.byteLength === array.buffer.byteLength && array.buffer instanceof ArrayBuffer;
  const buffer = whole ? (array.buffer as ArrayBuffer) : (array.buffer.slice(array.byteOffset, array.byteOffset + array.byteLength) as ArrayBuffer);
  return { type, buffer, length: array.length };
}

/** Rebuilds the typed array; throws when the buffer does not hold `length` elements of `type`. */
export function unpackArray(packed: PackedArray): UnpackedArray {
  const buffer = packed?.buffer;
  if (!(buffer instanceof ArrayBuffer)) {
    throw new TypeError(`Expected an ArrayBuffer, got ${Object.prototype.toString.call(buffer)}; post maps with packArray.`);
  }
  const make = { float32: Float32Array, int32: Int32Array, uint8: Uint8Array }[packed.type];
  if (!make) throw new TypeError(`Unknown element type ${String(packed.type)}.`);
  if (buffer.byteLength !== packed.length * make.BYTES_PER_ELEMENT) {
    throw new RangeError(`Buffer of ${buffer.byteLength} bytes does not hold ${packed.length} ${packed.type} elements.`);
  }
  return new make(buffer);
}

/** Typed unpack for callers that know the element type. */
export function unpackFloat32(packed: PackedArray): Float32Array {
  const array = unpackArray(packed);
  if (!(array instanceof Float32Array)) throw new TypeError(`Expected float32, got ${packed.type}.`);
  return array;
}

/** Collects the distinct buffers of packed arrays, for a transfer list. */
export function buffersOf(packed: Iterable<PackedArray | undefined>): ArrayBuffer[] {
  const list: ArrayBuffer[] = [];
  for (const p of packed) if (p && !list.includes(p.buffer)) list.push(p.buffer);
  return list;
}
