import { strict as assert } from 'node:assert';
import { floatToKey, keyToFloat, radixSortKeys, radixSortRuns } from '../../src/core/eval/keys';

/** Reference: the built-in numeric sort of a copy. */
function referenceSort(keys: Uint32Array): Uint32Array {
  return keys.slice().sort();
}

function seededKeys(count: number, make: (random: number, i: number) => number): Uint32Array {
  let state = 99;
  return Uint32Array.from({ length: count }, (_, i) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return make(state, i) >>> 0;
  });
}

describe('eval/keys: order keys', () => {
  const ordered = [-Infinity, -3.4e38, -1, -1e-45, 0, 1e-45, 1e-30, 1, 2, 3.4e38, Infinity];

  it('keys increase with the float values, from -Infinity to Infinity', () => {
    const keys = ordered.map(floatToKey);
    for (let i = 1; i < keys.length; i++) assert.ok(keys[i] > keys[i - 1], `${ordered[i - 1]} < ${ordered[i]}`);
  });

  it('-0 and +0 get the same key', () => {
    assert.equal(floatToKey(-0), floatToKey(0));
  });

  it('keyToFloat inverts floatToKey for float32 values', () => {
    for (const value of ordered) assert.equal(keyToFloat(floatToKey(value)), Math.fround(value));
  });
});

describe('eval/keys: radix sort', () => {
  const cases: [string, Uint32Array][] = [
    ['random keys', seededKeys(5000, (r) => r)],
    ['constant low digit', seededKeys(5000, (r) => r & 0xffff0000)],
    ['constant high digit', seededKeys(5000, (r) => 0xabcd0000 | (r & 0xffff))],
    ['all keys equal', seededKeys(5000, () => 0x12345678)],
    ['few keys (plain sort)', seededKeys(100, (r) => r)],
  ];

  for (const [name, keys] of cases) {
    it(`radixSortKeys: ${name} match the built-in sort`, () => {
      const input = keys.slice();
      const sorted = radixSortKeys(input, input.length, new Uint32Array(input.length));
      assert.deepEqual(sorted.subarray(0, keys.length), referenceSort(keys));
    });
  }

  it('radixSortKeys sorts only the first n entries', () => {
    const keys = seededKeys(3000, (r) => r);
    const sorted = radixSortKeys(keys.slice(), 2000, new Uint32Array(3000));
    assert.deepEqual(sorted.subarray(0, 2000), referenceSort(keys.subarray(0, 2000)));
  });

  it('radixSortRuns: three partly filled runs sort as one', () => {
    const runs = [seededKeys(1000, (r) => r), seededKeys(700, (r) => r ^ 0x5555), seededKeys(300, (r) => r & 0xff00ff00)];
    const counts = [1000, 400, 300];
    const all = Uint32Array.from(runs.flatMap((keys, i) => Array.from(keys.subarray(0, counts[i]))));
    const sorted = radixSortRuns(runs.map((keys, i) => ({ keys, count: counts[i] })), all.length, new Uint32Array(all.length), new Uint32Array(all.length));
    assert.deepEqual(sorted, referenceSort(all));
  });
});
