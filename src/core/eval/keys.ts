/**
 * Order-preserving integer keys for float32 scores, and a radix sort over them.
 *
 * A float32's bit pattern, read as an unsigned integer, sorts positive numbers correctly but negative
 * numbers backwards. Flipping every bit of a negative number and only the sign bit of a positive one gives
 * a uint32 key whose unsigned order is the numeric order of the floats: key(a) < key(b) ⇔ a < b.
 * -0 is mapped to the key of +0 so that the two compare equal, as they do numerically (and in scikit-learn).
 * NaN has no place in this order; callers count and exclude it before making keys.
 */

const SIGN = 0x80000000;
const SMALL_SORT = 256;

/** True for the bit pattern of a float32 NaN (all exponent bits set, mantissa non-zero). */
export function isNanBits(bits: number): boolean {
  return (bits & 0x7fffffff) > 0x7f800000;
}

/** Order-preserving key of float32 bits; -0 maps to the key of +0. */
export function bitsToKey(bits: number): number {
  if (bits === SIGN) return SIGN;
  return (bits & SIGN) !== 0 ? ~bits >>> 0 : (bits | SIGN) >>> 0;
}

const conversion = new DataView(new ArrayBuffer(4));

/** Key of a float (rounded to float32 first). */
export function floatToKey(value: number): number {
  conversion.setFloat32(0, value, true);
  return bitsToKey(conversion.getUint32(0, true));
}

/** The float32 value a key stands for. */
export function keyToFloat(key: number): number {
  const bits = (key & SIGN) !== 0 ? (key & 0x7fffffff) >>> 0 : ~key >>> 0;
  conversion.setUint32(0, bits, true);
  return conversion.getFloat32(0, true);
}

/**
 * Sorts `keys[0, n)` ascending with a least-significant-digit radix sort (digits of 11, 11 and 10 bits),
 * using `scratch` (length ≥ n) as the second buffer. Passes whose digit is the same for every key are
 * skipped. Returns whichever of the two buffers holds the sorted keys in its first n entries.
 * Linear time: about three reads and writes per key, several times faster than a comparison sort.
 */
export function radixSortKeys(keys: Uint32Array, n: number, scratch: Uint32Array): Uint32Array {
  if (n <= SMALL_SORT) {
    keys.subarray(0, n).sort();
    return keys;
  }
  const counts = new Float64Array(2048 * 3);
  for (let i = 0; i < n; i++) {
    const k = keys[i];
    counts[k & 0x7ff]++;
    counts[2048 + ((k >>> 11) & 0x7ff)]++;
    counts[4096 + (k >>> 22)]++;
  }

  let source = keys;
  let target = scratch;
  for (let pass = 0; pass < 3; pass++) {
    const base = pass * 2048;
    const shift = pass * 11;
    if (counts[base + ((source[0] >>> shift) & 0x7ff)] === n) continue;

    const offsets = new Uint32Array(2048);
    let sum = 0;
    for (let d = 0; d < 2048; d++) {
      offsets[d] = sum;
      sum += counts[base + d];
    }
    for (let i = 0; i < n; i++) {
      const k = source[i];
      target[offsets[(k >>> shift) & 0x7ff]++] = k;
    }
    const swap = source;
    source = target;
    target = swap;
  }
  return source;
}
