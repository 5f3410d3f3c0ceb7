import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { loadConfig, withOverrides } from '../../core/config';
import { HeatError } from '../../core/errors';
import { writeDirAtomic, writeFileAtomic } from '../../core/fsutil';
import type { Logger } from '../../core/log';
import { listSplit } from '../../core/data';
import { evaluate } from '../../core/pipeline/evaluate';
import { scoreImages } from '../../core/pipeline/score';
import { computeStatistics } from '../../core/stats';
import { optionString, parseArgs, rejectPositional } from '../args';
import type { Command } from '../context';
import { formatMetricsTable } from './eval';

/** Finds the bundled sample workspace, next to dist/ in a checkout and in the installed extension. */
export function sampleWorkspace(): string {
  const candidates = [path.join(__dirname, '..', 'samples', 'street'), path.join(__dirname, '..', '..', '..', 'samples', 'street')];
  const found = candidates.find((dir) => existsSync(path.join(dir, '.vscode', 'settings.json')));
  if (!found) throw new HeatError(`The bundled sample workspace was not found (looked in ${candidates.join(', ')}).`, 'Reinstall HEAT Lens or run from a complete checkout.');
  return found;
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'Run the whole HEAT job on the bundled street sample',
  usage: [
    'Usage: heat-lens demo [--out DIR]',
    '',
    'On the bundled synthetic street sample: computes class statistics on the train split, evaluates the test',
    'and the domain-shifted test split (thresholds from the validation split), scores three test images,',
    'and writes everything to DIR (default heat-lens-demo): statistics.safetensors, report.md with plots/,',
    'test-shifted/report.md, and maps/<image>/ with the PNG maps and summary.json.',
  ].join('\n'),
  async run(argv, context) {
    const args = parseArgs(argv, ['out']);
    rejectPositional(args, 'demo', 'To choose the output folder, use --out DIR.');
    const outDir = path.resolve(context.cwd, optionString(args, 'out') ?? 'heat-lens-demo');
    const started = performance.now();
    const sample = sampleWorkspace();
    const base = await loadConfig(path.join(sample, '.vscode', 'settings.json'));
    let table = '';
    let shiftedTable = '';

    // Everything is built in a temporary folder that replaces outDir only when the whole job succeeded.
    // Paths inside the reports and logs are written as they will be after the rename.
    await writeDirAtomic(outDir, async (dir) => {
      const final = (text: string) => text.split(dir).join(outDir);
      const log: Logger = {
        info: (m) => context.log.info(final(m)), warn: (m) => context.log.warn(final(m)),
        error: (m) => context.log.error(final(m)), debug: (m) => context.log.debug(final(m)),
      };
      const job = { log, progress: context.progress, signal: context.signal };
      const config = withOverrides(base, { 'heat.statistics.path': path.join(dir, 'statistics.safetensors') });
      log.info('1/4 Class statistics on the train split');
      await computeStatistics(config, { ...job, out: path.join(dir, 'statistics.safetensors') });

      log.info('2/4 Evaluating the test split');
      const test = await evaluate(config, { ...job, outDir: dir, split: 'test' });
      table = formatMetricsTable(test.methods);

      log.info('3/4 Evaluating the domain-shifted test split');
      const shifted = await evaluate(config, { ...job, outDir: path.join(dir, 'test-shifted'), split: 'testShifted' });
      shiftedTable = formatMetricsTable(shifted.methods);

      log.info('4/4 Scoring three test images');
      const images = (await listSplit(config, 'test')).slice(0, 3).map((s) => s.image);
      const { failures } = await scoreImages(config, images, { ...job, outDir: path.join(dir, 'maps') });
      if (failures.length > 0) throw new HeatError(`Scoring the sample failed: ${failures[0].error}`);
      await rewritePaths(dir, final);
    });

    const seconds = (performance.now() - started) / 1000;
    context.print('Test split (synthetic street scenes with pasted anomalies):');
    context.print(table);
    context.print('');
    context.print('Domain-shifted test split (darker, foggier, noisier):');
    context.print(shiftedTable);
    context.print('');
    context.print(`Wrote ${outDir}: report.md, plots/, test-shifted/, maps/, statistics.safetensors (${seconds.toFixed(1)} s).`);
    return 0;
  },
};

/** Rewrites the temporary folder's path to the final one in every report and summary under `dir`. */
async function rewritePaths(dir: string, final: (text: string) => string): Promise<void> {
  for (const entry of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !/\.(md|json|csv)$/.test(entry.name)) continue;
    const file = path.join(entry.parentPath ?? entry.path, entry.name);
    const text = await fs.readFile(file, 'utf8');
    const rewritten = final(text);
    if (rewritten !== text) await writeFileAtomic(file, rewritten);
  }
}
