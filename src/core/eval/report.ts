/**
 * Evaluation reports: report.json (everything, machine-readable), report.md (a paper-like table with the
 * conventions, provenance and the guide's success criteria), report.csv (one row per method) and SVG plots
 * under plots/. Every file is written atomically.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { MethodMetrics, MetricValue } from '../api';
import { writeDirAtomic, writeFileAtomic } from '../fsutil';
import type { MethodEvaluation, PixelCounts } from './metrics';
import { renderPrCurves, renderRocCurves, renderScoreHistogram } from './plots';

/** Provenance of the numbers: model, statistics, configuration, hardware, split and time. */
export interface Provenance {
  model: { path: string; sha256: string };
  /** Class statistics file; null when Mahalanobis was off. */
  statistics: { path: string; sha256?: string } | null;
  /** The configuration file and the `heat.*` settings in effect. */
  config: { source: string; settings: Record<string, unknown> };
  executionProvider: string;
  /** Evaluated split, normally "test". */
  split: string;
  /** ISO 8601 start time. */
  startedAt: string;
  durationSeconds: number;
  /** Threshold origin: F1-optimal on the validation split, or none when no validation split is configured. */
  thresholdSource: 'validation' | 'none';
  /** Pixel subsampling, if any; it must be uniform over all pixels (AUPR depends on the class ratio). */
  subsampling?: string;
  toolVersion?: string;
}

export interface ReportInput {
  methods: MethodEvaluation[];
  provenance: Provenance;
  /** Method the guide's success criteria are judged on (default "heat"). */
  headline?: string;
}

export interface ReportFiles {
  json: string;
  markdown: string;
  csv: string;
  plots: string[];
}

/** The guide's success criteria for the pooled metrics, as fractions. */
export const SUCCESS_CRITERIA = [
  { level: 'minimum', aupr: 0.08, fpr95: 0.28, auroc: 0.89 },
  { level: 'target', aupr: 0.1, fpr95: 0.25, auroc: 0.9 },
  { level: 'stretch', aupr: 0.12, fpr95: 0.2, auroc: 0.92 },
] as const;

export type CriterionStatus = 'met' | 'not met' | 'undefined';

export interface CriterionJudgement {
  level: (typeof SUCCESS_CRITERIA)[number]['level'];
  metric: 'aupr' | 'fpr95' | 'auroc';
  /** "≥ 8 %" or "≤ 28 %". */
  requirement: string;
  value: number | null;
  status: CriterionStatus;
}

/** The conventions every report states, in order. */
export const CONVENTIONS = [
  'Anomaly pixels (label 1) are the positive class; known pixels (label 0) the negative; ignore/void pixels never count.',
  'Scores are raw, higher = more anomalous; no sigmoid, no clipping.',
  'AUPR = average precision (step-wise), as scikit-learn average_precision_score.',
  'AUROC as scikit-learn roc_auc_score: tied scores count half.',
  'FPR95 = false positive rate at the first threshold, scanning from high scores down, where TPR >= 0.95 (not the TPR nearest 0.95, not with the known class as positive).',
  'Pooled = over all evaluated pixels of the split together; per-image = mean of each image\'s own metric over the images that have both anomaly and known pixels (the others are counted as skipped).',
  'Thresholds are chosen F1-optimally on the validation split, never on the test split; a pixel is predicted anomaly when score >= threshold.',
];

/** Judges the pooled metrics of one method against the guide's minimum, target and stretch criteria. */
export function judgeCriteria(metrics: MethodMetrics): CriterionJudgement[] {
  return SUCCESS_CRITERIA.flatMap((criteria) => (['aupr', 'fpr95', 'auroc'] as const).map((metric): CriterionJudgement => {
    const limit = criteria[metric];
    const value = metrics.pooled[metric].value;
    const lowerIsBetter = metric === 'fpr95';
    let status: CriterionStatus = 'undefined';
    if (value !== null) {
      const met = lowerIsBetter ? value <= limit : value >= limit;
      status = met ? 'met' : 'not met';
    }
    return {
      level: criteria.level,
      metric,
      requirement: `${lowerIsBetter ? '≤' : '≥'} ${Number((limit * 100).toFixed(6))} %`,
      value,
      status,
    };
  }));
}

function totalCounts(input: ReportInput): PixelCounts {
  return input.methods[0]?.counts ?? { images: 0, known: 0, anomaly: 0, ignored: 0, nan: 0 };
}

/** Methods whose pixel counts differ from the first method's: they were not evaluated on the same pixels. */
function countMismatches(input: ReportInput): string[] {
  const reference = totalCounts(input);
  return input.methods
    .filter((m) => m.counts.known !== reference.known || m.counts.anomaly !== reference.anomaly || m.counts.ignored !== reference.ignored)
    .map((m) => m.metrics.method);
}

function headlineMethod(input: ReportInput): MethodEvaluation | undefined {
  const name = input.headline ?? 'heat';
  return input.methods.find((m) => m.metrics.method === name);
}

export interface ReportJson {
  format: 'heat-lens-eval-report';
  version: 1;
  conventions: string[];
  provenance: Provenance;
  pixels: PixelCounts;
  headline: string;
  criteria: CriterionJudgement[] | null;
  methods: {
    metrics: MethodMetrics;
    counts: PixelCounts;
    /** The given (validation) threshold applied to this split. */
    atThreshold: MethodEvaluation['atThreshold'];
    /** The best F1 reachable on this split itself: an optimistic reference, never a threshold to deploy. */
    oracleBestF1OnThisSplit: MethodEvaluation['bestF1'];
    curves: MethodEvaluation['curves'];
    histogram: MethodEvaluation['histogram'];
    images: MethodEvaluation['images'];
  }[];
  notes: string[];
}

function reportNotes(input: ReportInput): string[] {
  const notes: string[] = [];
  const mismatched = countMismatches(input);
  if (mismatched.length > 0) notes.push(`Pixel counts differ between methods (${mismatched.join(', ')}); they were not evaluated on the same pixels.`);
  for (const m of input.methods) {
    const auroc = m.metrics.pooled.auroc.value;
    if (auroc !== null && auroc < 0.5) {
      notes.push(`${m.metrics.method}: AUROC ${(auroc * 100).toFixed(2)} % is below chance, so the score is probably inverted (anomaly pixels score lower). Check its sign: higher must mean more anomalous.`);
    }
    if (m.metrics.computation === 'histogram') {
      notes.push(`${m.metrics.method}: pooled metrics come from a 2^20-bin histogram of the scores (more pixels than heat.eval.maxExactPixels); each value is given with the largest possible difference to the exact value.`);
    }
  }
  notes.push(input.provenance.subsampling ? `Subsampling: ${input.provenance.subsampling}.` : 'No subsampling: every labelled pixel of the split counts.');
  if (input.provenance.thresholdSource === 'none') {
    notes.push(input.provenance.split === 'val'
      ? 'The validation split is the split evaluated here, so no threshold is reported: a threshold chosen on the split it is applied to would flatter the result.'
      : 'No validation split is configured, so no threshold is reported: a threshold chosen on the test split would flatter the result.');
  }
  return notes;
}

export function buildReportJson(input: ReportInput): ReportJson {
  const headline = headlineMethod(input);
  return {
    format: 'heat-lens-eval-report',
    version: 1,
    conventions: [...CONVENTIONS],
    provenance: input.provenance,
    pixels: totalCounts(input),
    headline: input.headline ?? 'heat',
    criteria: headline ? judgeCriteria(headline.metrics) : null,
    methods: input.methods.map((m) => ({
      metrics: m.metrics,
      counts: m.counts,
      atThreshold: m.atThreshold,
      oracleBestF1OnThisSplit: m.bestF1,
      curves: m.curves,
      histogram: m.histogram,
      images: m.images,
    })),
    notes: reportNotes(input),
  };
}

/** Formats a metric as a percentage with two decimals, with "± bound" in histogram mode, or "n/a" when undefined. */
function cell(value: MetricValue): string {
  if (value.value === null) return 'n/a';
  const text = (value.value * 100).toFixed(2);
  return value.bound === undefined ? text : `${text} ± ${(value.bound * 100).toFixed(2)}`;
}

function markdownTable(header: string[], rows: string[][]): string[] {
  const escape = (s: string): string => s.replace(/\|/g, '\\|');
  return [
    `| ${header.map(escape).join(' | ')} |`,
    `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(escape).join(' | ')} |`),
  ];
}

function undefinedReasons(methods: MethodEvaluation[]): string[] {
  const lines: string[] = [];
  for (const m of methods) {
    const seen = new Set<string>();
    const values = [m.metrics.pooled.aupr, m.metrics.pooled.auroc, m.metrics.pooled.fpr95, m.metrics.perImage.aupr];
    for (const v of values) {
      if (v.value === null && v.reason && !seen.has(v.reason)) {
        seen.add(v.reason);
        lines.push(`- ${m.metrics.method}: n/a because ${v.reason}.`);
      }
    }
  }
  return lines;
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

export function renderReportMarkdown(input: ReportInput, plotFiles: string[] = []): string {
  const { provenance } = input;
  const pixels = totalCounts(input);
  const lines: string[] = ['# HEAT Lens evaluation', ''];
  lines.push(`Split **${provenance.split}**: ${count(pixels.images)} images, ${count(pixels.known)} known, ${count(pixels.anomaly)} anomaly and ${count(pixels.ignored)} ignored pixels.`, '');

  lines.push('## Results (%)', '');
  lines.push('AUPR and AUROC: higher is better; FPR95: lower is better.', '');
  lines.push(...markdownTable(
    ['Method', 'AUPR', 'FPR95', 'AUROC', 'AUPR per-image', 'FPR95 per-image', 'AUROC per-image', 'Images used / skipped'],
    input.methods.map(({ metrics: m }) => [
      m.method, cell(m.pooled.aupr), cell(m.pooled.fpr95), cell(m.pooled.auroc),
      cell(m.perImage.aupr), cell(m.perImage.fpr95), cell(m.perImage.auroc),
      `${m.perImage.imagesUsed} / ${m.perImage.imagesSkipped}`,
    ]),
  ));
  lines.push('', 'The first three columns are pooled over all evaluated pixels; the per-image columns are means of each image\'s own metric.');
  const reasons = undefinedReasons(input.methods);
  if (reasons.length > 0) lines.push('', ...reasons);

  lines.push('', '## Threshold', '');
  if (provenance.thresholdSource === 'validation') {
    lines.push('F1-optimal threshold chosen on the validation split, applied to this split (anomaly when score >= threshold):', '');
    lines.push(...markdownTable(['Method', 'Threshold', 'Precision', 'Recall', 'F1'], input.methods.map((m) => {
      const t = m.atThreshold;
      if (!t) return [m.metrics.method, 'n/a', 'n/a', 'n/a', 'n/a'];
      return [m.metrics.method, t.threshold.toPrecision(6), cell(t.precision), cell(t.recall), cell(t.f1)];
    })));
  } else {
    lines.push('No validation split is configured, so no threshold is reported (one chosen on the test split would flatter the result).');
  }

  const headline = headlineMethod(input);
  lines.push('', `## The guide's success criteria (${input.headline ?? 'heat'}, pooled)`, '');
  if (headline) {
    const judged = judgeCriteria(headline.metrics);
    lines.push(...markdownTable(['Level', 'AUPR', 'FPR95', 'AUROC'], SUCCESS_CRITERIA.map((c) => [
      c.level,
      ...(['aupr', 'fpr95', 'auroc'] as const).map((metric) => {
        const j = judged.find((x) => x.level === c.level && x.metric === metric)!;
        return `${j.requirement}: ${j.status}`;
      }),
    ])));
  } else {
    lines.push(`No method named "${input.headline ?? 'heat'}" was evaluated, so the criteria are not judged.`);
  }

  lines.push('', '## Conventions', '', ...CONVENTIONS.map((c) => `- ${c}`));
  const notes = reportNotes(input);
  lines.push('', '## Notes', '', ...notes.map((n) => `- ${n}`));

  lines.push('', '## Provenance', '');
  lines.push(`- Model: \`${provenance.model.path}\` (SHA-256 ${provenance.model.sha256})`);
  lines.push(provenance.statistics
    ? `- Statistics: \`${provenance.statistics.path}\`${provenance.statistics.sha256 ? ` (SHA-256 ${provenance.statistics.sha256})` : ''}`
    : '- Statistics: none (Mahalanobis off)');
  lines.push(`- Configuration: ${provenance.config.source ? `\`${provenance.config.source}\`` : 'defaults only'} (settings in report.json)`);
  lines.push(`- Execution provider: ${provenance.executionProvider}`);
  lines.push(`- Pixels: ${count(pixels.known)} known, ${count(pixels.anomaly)} anomaly, ${count(pixels.ignored)} ignored`);
  lines.push(`- Started ${provenance.startedAt}, took ${provenance.durationSeconds.toFixed(1)} s`);
  lines.push(`- Threshold source: ${provenance.thresholdSource === 'validation' ? 'validation split (F1-optimal)' : 'none'}`);
  if (provenance.toolVersion) lines.push(`- heat-lens ${provenance.toolVersion}`);

  if (plotFiles.length > 0) {
    lines.push('', '## Plots', '', ...plotFiles.map((file) => `![${path.basename(file, '.svg')}](${file})`));
  }
  lines.push('');
  return lines.join('\n');
}

function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Renders one CSV row per method, metrics as fractions (not percent) and empty where undefined. */
export function renderReportCsv(input: ReportInput): string {
  const header = [
    'method', 'computation',
    'pooled_aupr', 'pooled_aupr_bound', 'pooled_fpr95', 'pooled_fpr95_bound', 'pooled_auroc', 'pooled_auroc_bound',
    'per_image_aupr', 'per_image_fpr95', 'per_image_auroc', 'images_used', 'images_skipped',
    'threshold', 'threshold_source', 'precision', 'recall', 'f1',
    'known_pixels', 'anomaly_pixels', 'ignored_pixels',
  ];
  const rows = input.methods.map((m) => {
    const { pooled, perImage } = m.metrics;
    const t = m.atThreshold;
    return [
      m.metrics.method, m.metrics.computation ?? 'exact',
      pooled.aupr.value, pooled.aupr.bound, pooled.fpr95.value, pooled.fpr95.bound, pooled.auroc.value, pooled.auroc.bound,
      perImage.aupr.value, perImage.fpr95.value, perImage.auroc.value, perImage.imagesUsed, perImage.imagesSkipped,
      t?.threshold, t ? input.provenance.thresholdSource : 'none', t?.precision.value, t?.recall.value, t?.f1.value,
      m.counts.known, m.counts.anomaly, m.counts.ignored,
    ].map(csvField).join(',');
  });
  return `${[header.join(','), ...rows].join('\n')}\n`;
}

/** File name part for a method: lower case, letters, digits and dashes. */
export function methodSlug(method: string): string {
  return method.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'method';
}

/**
 * Writes report.json, report.md, report.csv and plots/*.svg under `outDir`, each file atomically. The plots
 * folder is replaced as a whole, so a histogram of a method that an earlier report had and this one lacks does
 * not stay beside the new plots.
 */
export async function writeReport(outDir: string, input: ReportInput): Promise<ReportFiles> {
  const plots: { file: string; svg: string }[] = [
    { file: 'plots/pr-curves.svg', svg: renderPrCurves(input.methods) },
    { file: 'plots/roc-curves.svg', svg: renderRocCurves(input.methods) },
  ];
  const used = new Set<string>();
  for (const m of input.methods) {
    if (m.histogram === null) continue;
    let slug = methodSlug(m.metrics.method);
    for (let i = 2; used.has(slug); i++) slug = `${methodSlug(m.metrics.method)}-${i}`;
    used.add(slug);
    plots.push({ file: `plots/histogram-${slug}.svg`, svg: renderScoreHistogram(m.metrics.method, m.histogram) });
  }
  await writeDirAtomic(path.join(outDir, 'plots'), async (dir) => {
    for (const plot of plots) await fs.writeFile(path.join(dir, path.basename(plot.file)), `${plot.svg}\n`);
  });

  const files: ReportFiles = {
    json: path.join(outDir, 'report.json'),
    markdown: path.join(outDir, 'report.md'),
    csv: path.join(outDir, 'report.csv'),
    plots: plots.map((p) => path.join(outDir, p.file)),
  };
  await writeFileAtomic(files.json, `${JSON.stringify(buildReportJson(input), null, 2)}\n`);
  await writeFileAtomic(files.csv, renderReportCsv(input));
  await writeFileAtomic(files.markdown, renderReportMarkdown(input, plots.map((p) => p.file)));
  return files;
}
