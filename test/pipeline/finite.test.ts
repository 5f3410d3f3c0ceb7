import { strict as assert } from 'node:assert';
import { HeatError } from '../../src/core/errors';
import { checkFiniteEnergy, countNonFinite } from '../../src/core/pipeline/finite';

describe('finite checks', () => {
  it('counts NaN and infinities', () => {
    assert.equal(countNonFinite(Float32Array.from([0, -0, 1e38, Number.NaN, Infinity, -Infinity, -1e-45])), 3);
  });

  it('NaN energy names image and tensor', () => {
    for (const name of ['energy', 'g0/energy', 'g2/energy_t2']) {
      const maps = new Map([['spatial', new Float32Array(4)], [name, Float32Array.from([1, Number.NaN, Infinity, 2])]]);
      assert.throws(() => checkFiniteEnergy(maps, 'frame.png', 'out/logits'), (e: Error) =>
        e instanceof HeatError && e.message.startsWith('frame.png: 2 of 4 pixels have NaN or infinite logits in "out/logits".'), name);
    }
  });

  it('finite energy passes', () => {
    checkFiniteEnergy(new Map([['g0/energy', Float32Array.from([-3, -2])], ['spatial', Float32Array.from([Number.NaN])]]), 'a.png', 'z');
  });
});
