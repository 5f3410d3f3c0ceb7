import * as path from 'node:path';
import { HeatError } from '../../core/errors';
import { computeStatistics, formatStatisticsReport, mergeStatisticsFiles, type ScatterPrecision } from '../../core/stats';
import { optionString, parseArgs, rejectPositional } from '../args';
import { loadCommandConfig, type Command } from '../context';

function parseShard(text: string): [number, number] {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!match) throw new HeatError(`Invalid --shard ${JSON.stringify(text)}.`, 'Use --shard i/N with 0 ≤ i < N, for example --shard 0/4.');
  return [Number(match[1]), Number(match[2])];
}

function parsePrecision(text: string | undefined): ScatterPrecision | undefined {
  if (text === undefined || text === 'float32' || text === 'float64') return text;
  throw new HeatError(`Invalid --precision ${JSON.stringify(text)}.`, 'Use float32 (default) or float64.');
}

/**
 * `heat-lens stats [--config FILE] [--out FILE] [--split train|val] [--shard i/N] [--precision float32|float64]`
 * and `heat-lens stats merge SHARDS… --out FILE`.
 */
export const statsCommand: Command = {
  name: 'stats',
  summary: 'Compute class feature statistics (means, covariances) for the Mahalanobis distance',
  usage: [
    'Usage: heat-lens stats [--config FILE] [--out FILE] [--split train|val] [--shard i/N] [--precision float32|float64]',
    '       heat-lens stats merge SHARD_FILES... --out FILE',
    '',
    'Runs the model over a split (default: train; heat.data.<split>.images and .labels) and accumulates, per',
    'class, the feature cell count, mean and scatter in float64 with exact merges, so memory stays O(C·D²)',
    'whatever the number of images. Labels come from heat.statistics.labelSource (ground truth or confident',
    'predictions), reduced to the feature grid by heat.statistics.purity. Writes a safetensors file with class',
    'means, tied and class-wise covariances, their regularised precisions, the top heat.statistics.rank',
    'eigenpairs and per-class max-logit mean and std, and prints counts, smallest eigenvalues and condition',
    'numbers. Ctrl-C stops after the current image and leaves no file.',
    '',
    '  --config FILE     settings file (default: .vscode/settings.json)',
    '  --out FILE        output file (default: heat.statistics.path, else statistics.safetensors next to the config)',
    '  --split NAME      train (default) or val',
    '  --shard i/N       process images i, i+N, i+2N, … (0 ≤ i < N) and write partial sums for "stats merge";',
    '                    without --out, statistics.safetensors (or heat.statistics.path) becomes',
    '                    statistics.shard-i-of-N.safetensors next to it; with --out the file is exactly FILE',
    '  --precision P     per-image scatter product in float32 (default, fast) or float64 (exact to 1e-12)',
    '',
    'merge: combines every shard file of one split exactly into the statistics one pass would give.',
  ].join('\n'),
  async run(argv, context) {
    if (argv[0] === 'merge') {
      const args = parseArgs(argv.slice(1), ['out']);
      const out = optionString(args, 'out');
      if (!out || args.positional.length === 0) {
        context.log.error('stats merge needs shard files and --out: heat-lens stats merge SHARDS... --out FILE');
        return 2;
      }
      const report = await mergeStatisticsFiles(args.positional.map((f) => path.resolve(context.cwd, f)), path.resolve(context.cwd, out),
        { log: context.log, progress: context.progress, signal: context.signal });
      for (const line of formatStatisticsReport(report)) context.print(line);
      return 0;
    }

    const args = parseArgs(argv, ['config', 'out', 'split', 'shard', 'precision']);
    rejectPositional(args, 'stats', 'To choose the split, use --split train|val; to merge shard files, run "heat-lens stats merge SHARD_FILES... --out FILE".');
    const split = optionString(args, 'split') ?? 'train';
    if (split !== 'train' && split !== 'val') throw new HeatError(`Invalid --split ${JSON.stringify(split)}.`, 'Use --split train (default) or --split val.');
    const config = await loadCommandConfig(optionString(args, 'config'), context);
    const out = optionString(args, 'out');
    const shard = optionString(args, 'shard');
    const report = await computeStatistics(config, {
      out: out ? path.resolve(context.cwd, out) : undefined,
      split,
      shard: shard ? parseShard(shard) : undefined,
      scatterPrecision: parsePrecision(optionString(args, 'precision')),
      log: context.log,
      progress: context.progress,
      signal: context.signal,
    });
    for (const line of formatStatisticsReport(report)) context.print(line);
    return 0;
  },
};
