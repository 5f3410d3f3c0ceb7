import * as path from 'node:path';
import { HeatError } from '../../core/errors';
import { ABLATION_KINDS, runAblation, type AblationKind } from '../../core/sweep';
import { optionString, parseArgs } from '../args';
import { loadCommandConfig, type Command } from '../context';
import { printResult, splitOption } from './sweep';

export const ablateCommand: Command = {
  name: 'ablate',
  summary: 'Run an ablation (components, normalization or layers) on the validation split in one pass',
  usage: [
    'Usage: heat-lens ablate components|normalization|layers [--config FILE] [--out DIR] [--split val|test]',
    '',
    '  components      energy, Mahalanobis and spatial consistency each alone, in pairs, and all three',
    '  normalization   adaptive (alpha 0, 0.5, 0.9, 0.99), fixed (heat.score.fixedMean/fixedStd) and none',
    '  layers          every feature layer of heat.ablation.layers; a layer without statistics gets them',
    '                  computed into NAME.LAYER.safetensors beside heat.statistics.path (NAME.safetensors)',
    '',
    'Each ablation is a predefined sweep: one model pass per validation image. Prints a table sorted by AUPR',
    'and the best configuration; writes results.json, results.csv and report.md.',
    '',
    '  --config FILE   JSON file of heat.* settings (default: .vscode/settings.json in the current folder)',
    '  --out DIR       report folder (default: heat-lens-ablate-KIND)',
    '  --split NAME    split to evaluate on (default: val)',
  ].join('\n'),
  async run(argv, context) {
    const args = parseArgs(argv, ['config', 'out', 'split']);
    const kind = args.positional[0];
    if (args.positional.length !== 1 || !(ABLATION_KINDS as readonly string[]).includes(kind)) {
      throw new HeatError(`Expected one ablation kind, got ${args.positional.length === 0 ? 'none' : `"${args.positional.join(' ')}"`}.`,
        `Use one of: ${ABLATION_KINDS.join(', ')}, for example "heat-lens ablate components".`);
    }
    const config = await loadCommandConfig(optionString(args, 'config'), context);
    const outDir = path.resolve(context.cwd, optionString(args, 'out') ?? `heat-lens-ablate-${kind}`);
    const result = await runAblation(config, kind as AblationKind, {
      outDir, split: splitOption(args), log: context.log, progress: context.progress, signal: context.signal,
    });
    printResult(result, context);
    return 0;
  },
};
