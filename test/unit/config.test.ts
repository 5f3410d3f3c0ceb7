import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import { makeConfig, get, loadConfig, SETTINGS, unknownSettingKeys } from '../../src/core/config';
import { loadConfiguredModel } from '../../src/core/model/configured';
import { HeatError } from '../../src/core/errors';

describe('config', () => {
  it('defaults follow the method', () => {
    const config = makeConfig({}, '/work');
    assert.equal(get<number>(config, 'heat.score.temperature'), 1);
    assert.equal(get<number>(config, 'heat.score.alpha'), 0.9);
    assert.equal(get<number>(config, 'heat.score.kernelSize'), 3);
    assert.equal(get<string>(config, 'heat.statistics.covariance'), 'tied');
    assert.equal(get<string>(config, 'heat.model.featureLayer'), 'layer3');
    assert.equal(get<string>(config, 'heat.score.padding'), 'exclude');
  });

  it('all problems reported together', () => {
    const raw = { 'heat.score.temprature': 2, 'heat.modle.path': 'm.onnx', 'heat.score.kernelSize': 4, 'heat.score.alpha': 2 };
    assert.throws(() => makeConfig(raw, '/ws', 'settings.json'), (error: HeatError) => {
      assert.match(error.message, /^4 problems with the settings in settings\.json: /);
      assert.match(error.message, /Unknown setting heat\.score\.temprature \(Did you mean heat\.score\.temperature\?\)/);
      assert.match(error.message, /Unknown setting heat\.modle\.path \(Did you mean heat\.model\.path\?\)/);
      assert.match(error.message, /Invalid value 2 for heat\.score\.alpha/);
      assert.match(error.message, /Invalid value 4 for heat\.score\.kernelSize \(Expected an odd integer/);
      return true;
    });
  });

  it('kernel size 1 rejected', () => {
    assert.throws(() => makeConfig({ 'heat.score.kernelSize': 1 }, '/ws'), /Invalid value 1 for heat\.score\.kernelSize/);
  });

  it('repeated component rejected', () => {
    assert.throws(() => makeConfig({ 'heat.score.components': ['energy', 'energy'] }, '/ws'), (error: HeatError) => {
      assert.match(error.message, /Invalid value \["energy","energy"\] for heat\.score\.components/);
      assert.match(error.message, /without repeats/);
      return true;
    });
  });

  it('relative paths resolve against the base folder', () => {
    const config = makeConfig({ 'heat.model.path': 'models/a.onnx', 'heat.data.train.images': 'img/*.png' }, '/ws');
    assert.equal(get(config, 'heat.model.path'), path.join('/ws', 'models/a.onnx'));
    assert.equal(get(config, 'heat.data.train.images'), path.join('/ws', 'img/*.png'));
  });

  it('invalid enum names key value and allowed set', () => {
    assert.throws(() => makeConfig({ 'heat.score.padding': 'reflect' }, '/ws'), (error: HeatError) => {
      assert.match(error.message, /heat\.score\.padding/);
      assert.match(error.message, /"reflect"/);
      assert.match(error.message, /"exclude", "zero"/);
      return true;
    });
  });

  it('invalid array element suggests nearest', () => {
    assert.throws(() => makeConfig({ 'heat.score.components': ['enrgy', 'spatial'] }, '/ws', '/ws/s.json'), (error: HeatError) => {
      assert.match(error.message, /Invalid value \["enrgy","spatial"\] for heat\.score\.components in \/ws\/s\.json\./);
      assert.match(error.message, /each one of "energy", "mahalanobis", "spatial"/);
      assert.match(error.message, /"enrgy" is not one of them; did you mean "energy"\?/);
      return true;
    });
  });

  it('unknown nested keys are found', () => {
    const nested = { score: { alpha: 0.9, alpah: 0.5 }, labels: { map: { 5: 0 } }, sweep: { grid: { temperature: [1] } }, bogus: 1 };
    assert.deepEqual(unknownSettingKeys(nested), ['heat.score.alpah', 'heat.bogus']);
  });

  it('unknown key suggests nearest', () => {
    assert.throws(() => makeConfig({ 'heat.score.temprature': 2 }, '/ws'), /Did you mean heat\.score\.temperature/);
  });

  it('even kernel size is rejected', () => {
    assert.throws(() => makeConfig({ 'heat.score.kernelSize': 4 }, '/ws'), /odd integer/);
  });

  it('missing settings file named in model error', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'heat-config-'));
    try {
      const config = await loadConfig(undefined, dir);
      assert.equal(config.missingSettings, path.join(dir, '.vscode', 'settings.json'));
      await assert.rejects(loadConfiguredModel(config), (error: HeatError) => {
        assert.match(error.message, /no --config was given and .*settings\.json does not exist/);
        assert.match(error.message, /pass --config FILE/);
        return true;
      });
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('logits tensor typo lists closest names', async () => {
    const model = path.join(__dirname, '..', '..', 'samples', 'street', 'model.onnx');
    const config = makeConfig({ 'heat.model.path': model, 'heat.model.logitsTensor': 'logitz' }, os.tmpdir());
    await assert.rejects(loadConfiguredModel(config), (error: HeatError) => {
      assert.match(error.message, /Logits tensor "logitz" does not exist in the model\. Outputs: logits\. Closest: logits/);
      return true;
    });
  });

  it('every setting default is valid', () => {
    for (const spec of SETTINGS) assert.doesNotThrow(() => makeConfig({ [spec.key]: spec.default }, '/ws'), spec.key);
  });
});
