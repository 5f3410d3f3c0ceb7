import { strict as assert } from 'node:assert';
import { buffersOf, packArray, unpackArray, unpackFloat32 } from '../../src/protocol/maps';

/** structuredClone with a transfer list is what postMessage does to a webview message. */
function post<T>(message: T, transfer: ArrayBuffer[]): T {
  return structuredClone(message, { transfer });
}

describe('map packing for webviews', () => {
  it('720x1280 Float32Array: arrives as a typed array of 921,600 elements with its values', () => {
    const map = new Float32Array(720 * 1280);
    for (let i = 0; i < map.length; i++) map[i] = Math.sin(i) * 30 - 20;
    const packed = packArray(map);
    const arrived = post({ map: packed }, buffersOf([packed]));
    const restored = unpackFloat32(arrived.map);
    assert.ok(restored instanceof Float32Array);
    assert.equal(restored.length, 921_600);
    assert.equal(restored[123_457], Math.fround(Math.sin(123_457) * 30 - 20));
    assert.equal(packed.buffer.byteLength, 0, 'the buffer was transferred, not copied');
  });

  it('view into a larger buffer: only its own bytes travel', () => {
    const pool = new ArrayBuffer(64);
    const view = new Int32Array(pool, 8, 4);
    view.set([1, -2, 3, -4]);
    const packed = packArray(view);
    assert.equal(packed.buffer.byteLength, 16);
    assert.deepEqual([...unpackArray(post(packed, [packed.buffer]))], [1, -2, 3, -4]);
  });

  it('Node Buffer-backed Uint8Array: copied out of the pool', () => {
    const bytes = Buffer.from([9, 8, 7]);
    const packed = packArray(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
    assert.equal(packed.buffer.byteLength, 3);
    assert.deepEqual([...unpackArray(packed)], [9, 8, 7]);
  });

  it('bad input: a plain object from a careless post is refused with a clear error', () => {
    const careless = JSON.parse(JSON.stringify({ type: 'float32', buffer: new Float32Array(3), length: 3 }));
    assert.throws(() => unpackArray(careless), /Expected an ArrayBuffer, got \[object Object\]/);
    assert.throws(() => unpackArray({ type: 'float32', buffer: new ArrayBuffer(8), length: 3 }), /8 bytes does not hold 3 float32/);
    assert.throws(() => packArray(new Float64Array(2) as never), /Only Float32Array/);
  });
});
