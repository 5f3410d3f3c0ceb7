import { strict as assert } from 'node:assert';
import { emptyTally, MIXED, reduceLabels, toClassCells } from '../../src/core/stats/purity';
import { random } from './reference';

/** The 8×8 label of case 7: a 2×2 anomaly block (13) in the top-left corner, everything else class 0. */
function case7Label(): Uint8Array {
  const label = new Uint8Array(64);
  for (const [y, x] of [[0, 0], [0, 1], [1, 0], [1, 1]]) label[y * 8 + x] = 13;
  return label;
}

/** Reference: each cell's covered pixels listed by ⌊y·h/H⌋, ⌊x·w/W⌋, value kept when its share ≥ purity. */
function referenceReduce(label: ArrayLike<number>, H: number, W: number, h: number, w: number, purity: number): number[] {
  const cells: number[][] = Array.from({ length: h * w }, () => []);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) cells[Math.floor((y * h) / H) * w + Math.floor((x * w) / W)].push(label[y * W + x]);
  return cells.map((values) => {
    for (const v of [...new Set(values)].filter((v) => v >= 0).sort((a, b) => a - b)) {
      const share = values.filter((u) => u === v).length / values.length;
      if (share >= purity && share > 0.5) return v;
    }
    return MIXED;
  });
}

describe('stats label reduction', () => {
  it('case 7: 8×8 to 4×4, cell (0,0) is anomaly and left out, all others class 0', () => {
    const reduced = reduceLabels(case7Label(), 8, 8, 4, 4, 1.0);
    assert.equal(reduced[0], 13);
    assert.deepEqual([...reduced.slice(1)], new Array(15).fill(0));
    const tally = emptyTally();
    const classes = toClassCells(reduced, 19, [255], [13], tally);
    assert.equal(classes[0], -1);
    assert.deepEqual([...classes.slice(1)], new Array(15).fill(0));
    assert.deepEqual([tally.used, tally.anomaly, tally.mixed], [15, 1, 0]);
  });

  it('case 7: 8×8 to 2×2, cell (0,0) is mixed and left out, the other three class 0', () => {
    const reduced = reduceLabels(case7Label(), 8, 8, 2, 2, 1.0);
    assert.deepEqual([...reduced], [MIXED, 0, 0, 0]);
    const tally = emptyTally();
    assert.deepEqual([...toClassCells(reduced, 19, [255], [13], tally)], [-1, 0, 0, 0]);
    assert.deepEqual([tally.used, tally.mixed], [3, 1]);
  });

  it('purity 0.75 admits the 2×2 corner cell with 12 of 16 pixels of class 0', () => {
    assert.deepEqual([...reduceLabels(case7Label(), 8, 8, 2, 2, 0.75)], [0, 0, 0, 0]);
    assert.deepEqual([...reduceLabels(case7Label(), 8, 8, 2, 2, 0.8)], [MIXED, 0, 0, 0]);
  });

  it('non-integer ratios follow floor(y·h/H) and match the reference', () => {
    const H = 11;
    const W = 7;
    const label = Int32Array.from({ length: H * W }, (_, i) => (Math.floor(i / W) < 6 ? 1 : 2) + (i % W > 4 ? 2 : 0));
    for (const [h, w, purity] of [[3, 2, 1], [4, 3, 0.6], [5, 5, 1], [2, 2, 0.51]] as const) {
      assert.deepEqual([...reduceLabels(label, H, W, h, w, purity)], referenceReduce(label, H, W, h, w, purity), `${h}×${w} purity ${purity}`);
    }
  });

  it('8-bit labels take the byte path and agree with the general path', () => {
    const rand = random(3);
    const H = 37;
    const W = 29;
    const bytes = Uint8Array.from({ length: H * W }, (_, i) => (rand() < 0.8 ? Math.floor(i / W / 9) * 3 + Math.floor((i % W) / 7) : Math.floor(rand() * 256)));
    for (const [h, w, purity] of [[5, 4, 1], [4, 4, 0.6], [9, 7, 0.3], [37, 29, 1]] as const) {
      assert.deepEqual([...reduceLabels(bytes, H, W, h, w, purity)], [...reduceLabels(Int32Array.from(bytes), H, W, h, w, purity)], `${h}×${w} purity ${purity}`);
      if (purity > 0.5) assert.deepEqual([...reduceLabels(bytes, H, W, h, w, purity)], referenceReduce(bytes, H, W, h, w, purity));
    }
  });

  it('negative values (low-confidence pseudo-labels) count as other pixels', () => {
    const label = Int32Array.from([1, 1, 1, -2]);
    assert.deepEqual([...reduceLabels(label, 2, 2, 1, 1, 1)], [MIXED]);
    assert.deepEqual([...reduceLabels(label, 2, 2, 1, 1, 0.75)], [1]);
  });

  it('ignore, anomaly and values beyond C never become classes, and are tallied', () => {
    const tally = emptyTally();
    const classes = toClassCells(Int32Array.from([0, 255, 13, 40, 2, MIXED]), 19, [255], [13], tally);
    assert.deepEqual([...classes], [0, -1, -1, -1, 2, -1]);
    assert.deepEqual([tally.used, tally.ignore, tally.anomaly, tally.unknown, tally.mixed], [2, 1, 1, 1, 1]);
    assert.deepEqual([...tally.unknownValues], [40]);
  });

  it('an anomaly id below C is still left out (13 is a known id for 19 classes)', () => {
    assert.deepEqual([...toClassCells(Int32Array.from([13, 12]), 19, [], [13])], [-1, 12]);
  });

  it('a grid finer than the label leaves cells without pixels out', () => {
    assert.deepEqual([...reduceLabels(Int32Array.from([4, 5]), 1, 2, 1, 4, 1)], [4, MIXED, 5, MIXED]);
  });

  it('rejects a label buffer of the wrong size', () => {
    assert.throws(() => reduceLabels(new Int32Array(5), 2, 2, 1, 1, 1), /5 values for 2×2/);
  });
});
