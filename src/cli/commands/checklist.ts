import type { CheckResult } from '../../core/api';
import { formatChecklist, runChecklist } from '../../core/checklist';
import { CancelledError, HeatError } from '../../core/errors';
import { optionString, parseArgs, rejectPositional } from '../args';
import { loadCommandConfig, type Command } from '../context';

export const checklistCommand: Command = {
  name: 'checklist',
  summary: 'Run the per-phase validation checklist with measured evidence',
  usage: [
    'Usage: heat-lens checklist [--config FILE] [--phase N] [--images N] [--json]',
    '',
    'Measures every item of the per-phase validation checklists (1 energy, 2 statistics, 3 Mahalanobis,',
    '4 spatial consistency, 5 combination and normalization, 6 whole pipeline) on the configured model and',
    'data, and prints each check\'s status (pass, warn, fail, skip), evidence and the heat.* settings it',
    'concerns. Exit code 1 when a check fails. Ctrl-C stops after the current check and prints those finished.',
    '',
    '  --config FILE   JSON file of heat.* settings (default: .vscode/settings.json in the current folder)',
    '  --phase N       run only phase N (1-6)',
    '  --images N      images scored for the map checks (default 8, from the validation then the test split)',
    '  --json          print the results as a JSON array of CheckResult',
  ].join('\n'),
  async run(argv, context) {
    const args = parseArgs(argv, ['config', 'phase', 'images'], ['json']);
    rejectPositional(args, 'checklist', 'To run one phase, use --phase N (1-6).');
    const phase = integerOption(optionString(args, 'phase'), 'phase');
    const images = integerOption(optionString(args, 'images'), 'images');
    const config = await loadCommandConfig(optionString(args, 'config'), context);
    const json = args.options.has('json');
    const finished: CheckResult[] = [];
    const print = (results: CheckResult[]) => context.print(json ? JSON.stringify(results, null, 2) : formatChecklist(results));
    try {
      await runChecklist(config, {
        phase, images, log: context.log, progress: context.progress, signal: context.signal, onResult: (r) => finished.push(r),
      });
    } catch (error) {
      if (error instanceof CancelledError && finished.length > 0) print(finished);
      throw error;
    }
    print(finished);
    return finished.some((r) => r.status === 'fail') ? 1 : 0;
  },
};

function integerOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new HeatError(`Invalid --${name} ${JSON.stringify(value)}.`, `Give a positive integer${name === 'phase' ? ' from 1 to 6' : ''}.`);
  return parsed;
}
