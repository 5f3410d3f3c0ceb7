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

/** Converts a key back to its float32 value. */
export function keyToFloat(key: number): number {
  const bits = (key & SIGN) !== 0 ? (key & 0x7fffffff) >>> 0 : ~key >>> 0;
  conversion.setUint32(0, bits, true);
  return conversion.getFloat32(0, true);
}

/** A run of keys: the first `count` entries of `keys`. */
export interface KeyRun {
  keys: Uint32Array;
  count: number;
}

/**
 * Sorts `keys[0, n)` ascending with a least-significant-digit radix sort (two digits of 16 bits), using
 * `scratch` (length ≥ n) as the second buffer. Returns whichever of the two buffers contains the sorted keys
 * in its first n entries. Linear time: one counting pass and at most two scatter passes, several times
 * faster than a comparison sort.
 */
export function radixSortKeys(keys: Uint32Array, n: number, scratch: Uint32Array): Uint32Array {
  if (n <= SMALL_SORT) {
    keys.subarray(0, n).sort();
    return keys;
  }
  return radixSortRuns([{ keys, count: n }], n, scratch, keys);
}

/**
 * Sorts the keys of several runs, together `total` long, into one ascending array. The first scatter pass
 * reads the runs and writes `first`. The second reads `first` and writes `second`, which may be the input of
 * a single run. A digit that is the same for every key is skipped. Returns the buffer with the result.
 */
export function radixSortRuns(runs: KeyRun[], total: number, first: Uint32Array, second: Uint32Array): Uint32Array {
  const low = new Uint32Array(65536);
  const high = new Uint32Array(65536);
  for (const { keys, count } of runs) {
    for (let i = 0; i < count; i++) {
      const k = keys[i];
      low[k & 0xffff]++;
      high[k >>> 16]++;
    }
  }
  if (total === 0) return first;
  const sample = runs.find((run) => run.count > 0)!.keys[0];
  const sortLow = low[sample & 0xffff] !== total;
  const sortHigh = high[sample >>> 16] !== total;
  toOffsets(low);
  toOffsets(high);

  if (sortLow) {
    for (const { keys, count } of runs) {
      for (let i = 0; i < count; i++) {
        const k = keys[i];
        first[low[k & 0xffff]++] = k;
      }
    }
    if (!sortHigh) return first;
    for (let i = 0; i < total; i++) {
      const k = first[i];
      second[high[k >>> 16]++] = k;
    }
    return second;
  }
  // The low digit is constant: one pass on the high digit, or a plain copy when all keys are equal.
  let next = 0;
  for (const { keys, count } of runs) {
    for (let i = 0; i < count; i++) {
      const k = keys[i];
      first[sortHigh ? high[k >>> 16]++ : next++] = k;
    }
  }
  return first;
}

/** counts → exclusive prefix sums, in place. */
function toOffsets(counts: Uint32Array): void {
  let sum = 0;
  for (let d = 0; d < counts.length; d++) {
    const c = counts[d];
    counts[d] = sum;
    sum += c;
  }
}
