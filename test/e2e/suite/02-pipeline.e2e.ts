// The sample workspace end to end through the commands: statistics, scoring, evaluation, sweep, ablation
// and the tensor pickers, each run as a user would and checked for its product and for logged errors.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readSafetensors, tensorValues } from './safetensors';
import {
  exists, feature, exercised, hasCommand, heatExtension, heatLog, runAccepting, runHeatCommand, runHeatCommandDismissing, sampleImages, setWorkspaceSetting,
  tabSummary, until, webviewTabs, workspaceFile,
} from './util';

const NUMBER = '(-?\\d+(?:\\.\\d+)?(?:e[-+]?\\d+)?)';

describe('pipeline on the sample workspace', () => {
  before(async () => {
    await heatExtension().activate();
  });

  feature('Compute Class Statistics writes a safetensors file with a mean per class', async () => {
    const classNames = vscode.workspace.getConfiguration('heat').get<string[]>('model.classNames') ?? [];
    const configured = vscode.workspace.getConfiguration('heat').get<string>('statistics.path') || '.heat-lens/statistics.safetensors';
    const file = workspaceFile(configured);
    assert.equal(await exists(file), false, `${configured} exists before the run`);

    await runHeatCommand('heat.computeStatistics');

    assert.ok(await exists(file), `no statistics file at ${file.fsPath}`);
    const stats = readSafetensors(file.fsPath);
    const means = stats.tensors['class_means'];
    assert.ok(means, `no class_means; tensors: ${Object.keys(stats.tensors).join(', ')}`);
    assert.equal(means.shape.length, 2);
    assert.equal(means.shape[0], classNames.length, 'one mean row per class name');
    assert.ok(stats.tensors['tied_covariance'] || stats.tensors['class_covariances'], 'no covariance tensor');
    const counts = tensorValues(stats, 'class_counts');
    assert.ok(counts.reduce((a, b) => a + b, 0) > 0, 'no training pixels were counted');
    assert.ok(tensorValues(stats, 'class_means').every(Number.isFinite), 'class means hold non-finite values');
    assert.ok(Object.keys(stats.metadata).length > 0, 'no __metadata__');
  });

  feature('Score Image opens the viewer and logs a finite HEAT range', async () => {
    const [image] = await sampleImages('test/images/*.png');
    assert.ok(image, 'the sample has no test images');
    const mark = heatLog.mark();
    await runHeatCommand('heat.scoreImage', image);

    const name = path.basename(image.fsPath);
    const tab = await until(() => webviewTabs('heat.viewer').find((t) => t.label.includes(name)));
    assert.ok(tab, `no viewer tab for ${name}; tabs: ${tabSummary()}`);
    const line = await heatLog.waitFor(mark, new RegExp(`Scored .*${name.replace('.', '\\.')} on (\\w+): HEAT ${NUMBER}\\.\\.${NUMBER}`));
    assert.ok(line, `no "Scored" log line for ${name}`);
    const [, provider, min, max] = line.match(new RegExp(`on (\\w+): HEAT ${NUMBER}\\.\\.${NUMBER}`))!;
    assert.ok(Number.isFinite(Number(min)) && Number.isFinite(Number(max)) && Number(min) < Number(max), `HEAT range ${min}..${max}`);
    assert.ok(['cpu', 'cuda', 'dml', 'coreml', 'webgpu'].includes(provider.toLowerCase()), `provider ${provider}`);
  });

  feature('Score Image scores a multi-selection', async () => {
    const images = (await sampleImages('val/images/*.png')).slice(0, 2);
    const mark = heatLog.mark();
    await runHeatCommand('heat.scoreImage', images[0], images);
    for (const image of images) {
      assert.ok(await heatLog.waitFor(mark, new RegExp(`Scored .*${path.basename(image.fsPath).replace('.', '\\.')}`)), `${image.fsPath} was not scored`);
    }
  });

  feature('Open Heatmap Viewer shows the latest image', async () => {
    // with nothing scored yet the command offers to score an image and waits for the answer
    await runHeatCommandDismissing('heat.openViewer', 5_000);
    assert.ok(await until(() => webviewTabs('heat.viewer').length > 0), `no viewer; tabs: ${tabSummary()}`);
  });

  feature('Evaluate Test Set reports AUPR, FPR95 and AUROC', async () => {
    const lines = await runHeatCommand('heat.evaluate');
    const metrics = lines.filter((l) => /AUPR .*FPR95 .*AUROC/.test(l));
    assert.ok(metrics.length > 0, `no metric lines; log: ${lines.slice(-5).join(' | ')}`);
    assert.ok(await until(() => webviewTabs('report').length > 0 || undefined), `no report panel; tabs: ${tabSummary()}`);
  });

  feature('Run Sweep over a two-value grid fills the sweep panel', async () => {
    const restore = await setWorkspaceSetting('heat.sweep.grid', { temperature: [1, 2] });
    try {
      const lines = await runHeatCommand('heat.runSweep');
      assert.ok(lines.some((l) => /Run Sweep: finished/.test(l)), `sweep did not finish; log: ${lines.slice(-5).join(' | ')}`);
      assert.ok(await until(() => webviewTabs('sweep').length > 0 || undefined), `no sweep panel; tabs: ${tabSummary()}`);
    } finally {
      await restore();
    }
  });

  feature('Run Ablation of the components finishes', async () => {
    const lines = await runHeatCommand('heat.runAblation', 'components');
    assert.ok(lines.some((l) => /Ablation: components: finished/.test(l)), `ablation did not finish; log: ${lines.slice(-5).join(' | ')}`);
  });

  for (const [id, key] of [['heat.selectFeatureLayer', 'model.featureLayer'], ['heat.selectLogitsTensor', 'model.logitsTensor']] as const) {
    feature(`${id} lists the model's tensors and writes the pick to the workspace settings`, async () => {
      const before = vscode.workspace.getConfiguration('heat').get<string>(key);
      exercised.add(id);
      const mark = heatLog.mark();
      try {
        await runAccepting(id);
        assert.deepEqual(heatLog.errorsSince(mark), []);
        const line = await heatLog.waitFor(mark, new RegExp(`Set heat\\.${key.replace('.', '\\.')} to (\\S+)\\.`), 10_000);
        assert.ok(line, `no "Set heat.${key}" log line`);
        const written = line.match(/ to (\S+)\.$/)![1];
        assert.equal(vscode.workspace.getConfiguration('heat').get<string>(key), written);
      } finally {
        await vscode.workspace.getConfiguration('heat').update(key, before, vscode.ConfigurationTarget.Workspace);
      }
    });
  }

  feature('Show Log, Refresh Runs and Open Run Report without a run do not fail', async () => {
    await runHeatCommand('heat.showLog');
    if (hasCommand('heat.refreshRuns')) await runHeatCommand('heat.refreshRuns');
    if (hasCommand('heat.openRun')) await runHeatCommand('heat.openRun');
  });

  feature('Apply Setting writes the value to the workspace settings', async () => {
    const before = vscode.workspace.getConfiguration('heat').inspect<number>('score.temperature')?.workspaceValue;
    try {
      await runHeatCommand('heat.applySetting', 'heat.score.temperature', 1.5);
      assert.equal(vscode.workspace.getConfiguration('heat').get<number>('score.temperature'), 1.5);
    } finally {
      await vscode.workspace.getConfiguration('heat').update('score.temperature', before, vscode.ConfigurationTarget.Workspace);
    }
  });
});
