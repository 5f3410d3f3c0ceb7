/** Sweep table: rows appear as the engine measures them; sortable by any column; best AUPR marked. */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import type { SweepRow } from '../src/core/api';
import type { HostToSweep, SweepToHost } from '../src/protocol/webview';
import { connect, h } from './lib/host';

const host = connect<HostToSweep, SweepToHost>(receive);
const app = document.getElementById('app')!;
const rows: SweepRow[] = [];
let keys: string[] = [];
let title = 'Sweep';
let sortKey = 'aupr';
let descending = true;
let state = 'running';

const METRICS = [
  { key: 'aupr', label: 'AUPR', higherBetter: true, get: (r: SweepRow) => r.metrics.pooled.aupr.value },
  { key: 'fpr95', label: 'FPR95', higherBetter: false, get: (r: SweepRow) => r.metrics.pooled.fpr95.value },
  { key: 'auroc', label: 'AUROC', higherBetter: true, get: (r: SweepRow) => r.metrics.pooled.auroc.value },
];

function receive(message: HostToSweep): void {
  switch (message.type) {
    case 'started': title = message.title; keys = [...message.keys]; break;
    case 'row':
      rows.push(message.row);
      break;
    case 'finished':
      state = message.error ?? (message.split ? `finished on the ${message.split} split (${message.images} images)` : 'finished');
      break;
  }
  render();
}

function value(row: SweepRow, key: string): unknown {
  const metric = METRICS.find((m) => m.key === key);
  return metric ? metric.get(row) : row.config[key];
}

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  return typeof a === 'number' && typeof b === 'number' ? a - b : String(JSON.stringify(a)).localeCompare(JSON.stringify(b));
}

/** Shows a configuration value: strings without JSON quotes, everything else as JSON. */
function cell(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value) ?? '';
}

/** Index of the row with the highest pooled AUPR, the sweep's criterion. */
function bestIndex(): number {
  let best = -1;
  rows.forEach((r, i) => { const v = r.metrics.pooled.aupr.value; if (v !== null && (best < 0 || v > rows[best].metrics.pooled.aupr.value!)) best = i; });
  return best;
}

/** Columns: the grid's keys plus every configuration key whose value differs between rows. */
function columns(): string[] {
  const all = new Set(rows.flatMap((r) => Object.keys(r.config)));
  const varied = [...all].filter((k) => new Set(rows.map((r) => JSON.stringify(r.config[k]))).size > 1);
  return [...new Set([...keys, ...varied])];
}

function render(): void {
  const best = bestIndex();
  const shown = columns();
  const order = rows.map((_, i) => i).sort((i, j) => {
    const c = compare(value(rows[i], sortKey), value(rows[j], sortKey));
    return descending ? -c : c;
  });
  const header = (key: string, label: string) => {
    const sorted = key === sortKey;
    const direction = descending ? 'descending' : 'ascending';
    const th = h('th', { scope: 'col', 'aria-sort': sorted ? direction : 'none' });
    const arrow = descending ? ' ▼' : ' ▲';
    const button = h('button', { class: 'sort', 'data-sort': key }, sorted ? label + arrow : label);
    button.addEventListener('click', () => { descending = key === sortKey ? !descending : true; sortKey = key; render(); });
    th.append(button);
    return th;
  };
  const body = order.map((i) => {
    const row = rows[i];
    const apply = h('vscode-button', { secondary: true, 'data-apply': i, title: 'Write these values to the workspace settings' }, 'Apply');
    apply.addEventListener('click', () => host.post({ type: 'apply', config: row.config }));
    return h('tr', { 'data-row': i, class: i === best ? 'best' : undefined },
      ...shown.map((k) => h('td', {}, cell(row.config[k]))),
      ...METRICS.map((m) => { const v = m.get(row); return h('td', { class: 'number' }, v === null ? 'n/a' : v.toFixed(4)); }),
      h('td', {}, i === best ? h('span', { class: 'best-mark', title: 'Best pooled AUPR' }, '★ best') : ''), h('td', {}, apply));
  });
  app.replaceChildren(
    h('h1', {}, title),
    h('p', { id: 'sweep-state', role: 'status' }, `${rows.length} configurations · ${state}`),
    h('table', { id: 'sweep-table' },
      h('thead', {}, h('tr', {}, ...shown.map((k) => header(k, k)), ...METRICS.map((m) => header(m.key, m.label)), h('th', {}, ''), h('th', {}, ''))),
      h('tbody', {}, ...body)),
  );
}

host.post({ type: 'ready' });
