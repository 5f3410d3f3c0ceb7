import * as path from 'node:path';
import type { MethodEvaluation } from '../../core/eval/metrics';
import { loadConfig } from '../../core/config';
import { HeatError } from '../../core/errors';
import { evaluate } from '../../core/pipeline/evaluate';
import { optionString, parseArgs, rejectPositional } from '../args';
import type { Command } from '../context';

export const evalCommand: Command = {
  name: 'eval',
  summary: 'Evaluate HEAT and the baselines on the test split (AUPR, FPR95, AUROC)',
  usage: [
    'Usage: heat-lens eval [--config FILE] [--out DIR] [--split test|testShifted|val] [--save-scores]',
    '',
    'Scores the test split once and evaluates HEAT, max softmax, max logit, energy, standardized max logit,',
    'Mahalanobis and spatial consistency from that pass. Thresholds are chosen F1-optimally on the validation',
    'split when heat.data.val.images is set. Writes report.json, report.md, report.csv and plots/*.svg.',
    '',
    '  --config FILE   JSON file of heat.* settings (default: .vscode/settings.json in the current folder)',
    '  --out DIR       report folder (default: heat-lens-eval)',
    '  --split NAME    split to evaluate (default: test)',
    '  --save-scores   also write per-image HEAT score maps and anomaly masks as .npy under DIR/scores',
  ].join('\n'),
  async run(argv, context) {
    const args = parseArgs(argv, ['config', 'out', 'split'], ['save-scores']);
    rejectPositional(args, 'eval', 'To evaluate another split, use --split test|testShifted|val.');
    const config = await loadConfig(optionString(args, 'config'), context.cwd);
    const outDir = path.resolve(context.cwd, optionString(args, 'out') ?? 'heat-lens-eval');
    const split = (optionString(args, 'split') ?? 'test') as 'test' | 'testShifted' | 'val';
    if (!['test', 'testShifted', 'val'].includes(split)) throw new HeatError(`Invalid --split ${split}.`, 'Expected test, testShifted or val.');

    const result = await evaluate(config, {
      outDir, split, saveScores: args.options.has('save-scores'), log: context.log, progress: context.progress, signal: context.signal,
    });
    context.print(formatMetricsTable(result.methods));
    context.print(`Report: ${result.files?.markdown ?? outDir}`);
    return 0;
  },
};

const percent = (v: number | null) => (v === null ? 'n/a' : (100 * v).toFixed(2).padStart(6));

/** Plain-text table of pooled and per-image metrics, one row per method, for the terminal. */
export function formatMetricsTable(methods: MethodEvaluation[]): string {
  const header = `${'method'.padEnd(28)} ${'AUPR'.padStart(6)} ${'FPR95'.padStart(6)} ${'AUROC'.padStart(6)} | per-image ${'AUPR'.padStart(6)} ${'FPR95'.padStart(6)} ${'AUROC'.padStart(6)}`;
  const lines = [header, '-'.repeat(header.length)];
  for (const { metrics: m } of methods) {
    lines.push(`${m.method.padEnd(28)} ${percent(m.pooled.aupr.value)} ${percent(m.pooled.fpr95.value)} ${percent(m.pooled.auroc.value)} |           ${percent(m.perImage.aupr.value)} ${percent(m.perImage.fpr95.value)} ${percent(m.perImage.auroc.value)}`);
  }
  lines.push('Pooled over all evaluated pixels; per-image = mean over images with both anomaly and known pixels. Values in %.');
  return lines.join('\n');
}
