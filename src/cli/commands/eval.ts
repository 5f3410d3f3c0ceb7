import * as path from 'node:path';
import type { MethodEvaluation } from '../../core/eval/metrics';
import { HeatError } from '../../core/errors';
import { evaluate } from '../../core/pipeline/evaluate';
import { optionString, parseArgs, rejectPositional } from '../args';
import { loadCommandConfig, type Command } from '../context';

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
    const config = await loadCommandConfig(optionString(args, 'config'), context);
    const outDir = path.resolve(context.cwd, optionString(args, 'out') ?? 'heat-lens-eval');
    const split = (optionString(args, 'split') ?? 'test') as 'test' | 'testShifted' | 'val';
    if (!['test', 'testShifted', 'val'].includes(split)) throw new HeatError(`Invalid --split ${JSON.stringify(split)}.`, 'Use --split test (default), testShifted or val.');

    const result = await evaluate(config, {
      outDir, split, saveScores: args.options.has('save-scores'), log: context.log, progress: context.progress, signal: context.signal,
    });
    context.print(formatMetricsTable(result.methods));
    context.print(`Report: ${result.files?.markdown ?? outDir}`);
    return 0;
  },
};

const percent = (v: number | null) => (v === null ? 'n/a' : (100 * v).toFixed(2).padStart(6));

/** Histogram-mode bounds from half a percentage point up are printed below the table. */
const WIDE_BOUND = 0.005;
const WIDE_BOUND_KEYS = ['aupr', 'fpr95', 'auroc'] as const;

/** Plain-text table of pooled and per-image metrics, one row per method, for the terminal. */
export function formatMetricsTable(methods: MethodEvaluation[]): string {
  const header = `${'method'.padEnd(28)} ${'AUPR'.padStart(6)} ${'FPR95'.padStart(6)} ${'AUROC'.padStart(6)} | per-image ${'AUPR'.padStart(6)} ${'FPR95'.padStart(6)} ${'AUROC'.padStart(6)}`;
  const lines = [header, '-'.repeat(header.length)];
  const bounds: string[] = [];
  for (const { metrics: m } of methods) {
    const loose = WIDE_BOUND_KEYS.filter((k) => (m.pooled[k].bound ?? 0) >= WIDE_BOUND);
    const name = loose.length > 0 ? `${m.method} *` : m.method;
    lines.push(`${name.padEnd(28)} ${percent(m.pooled.aupr.value)} ${percent(m.pooled.fpr95.value)} ${percent(m.pooled.auroc.value)} |           ${percent(m.perImage.aupr.value)} ${percent(m.perImage.fpr95.value)} ${percent(m.perImage.auroc.value)}`);
    if (loose.length > 0) bounds.push(`  ${m.method}: ${loose.map((k) => `${k.toUpperCase()} ±${(100 * (m.pooled[k].bound as number)).toFixed(2)}`).join(', ')}`);
  }
  lines.push('Pooled over all evaluated pixels; per-image = mean over images with both anomaly and known pixels. Values in %.');
  if (bounds.length > 0) {
    lines.push(
      '* Pooled from a 2^20-bin histogram (more pixels than heat.eval.maxExactPixels), at most this far from the exact value:',
      ...bounds,
      '  Raise heat.eval.maxExactPixels above the pixel count for exact values (about 12 bytes per pixel and method at the end).',
    );
  }
  return lines.join('\n');
}
