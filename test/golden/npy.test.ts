import * as assert from 'assert';
import * as path from 'node:path';
import { golden, GOLDEN_DIR } from './golden';
import { parseNpy, readNpy } from './npy';

/** A version 1.0 .npy file built by hand: the header padded with spaces to a multiple of 64 bytes. */
function npyBytes(descr: string, shape: number[], data: Uint8Array, fortran = false, major = 1): Uint8Array {
  const dict = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const prefix = major === 1 ? 10 : 12;
  const padded = dict.padEnd(Math.ceil((prefix + dict.length + 1) / 64) * 64 - prefix - 1, ' ') + '\n';
  const out = new Uint8Array(prefix + padded.length + data.length);
  out.set([0x93, ...Buffer.from('NUMPY'), major, 0]);
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, padded.length, true);
  else view.setUint32(8, padded.length, true);
  out.set(Buffer.from(padded, 'latin1'), prefix);
  out.set(data, prefix + padded.length);
  return out;
}

describe('golden: npy reader', () => {
  it('reads float32 values and shape', () => {
    const values = Float32Array.from([1.5, -2, 3.25, 0, 1e-30, -7]);
    const array = parseNpy(npyBytes('<f4', [2, 3], new Uint8Array(values.buffer)), 'a.npy');
    assert.deepStrictEqual(array.shape, [2, 3]);
    assert.deepStrictEqual(Array.from(array.data as Float32Array), Array.from(values));
  });

  it('reads float64, int64 and uint8 in version 2', () => {
    const f64 = Float64Array.from([Math.PI, -1e300]);
    assert.deepStrictEqual(Array.from(parseNpy(npyBytes('<f8', [2], new Uint8Array(f64.buffer), false, 2), 'b.npy').data as Float64Array), Array.from(f64));
    const i64 = BigInt64Array.from([5n, -3n]);
    assert.deepStrictEqual(Array.from(parseNpy(npyBytes('<i8', [2], new Uint8Array(i64.buffer)), 'c.npy').data as BigInt64Array), [5n, -3n]);
    const u8 = parseNpy(npyBytes('|u1', [], Uint8Array.from([13])), 'd.npy');
    assert.deepStrictEqual(u8.shape, []);
    assert.deepStrictEqual(Array.from(u8.data as Uint8Array), [13]);
  });

  it('reads every golden fixture with its manifest shape', () => {
    for (const [name, entry] of Object.entries(golden().arrays)) {
      const array = readNpy(path.join(GOLDEN_DIR, entry.file));
      assert.deepStrictEqual(array.shape, entry.shape, name);
    }
    const counts = readNpy(path.join(GOLDEN_DIR, 'stats_counts.npy'));
    assert.deepStrictEqual(Array.from(counts.data as BigInt64Array, Number), golden().statistics.counts);
  });

  it('rejects a file without the magic', () => {
    assert.throws(() => parseNpy(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), 'x.npy'), /x\.npy is not a \.npy file/);
  });

  it('rejects Fortran order', () => {
    assert.throws(() => parseNpy(npyBytes('<f4', [1], new Uint8Array(4), true), 'f.npy'), /Fortran-order/);
  });

  it('rejects an unsupported dtype', () => {
    assert.throws(() => parseNpy(npyBytes('>f4', [1], new Uint8Array(4)), 'g.npy'), /unsupported dtype >f4/);
  });

  it('rejects truncated data', () => {
    assert.throws(() => parseNpy(npyBytes('<f8', [3], new Uint8Array(16)), 'h.npy'), /expected 24 data bytes/);
  });
});
