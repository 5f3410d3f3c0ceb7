import * as assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parse } from 'jsonc-parser';
import { ablateCommand } from '../../src/cli/commands/ablate';
import { sweepCommand } from '../../src/cli/commands/sweep';
import type { CommandContext } from '../../src/cli/context';
import { HeatError } from '../../src/core/errors';
import { memoryLogger, noProgress } from '../../src/core/log';

const SAMPLE = path.resolve(__dirname, '..', '..', 'samples', 'street');

function context(cwd: string): CommandContext & { printed: string[] } {
  const printed: string[] = [];
  return { log: memoryLogger(), progress: noProgress, signal: new AbortController().signal, cwd, print: (line) => printed.push(line), printed };
}

describe('sweep and ablate CLI commands', function () {
  this.timeout(120_000);
  let dir: string;

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'heat-sweep-cli-'));
    // The sample's settings with absolute paths, four validation images and statistics in the temporary folder.
    const settings = parse(readFileSync(path.join(SAMPLE, '.vscode', 'settings.json'), 'utf8')) as Record<string, unknown>;
    for (const key of Object.keys(settings)) {
      if (/^heat\.data\.\w+\.(images|labels)$|^heat\.model\.path$/.test(key) && typeof settings[key] === 'string') settings[key] = path.join(SAMPLE, settings[key] as string);
    }
    settings['heat.data.val.images'] = path.join(SAMPLE, 'val/images/val_00[0-3].png');
    settings['heat.statistics.path'] = path.join(dir, 'statistics.safetensors');
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify(settings));
    writeFileSync(path.join(dir, 'grid.json'), JSON.stringify({ temperature: [1, 2], normalization: ['adaptive', 'none'] }));
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('sweep: table, best settings and files', async () => {
    const ctx = context(dir);
    assert.equal(await sweepCommand.run(['--config', 'config.json', '--grid', 'grid.json', '--out', 'out'], ctx), 0);
    const text = ctx.printed.join('\n');
    assert.match(text, /^configuration +AUPR +FPR95 +AUROC/m);
    assert.match(text, /val split \(4 images, 4 model forward passes\)/);
    assert.match(text, /"heat\.score\.temperature": [12]/);
    for (const file of ['results.json', 'results.csv', 'report.md']) assert.ok(existsSync(path.join(dir, 'out', file)), file);
    const json = JSON.parse(readFileSync(path.join(dir, 'out', 'results.json'), 'utf8'));
    assert.equal(json.rows.length, 4);
    assert.equal(json.forwardPasses, 4);
    // The table is sorted by AUPR, highest first.
    const auprs = text.split('\n').filter((l) => /^temperature=/.test(l)).map((l) => Number(l.split(/\s+/)[2]));
    assert.deepEqual(auprs, [...auprs].sort((a, b) => b - a));
  });

  it('ablate normalization: six rows', async () => {
    const ctx = context(dir);
    assert.equal(await ablateCommand.run(['normalization', '--config', 'config.json', '--out', 'abl'], ctx), 0);
    const json = JSON.parse(readFileSync(path.join(dir, 'abl', 'results.json'), 'utf8'));
    assert.equal(json.rows.length, 6);
    assert.equal(json.title, 'Ablation: normalization');
  });

  it('bad arguments raise HeatError', async () => {
    const cases: [typeof sweepCommand, string[], RegExp][] = [
      [ablateCommand, ['colors', '--config', 'config.json'], /Expected one ablation kind, got "colors".*components, normalization, layers/],
      [ablateCommand, ['--config', 'config.json'], /got none/],
      [sweepCommand, ['--config', 'config.json', '--grid', '{"temperature": [1,'], /--grid is not valid JSON/],
      [sweepCommand, ['--config', 'config.json', '--grid', 'missing.json'], /Cannot read the grid file .*missing\.json/],
      [sweepCommand, ['--config', 'config.json', '--grid', '{"kernel": [3]}'], /Unknown key "kernel" in the --grid value/],
      [sweepCommand, ['--config', 'config.json', '--split', 'train'], /Invalid --split "train"/],
    ];
    for (const [command, argv, pattern] of cases) {
      await assert.rejects(command.run(argv, context(dir)), (e: unknown) => e instanceof HeatError && pattern.test(e.message), argv.join(' '));
    }
  });
});
