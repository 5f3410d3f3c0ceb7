import { strict as assert } from 'node:assert';
import { makeConfig } from '../../src/core/config';
import { staleStatisticsWarning, statisticsSettingDifferences } from '../../src/core/stats/settings';
import type { StatisticsMetadata } from '../../src/core/stats/types';

/** Metadata as computeStatistics writes it with the default settings. */
function metadata(overrides: Partial<StatisticsMetadata> = {}): StatisticsMetadata {
  return {
    formatVersion: '1', modelSha256: 'x', featureTensor: 'f', dim: 16, classNames: [], preprocessing: {},
    labelMapping: { purity: 1, minConfidence: 0.9 },
    regularization: { epsilon: 1e-4, mode: 'absolute' }, labelSource: 'groundTruth', imageCount: 3, createdAt: '', rank: 256,
    ...overrides,
  };
}

describe('statistics settings against the file', () => {
  it('defaults match', () => {
    assert.deepEqual(statisticsSettingDifferences(makeConfig({}, '/'), metadata()), []);
  });

  it('regularization change is named', () => {
    const differences = statisticsSettingDifferences(makeConfig({ 'heat.statistics.regularization': 1 }, '/'), metadata());
    assert.deepEqual(differences, [{ key: 'heat.statistics.regularization', text: 'heat.statistics.regularization is 1 but the file was computed with 0.0001' }]);
  });

  it('purity and mode changes', () => {
    const config = makeConfig({ 'heat.statistics.purity': 0.6, 'heat.statistics.regularizationMode': 'relative' }, '/');
    assert.deepEqual(statisticsSettingDifferences(config, metadata()).map((d) => d.text), [
      'heat.statistics.regularizationMode is "relative" but the file was computed with "absolute"',
      'heat.statistics.purity is 0.6 but the file was computed with 1',
    ]);
  });

  it('rank only for low-rank covariance', () => {
    assert.deepEqual(statisticsSettingDifferences(makeConfig({ 'heat.statistics.rank': 4 }, '/'), metadata()), []);
    const lowrank = makeConfig({ 'heat.statistics.rank': 4, 'heat.statistics.covariance': 'lowrank' }, '/');
    assert.deepEqual(statisticsSettingDifferences(lowrank, metadata()).map((d) => d.text), ['heat.statistics.rank is 4 but the file was computed with 256']);
  });

  it('minConfidence only for prediction labels', () => {
    const config = makeConfig({ 'heat.statistics.minConfidence': 0.5 }, '/');
    assert.deepEqual(statisticsSettingDifferences(config, metadata()), []);
    const predicted = makeConfig({ 'heat.statistics.minConfidence': 0.5, 'heat.statistics.labelSource': 'prediction' }, '/');
    assert.deepEqual(statisticsSettingDifferences(predicted, metadata({ labelSource: 'prediction' })).map((d) => d.text),
      ['heat.statistics.minConfidence is 0.5 but the file was computed with 0.9']);
  });

  it('fields a file lacks are not compared', () => {
    const old = metadata({ labelMapping: {}, rank: undefined });
    const config = makeConfig({ 'heat.statistics.purity': 0.5, 'heat.statistics.rank': 8, 'heat.statistics.covariance': 'lowrank' }, '/');
    assert.deepEqual(statisticsSettingDifferences(config, old), []);
  });

  it('warning names the file and the fix', () => {
    assert.equal(staleStatisticsWarning('s.safetensors', []), undefined);
    const line = staleStatisticsWarning('s.safetensors', [{ key: 'heat.statistics.purity', text: 'heat.statistics.purity is 0.6 but the file was computed with 1' }]);
    assert.match(line ?? '', /^Statistics file s\.safetensors was computed with other settings: heat\.statistics\.purity is 0\.6 .*Run "heat-lens stats"/);
  });
});
