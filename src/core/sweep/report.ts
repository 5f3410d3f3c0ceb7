/**
 * Sweep and ablation reports: a terminal table sorted by pooled AUPR (FPR95 and AUROC beside it), the best
 * configuration as a `heat.*` settings snippet, and results.json, results.csv and report.md. Each file is
 * written atomically and rewritten after every finished configuration, so a cancelled run keeps its rows.
 */
import * as path from 'node:path';
import { writeFileAtomic } from '../fsutil';
import { HEAT_COMPONENTS, type HeatComponent } from '../heat';
import { GRID_KEYS } from './grid';
import { bestConfiguration, sortByAupr, type SweepConfigurationResult, type SweepResult } from './run';

export interface SweepFiles {
  json: string;
  csv: string;
  markdown: string;
}

const percent = (v: number | null | undefined, width = 6) => (v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : (100 * v).toFixed(2)).padStart(width);

/** Formats a share as a whole percentage, keeping "<1%" and ">99%" apart from exactly 0 % and 100 %. */
function shareText(share: number): string {
  if (!Number.isFinite(share)) return 'n/a';
  if (share > 0 && share < 0.005) return '<1%';
  if (share < 1 && share > 0.995) return '>99%';
  return `${Math.round(100 * share)}%`;
}

function dominanceText(row: SweepConfigurationResult): string {
  return HEAT_COMPONENTS.filter((c) => row.dominance[c] !== undefined)
    .map((c) => `${c[0].toUpperCase()} ${shareText(row.dominance[c] as number)}`).join(' ');
}

/** Plain-text table for the terminal, best AUPR first. */
export function formatSweepTable(result: SweepResult): string {
  const rows = sortByAupr(result.rows);
  const width = Math.max(13, ...rows.map((r) => r.label.length));
  const header = `${'configuration'.padEnd(width)} ${'AUPR'.padStart(6)} ${'FPR95'.padStart(6)} ${'AUROC'.padStart(6)}  dominance (share of pixels)`;
  const lines = [header, '-'.repeat(header.length)];
  for (const r of rows) {
    const p = r.metrics.pooled;
    lines.push(`${r.label.padEnd(width)} ${percent(p.aupr.value)} ${percent(p.fpr95.value)} ${percent(p.auroc.value)}  ${dominanceText(r)}`);
  }
  lines.push(`Pooled over the ${result.split} split (${result.images} images, ${result.forwardPasses} model forward passes); values in %.`
    + (result.split === 'val' ? '' : ` Tuned on the ${result.split} split, so these are not held-out results.`)
    + (result.complete ? '' : ` Incomplete: ${result.rows.length} of ${result.configurationCount} configurations finished.`));
  return lines.join('\n');
}

/** Formats the best configuration as JSON to paste into .vscode/settings.json. */
export function formatBestSnippet(result: SweepResult): string {
  const best = bestConfiguration(result);
  return best ? JSON.stringify(best.settings, null, 2) : '{}';
}

function csvCell(value: unknown): string {
  let text = '';
  if (Array.isArray(value)) text = value.join('+');
  else if (value !== null && value !== undefined) text = String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function sweepCsv(result: SweepResult): string {
  const header = ['rank', 'label', ...GRID_KEYS, 'aupr', 'fpr95', 'auroc', 'perImageAupr', 'perImageFpr95', 'perImageAuroc',
    ...HEAT_COMPONENTS.map((c) => `dominance_${c}`)];
  const lines = [header.join(',')];
  sortByAupr(result.rows).forEach((r, k) => {
    const m = r.metrics;
    lines.push([k + 1, r.label, ...GRID_KEYS.map((key) => r.configuration[key]), m.pooled.aupr.value, m.pooled.fpr95.value, m.pooled.auroc.value,
      m.perImage.aupr.value, m.perImage.fpr95.value, m.perImage.auroc.value, ...HEAT_COMPONENTS.map((c) => r.dominance[c as HeatComponent])].map(csvCell).join(','));
  });
  return `${lines.join('\n')}\n`;
}

/** Markdown table of the rows, best first (also used for docs/results.md). */
export function sweepMarkdownTable(result: SweepResult): string {
  const varied = result.varied.length > 0 ? result.varied : (['temperature'] as const);
  const lines = [
    `| # | ${varied.join(' | ')} | AUPR % | FPR95 % | AUROC % | dominance |`,
    `|---|${varied.map(() => '---').join('|')}|---:|---:|---:|---|`,
  ];
  sortByAupr(result.rows).forEach((r, k) => {
    const p = r.metrics.pooled;
    const values = varied.map((key) => {
      const v = r.configuration[key];
      return Array.isArray(v) ? v.join('+') : String(v);
    });
    lines.push(`| ${k + 1} | ${values.join(' | ')} | ${percent(p.aupr.value, 0)} | ${percent(p.fpr95.value, 0)} | ${percent(p.auroc.value, 0)} | ${dominanceText(r)} |`);
  });
  return lines.join('\n');
}

export function sweepMarkdown(result: SweepResult): string {
  const best = bestConfiguration(result);
  const zRows = result.rows.filter((r) => r.standardization);
  const lines = [
    `# HEAT Lens ${result.title}`,
    '',
    `- Split: ${result.split} (${result.images} images); model forward passes: ${result.forwardPasses}.`,
    ...(result.split === 'val' ? [] : [`- Tuned on the ${result.split} split: these numbers are not held-out results.`]),
    `- Configurations: ${result.rows.length} of ${result.configurationCount} finished${result.cancelled ? ' (cancelled)' : ''}.`,
    `- Execution provider: ${result.executionProvider}; ${result.durationSeconds.toFixed(1)} s; started ${result.startedAt}.`,
    `- Configuration file: ${result.configSource || '(defaults)'}.`,
    ...result.statistics.map((s) => `- Statistics of layer ${s.layer} ("${s.featureTensor}"): ${s.source} ${s.file}.`),
    ...(result.statisticsPasses > 0 ? [`- Passes over the training split for statistics: ${result.statisticsPasses}.`] : []),
    '',
    'Sorted by pooled AUPR (higher is better); FPR95 (lower is better) and AUROC beside it. Dominance: share of',
    'pixels where each component\'s weighted term is the largest (E energy, M Mahalanobis, S spatial).',
    '',
    sweepMarkdownTable(result),
    '',
  ];
  if (best) {
    lines.push('## Best configuration', '', `${best.row.label}: AUPR ${percent(best.row.metrics.pooled.aupr.value, 0)} %.`, '', '```json', JSON.stringify(best.settings, null, 2), '```', '');
  }
  if (zRows.length > 0) {
    lines.push('## z-score constants (known pixels of the split)', '', '| configuration | component | mean | std |', '|---|---|---:|---:|');
    for (const r of zRows) {
      for (const [c, z] of Object.entries(r.standardization ?? {})) lines.push(`| ${r.label} | ${c} | ${z.mean.toPrecision(6)} | ${z.std.toPrecision(6)} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

/** JSON has no NaN; non-finite numbers are written as null. */
function jsonNumbers(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}

export async function writeSweepFiles(outDir: string, result: SweepResult): Promise<SweepFiles> {
  const files: SweepFiles = { json: path.join(outDir, 'results.json'), csv: path.join(outDir, 'results.csv'), markdown: path.join(outDir, 'report.md') };
  const best = bestConfiguration(result);
  const { files: _files, ...body } = result;
  const json = { ...body, best: best ? { label: best.row.label, settings: best.settings } : null };
  await writeFileAtomic(files.json, `${JSON.stringify(json, jsonNumbers, 2)}\n`);
  await writeFileAtomic(files.csv, sweepCsv(result));
  await writeFileAtomic(files.markdown, sweepMarkdown(result));
  return files;
}
