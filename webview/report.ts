/** Evaluation report: pooled and per-image metrics per method, and the PR/ROC plots of the report folder. */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import type { MetricValue } from '../src/core/api';
import type { HostToReport, ReportToHost } from '../src/protocol/webview';
import { connect, h } from './lib/host';

const host = connect<HostToReport, ReportToHost>(receive);
const app = document.getElementById('app')!;

function cell(m: MetricValue): HTMLElement {
  return h('td', { class: 'number', title: m.reason ?? '' }, m.value === null ? 'n/a' : m.value.toFixed(4));
}

function receive(report: HostToReport): void {
  const open = h('vscode-button', { id: 'open-folder', secondary: true }, 'Open Report Folder');
  open.addEventListener('click', () => host.post({ type: 'openFolder' }));
  const rows = report.methods.map((m) => h('tr', { 'data-method': m.method },
    h('th', { scope: 'row' }, m.method), cell(m.pooled.aupr), cell(m.pooled.fpr95), cell(m.pooled.auroc),
    cell(m.perImage.aupr), cell(m.perImage.fpr95), cell(m.perImage.auroc),
    h('td', { class: 'number' }, `${m.perImage.imagesUsed} / ${m.perImage.imagesUsed + m.perImage.imagesSkipped}`),
    h('td', { class: 'number' }, m.threshold ? `${m.threshold.value.toPrecision(4)} (${m.threshold.source})` : 'n/a')));
  // SVG through <img> from a blob: URL: scripts inside an SVG image never run.
  const plots = report.plots.map((p) => h('figure', { class: 'plot', 'data-plot': p.name },
    h('img', { src: URL.createObjectURL(new Blob([p.svg], { type: 'image/svg+xml' })), alt: p.name }), h('figcaption', {}, p.name)));
  app.replaceChildren(
    h('h1', {}, report.title),
    h('p', { class: 'muted' }, report.folder ? `Report folder: ${report.folder}` : 'No report folder.'), open,
    h('p', { class: 'muted' }, 'AUPR is average precision with the anomaly as the positive class; FPR95 is the false positive rate at the first threshold reaching 95 % TPR; AUROC counts ties half.'),
    h('table', { id: 'metrics-table' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Method'), h('th', {}, 'AUPR'), h('th', {}, 'FPR95'), h('th', {}, 'AUROC'),
        h('th', {}, 'AUPR / image'), h('th', {}, 'FPR95 / image'), h('th', {}, 'AUROC / image'), h('th', {}, 'Images used'), h('th', {}, 'Threshold'))),
      h('tbody', {}, ...rows)),
    ...report.notes.map((n) => h('p', { class: 'note' }, n)),
    h('section', { id: 'plots' }, ...plots),
  );
}

host.post({ type: 'ready' });
