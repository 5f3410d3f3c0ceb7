import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { SplitName } from '../../core/config';
import { HeatError } from '../../core/errors';
import { formatBestSnippet, formatSweepTable, runSweep, type SweepResult } from '../../core/sweep';
import { optionString, parseArgs, rejectPositional, type ParsedArgs } from '../args';
import { loadCommandConfig, type Command, type CommandContext } from '../context';

export const sweepCommand: Command = {
  name: 'sweep',
  summary: 'Evaluate a grid of HEAT settings on the validation split with one model pass per image',
  usage: [
    'Usage: heat-lens sweep [--config FILE] [--grid JSON|FILE] [--out DIR] [--split val|test]',
    '',
    'Runs every configuration of the grid (heat.sweep.grid, or --grid) image by image: each validation image',
    'goes through the model once and every configuration is evaluated from that pass. Prints a table sorted',
    'by AUPR and the best configuration as heat.* settings; writes results.json, results.csv and report.md.',
    'Grid keys: temperature, alpha, kernelSize, covariance, featureLayer, spatialMethod, padding, combination,',
    'normalization, components (each a list), for example --grid \'{"temperature": [0.5, 1, 2], "kernelSize": [3, 5]}\'.',
    'A featureLayer without statistics gets them computed on the training split into a file beside',
    'heat.statistics.path, named after the layer (NAME.LAYER.safetensors beside NAME.safetensors); later sweeps reuse it.',
    '',
    '  --config FILE   JSON file of heat.* settings (default: .vscode/settings.json in the current folder)',
    '  --grid VALUE    grid as JSON text, or a JSON file holding it (default: heat.sweep.grid)',
    '  --out DIR       report folder (default: heat-lens-sweep)',
    '  --split NAME    split to evaluate on (default: val; "test" tunes on the test split, so label results as such)',
  ].join('\n'),
  async run(argv, context) {
    const args = parseArgs(argv, ['config', 'grid', 'out', 'split']);
    rejectPositional(args, 'sweep', 'To give the grid, use --grid JSON|FILE; to choose the split, --split NAME.');
    const config = await loadCommandConfig(optionString(args, 'config'), context);
    const grid = await readGrid(optionString(args, 'grid'), context.cwd);
    const outDir = path.resolve(context.cwd, optionString(args, 'out') ?? 'heat-lens-sweep');
    const split = splitOption(args);
    const result = await runSweep(config, grid, { outDir, split, log: context.log, progress: context.progress, signal: context.signal });
    printResult(result, context);
    return 0;
  },
};

/** --split: val (default) or test. */
export function splitOption(args: ParsedArgs): SplitName {
  const split = optionString(args, 'split') ?? 'val';
  if (split !== 'val' && split !== 'test') throw new HeatError(`Invalid --split ${JSON.stringify(split)}.`, 'Use --split val (default) or --split test.');
  return split;
}

/** --grid: JSON text starting with "{", else a file holding JSON. */
async function readGrid(value: string | undefined, cwd: string): Promise<unknown> {
  if (value === undefined) return undefined;
  let text = value;
  if (!value.trim().startsWith('{')) {
    const file = path.resolve(cwd, value);
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (error) {
      throw new HeatError(`Cannot read the grid file ${file}: ${(error as Error).message}.`, 'Pass the grid as JSON text or the path of a JSON file.', file);
    }
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HeatError(`--grid is not valid JSON: ${(error as Error).message}.`, 'Write it like {"temperature": [0.5, 1, 2]}.', '--grid');
  }
}

/** Prints the table, the best configuration's settings and the report path. */
export function printResult(result: SweepResult, context: CommandContext): void {
  context.print(formatSweepTable(result));
  context.print('');
  context.print('Best configuration (paste into .vscode/settings.json):');
  context.print(formatBestSnippet(result));
  if (result.files) context.print(`Report: ${result.files.markdown}`);
}
