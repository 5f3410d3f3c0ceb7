import * as assert from 'node:assert/strict';
import { makeConfig } from '../../src/core/config';
import { HeatError } from '../../src/core/errors';
import { ablationConfigurations, baseConfiguration, configurationLabel, expandGrid, settingsSnippet, validateGrid, variedKeys } from '../../src/core/sweep';

const base = baseConfiguration(makeConfig({}, '/tmp'));

function assertInvalid(raw: unknown, pattern: RegExp): void {
  assert.throws(() => validateGrid(raw), (e: unknown) => e instanceof HeatError && pattern.test(e.message), JSON.stringify(raw));
}

describe('sweep grid', () => {
  it('expansion: Cartesian product over the base', () => {
    const grid = validateGrid({ temperature: [0.5, 1, 2], alpha: [0.8, 0.9], kernelSize: [3, 5], covariance: ['tied', 'classwise'] });
    const all = expandGrid(grid, base);
    assert.equal(all.length, 24);
    assert.equal(new Set(all.map((c) => JSON.stringify(c))).size, 24);
    for (const c of all) assert.equal(c.featureLayer, base.featureLayer);
    assert.deepEqual(variedKeys(all), ['temperature', 'alpha', 'kernelSize', 'covariance']);
    assert.equal(configurationLabel(all[0], variedKeys(all)), 'temperature=0.5 alpha=0.8 kernelSize=3 covariance=tied');
    // alpha has no effect without adaptive normalization, so it is not in that label.
    assert.equal(configurationLabel({ ...all[0], normalization: 'none' }, ['alpha', 'normalization']), 'normalization=none');
  });

  it('expansion: alpha only varies adaptive normalization', () => {
    const all = expandGrid(validateGrid({ alpha: [0, 0.5, 0.9], normalization: ['adaptive', 'fixed', 'none'] }), base);
    assert.equal(all.length, 3 + 1 + 1);
    assert.deepEqual(all.filter((c) => c.normalization === 'none').map((c) => c.alpha), [base.alpha]);
  });

  it('expansion: empty grid is the configured setting', () => {
    assert.deepEqual(expandGrid(validateGrid({}), base), [base]);
  });

  it('validation: errors name the key and the value', () => {
    assertInvalid([1, 2], /must be an object of lists/);
    assertInvalid({ temprature: [1] }, /Unknown key "temprature".*temperature/);
    assertInvalid({ temperature: 1 }, /heat\.sweep\.grid\.temperature must be a non-empty list/);
    assertInvalid({ temperature: [] }, /non-empty list/);
    assertInvalid({ temperature: [0] }, /Invalid value 0 in heat\.sweep\.grid\.temperature/);
    assertInvalid({ alpha: [1.5] }, /Invalid value 1\.5 in heat\.sweep\.grid\.alpha/);
    assertInvalid({ kernelSize: [4] }, /Invalid value 4 in heat\.sweep\.grid\.kernelSize.*odd/);
    assertInvalid({ covariance: ['full'] }, /Invalid value "full".*"tied", "classwise", "lowrank"/);
    assertInvalid({ combination: ['sum'] }, /heat\.sweep\.grid\.combination.*"reliability"/);
    assertInvalid({ normalization: ['batch'] }, /heat\.sweep\.grid\.normalization/);
    assertInvalid({ featureLayer: [''] }, /heat\.sweep\.grid\.featureLayer/);
    assertInvalid({ components: [['energy', 'energy']] }, /heat\.sweep\.grid\.components/);
    assert.throws(() => validateGrid({ temperature: 1 }, 'the --grid value'), /^HeatError: Key "temperature" of the --grid value must be a non-empty list/);
    assertInvalid({ kernelSize: [1] }, /Invalid value 1 in heat\.sweep\.grid\.kernelSize.*from 3/);
    assertInvalid({ temperature: [1, 1] }, /lists a value twice/);
  });

  it('ablations: predefined grids', () => {
    const components = ablationConfigurations('components', base, []);
    assert.deepEqual(components.map((c) => c.components.join('+')),
      ['energy', 'mahalanobis', 'spatial', 'energy+mahalanobis', 'energy+spatial', 'mahalanobis+spatial', 'energy+mahalanobis+spatial']);
    const normalization = ablationConfigurations('normalization', base, []);
    assert.deepEqual(normalization.map((c) => `${c.normalization}:${c.normalization === 'adaptive' ? c.alpha : '-'}`),
      ['adaptive:0', 'adaptive:0.5', 'adaptive:0.9', 'adaptive:0.99', 'fixed:-', 'none:-']);
    assert.deepEqual(ablationConfigurations('layers', base, ['layer2', 'layer4']).map((c) => c.featureLayer), ['layer2', 'layer4']);
    assert.deepEqual(ablationConfigurations('layers', base, []).map((c) => c.featureLayer), [base.featureLayer]);
    assert.throws(() => ablationConfigurations('layers', base, ['']), /heat\.ablation\.layers/);
  });

  it('settings snippet uses heat.* keys', () => {
    const snippet = settingsSnippet({ ...base, temperature: 2, covariance: 'classwise' });
    assert.equal(snippet['heat.score.temperature'], 2);
    assert.equal(snippet['heat.statistics.covariance'], 'classwise');
    assert.deepEqual(snippet['heat.score.components'], base.components);
  });
});
