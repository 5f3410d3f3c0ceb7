import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HeatError } from '../../src/core/errors';
import { encodeNpy, writeNpy } from '../../src/core/eval/npy';

// Reference files written by numpy.save in test/fixtures/metrics/make_metrics.py.
const FIXTURES = path.join(__dirname, '..', 'fixtures', 'metrics');

describe('eval/npy', () => {
  it('float32 2x3 map: bytes equal numpy.save', () => {
    const scores = Float32Array.from([0, -1.5, 2.25, -30.125, 1e-8, 3.0e38]);
    assert.deepEqual(Buffer.from(encodeNpy(scores, [2, 3])), readFileSync(path.join(FIXTURES, 'scores-2x3.npy')));
  });

  it('uint8 3x2 mask: bytes equal numpy.save', () => {
    const labels = Uint8Array.from([0, 1, 255, 0, 1, 1]);
    assert.deepEqual(Buffer.from(encodeNpy(labels, [3, 2])), readFileSync(path.join(FIXTURES, 'labels-3x2.npy')));
  });

  it('a subarray view writes only its own values', () => {
    const backing = Float32Array.from([9, 0, -1.5, 2.25, -30.125, 1e-8, 3.0e38, 9]);
    assert.deepEqual(Buffer.from(encodeNpy(backing.subarray(1, 7), [2, 3])), readFileSync(path.join(FIXTURES, 'scores-2x3.npy')));
  });

  it('writeNpy writes the file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'npy-'));
    try {
      const file = path.join(dir, 'sub', 'labels.npy');
      await writeNpy(file, Uint8Array.from([0, 1, 255, 0, 1, 1]), [3, 2]);
      assert.deepEqual(readFileSync(file), readFileSync(path.join(FIXTURES, 'labels-3x2.npy')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a shape that does not match the length is a HeatError', () => {
    assert.throws(() => encodeNpy(new Float32Array(6), [4, 2]), (e: unknown) => e instanceof HeatError && /\[4, 2\].*6 values/.test(e.message));
  });
});
