import type { StatisticsReport } from './compute';

const fmt = (v: number) => v.toExponential(3);

/** Formats the lines `heat-lens stats` prints: the file written, counts per class, and the spectrum of each covariance. */
export function formatStatisticsReport(report: StatisticsReport): string[] {
  const lines: string[] = [];
  const what = report.kind === 'partial' ? `partial statistics (shard ${report.shard})` : 'statistics';
  lines.push(`Wrote ${what} to ${report.out}`);
  lines.push(`  ${report.images} images, D = ${report.dim} (${report.featureTensor}), ${report.classCount} classes, labels: ${report.labelSource}` +
    `${report.executionProvider ? `, provider ${report.executionProvider}` : ''}`);
  if (report.cells) {
    const c = report.cells;
    lines.push(`  feature cells: ${c.used} used; left out ${c.mixed} mixed${report.labelSource === 'prediction' ? ' or low-confidence' : ''}, ${c.ignore} void, ${c.anomaly} anomaly, ${c.unknown} outside the classes`);
  }
  lines.push('  cells per class:');
  for (const { id, name, cells } of report.counts) lines.push(`    ${String(id).padStart(3)} ${name.padEnd(16)} ${cells}${cells === 0 ? '  (empty, left out)' : ''}`);
  if (report.covariances.length > 0) {
    lines.push('  covariance spectra after regularisation (smallest eigenvalue, largest, condition number, ε added):');
    for (const r of report.covariances) {
      lines.push(`    ${r.name.padEnd(24)} ${fmt(r.smallestEigenvalue)}  ${fmt(r.largestEigenvalue)}  ${fmt(r.conditionNumber)}  ${fmt(r.epsilon)}` +
        `${r.nullDimensions > 0 ? `  rank-deficient by ${r.nullDimensions}` : ''}`);
    }
  }
  if (report.kind === 'final' && !report.covariances.some((r) => r.name.startsWith('class '))) {
    lines.push('  class-wise covariances not computed (set heat.statistics.covariance to "classwise" to include them)');
  }
  lines.push(`  time: ${report.seconds.pass.toFixed(1)} s pass, ${report.seconds.finalize.toFixed(1)} s finalisation, ${report.seconds.total.toFixed(1)} s total` +
    `${report.images > 0 && report.seconds.pass > 0 ? ` (${(report.images / report.seconds.pass).toFixed(2)} images/s)` : ''}`);
  return lines;
}
