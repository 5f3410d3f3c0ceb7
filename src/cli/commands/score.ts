import * as path from 'node:path';
import { HeatError } from '../../core/errors';
import { scoreImages } from '../../core/pipeline/score';
import { optionString, parseArgs } from '../args';
import { loadCommandConfig, type Command } from '../context';

export const scoreCommand: Command = {
  name: 'score',
  summary: 'Score images with HEAT and write every map as PNG plus summary.json',
  usage: [
    'Usage: heat-lens score IMAGE... [--config FILE] [--out DIR]',
    '',
    'Writes one folder per image under DIR (default heat-lens-scores) with the PNG maps energy, mahalanobis',
    '(when heat.statistics.path is set), spatial, weight-energy, weight-mahalanobis, weight-spatial, heat,',
    'heat-normalized and prediction, and summary.json (shape, min, max, mean and shown range of each map,',
    'execution provider, time per stage). A failing image is reported and the others are still scored.',
    '',
    '  --config FILE  JSON file of heat.* settings (default: .vscode/settings.json in the current folder)',
    '  --out DIR      output folder (default: heat-lens-scores)',
  ].join('\n'),
  async run(argv, context) {
    const args = parseArgs(argv, ['config', 'out']);
    if (args.positional.length === 0) throw new HeatError('No image given.', 'Usage: heat-lens score IMAGE... [--config FILE] [--out DIR]');
    const config = await loadCommandConfig(optionString(args, 'config'), context);
    const outDir = path.resolve(context.cwd, optionString(args, 'out') ?? 'heat-lens-scores');
    const images = args.positional.map((p) => path.resolve(context.cwd, p));

    const { results, failures } = await scoreImages(config, images, { outDir, log: context.log, progress: context.progress, signal: context.signal });
    for (const result of results) {
      const heat = result.summary.maps.heat;
      const range = heat ? ` heat ${heat.min.toFixed(3)}..${heat.max.toFixed(3)}` : '';
      context.print(`${result.outDir}${range} (${result.summary.executionProvider})`);
    }
    context.print(`Scored ${results.length} of ${images.length} images into ${outDir}.`);
    return failures.length > 0 ? 1 : 0;
  },
};
