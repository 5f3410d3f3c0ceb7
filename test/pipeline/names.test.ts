import { strict as assert } from 'node:assert';
import { uniqueImageNames } from '../../src/core/pipeline/names';

describe('uniqueImageNames', () => {
  it('unique stems stay stems', () => {
    assert.deepEqual(uniqueImageNames(['/d/a.png', '/d/b.jpg']), ['a', 'b']);
  });

  it('shared stems get folder, extension, counter', () => {
    const files = ['/s/a/x.png', '/s/b/x.png', '/s/a/x.jpg', '/s/a/odd.png', '/s/a/odd.png'];
    assert.deepEqual(uniqueImageNames(files), ['a-x-png', 'b-x', 'a-x-jpg', 'a-odd-png', 'a-odd-png-2']);
  });
});
