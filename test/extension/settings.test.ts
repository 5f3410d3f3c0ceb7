import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { SETTINGS } from '../../src/core/config';
import { contributedConfiguration } from '../../scripts/gen-settings';

const manifest = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));

describe('contributed settings', () => {
  it('package.json contributes exactly the SETTINGS keys with their schema (run scripts/gen-settings.ts if not)', () => {
    assert.deepEqual(manifest.contributes.configuration, contributedConfiguration());
  });

  it('every key keeps its type, default, enum and description', () => {
    const properties = manifest.contributes.configuration.properties;
    for (const spec of SETTINGS) {
      const p = properties[spec.key];
      assert.ok(p, `${spec.key} is not contributed`);
      assert.deepEqual(p.default, spec.default, spec.key);
      assert.deepEqual(p.enum, spec.enum ? [...spec.enum] : undefined, spec.key);
      assert.equal(p.description, spec.description);
    }
    assert.equal(Object.keys(properties).length, SETTINGS.length);
  });

  it('nullable array: type lists both array and null', () => {
    assert.deepEqual(manifest.contributes.configuration.properties['heat.model.inputSize'].type, ['array', 'null']);
  });
});
