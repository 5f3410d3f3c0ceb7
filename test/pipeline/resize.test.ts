import { strict as assert } from 'node:assert';
import { resizeBilinear, resizeNearest } from '../../src/core/pipeline/resize';
import { assertMap, goldenFloat32, imageSlice } from '../golden/golden';

describe('resizeBilinear', () => {
  it('matches torch bilinear upsampling of Mahalanobis', () => {
    // The golden maps were upsampled by torch F.interpolate(bilinear, align_corners=False) from 6×12 to 48×96.
    const coarse = goldenFloat32('mahalanobis_tied_coarse');
    const fine = goldenFloat32('mahalanobis_tied');
    for (let i = 0; i < 3; i++) {
      const actual = resizeBilinear(imageSlice(coarse, 3, i), 6, 12, 48, 96);
      assertMap(actual, imageSlice(fine, 3, i), 'resize bilinear', 1e-5);
    }
  });

  it('downsampling averages neighbours at half-pixel centres', () => {
    // 1×4 → 1×2: target x=0 samples source x=0.5, halfway between 1 and 3.
    const out = resizeBilinear(Float32Array.from([1, 3, 5, 7]), 1, 4, 1, 2);
    assert.deepEqual(Array.from(out), [2, 6]);
  });

  it('same size returns the input', () => {
    const map = Float32Array.from([1, 2, 3, 4]);
    assert.equal(resizeBilinear(map, 2, 2, 2, 2), map);
  });
});

describe('resizeNearest', () => {
  it('keeps label values unblended', () => {
    const labels = Uint8Array.from([0, 13, 255, 7]);
    const out = resizeNearest(labels, 2, 2, 4, 4);
    assert.deepEqual(Array.from(new Set(out)).sort((a, b) => a - b), [0, 7, 13, 255]);
    assert.equal(out[0], 0);
    assert.equal(out[15], 7);
  });
});
