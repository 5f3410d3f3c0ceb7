/** Side view: HEAT map of the latest scored image, the weights bar and key numbers; click opens the viewer. */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import { unpackFloat32 } from '../src/protocol/maps';
import type { HostToSidebar, SidebarSummary, SidebarToHost } from '../src/protocol/webview';
import { connect, h, paint } from './lib/host';
import { renderScoreTile } from './lib/viewerModel';

const host = connect<HostToSidebar, SidebarToHost>(receive);
const app = document.getElementById('app')!;

function receive(message: HostToSidebar): void {
  if (message.type === 'empty') {
    const score = h('vscode-button', { id: 'score-image' }, 'Score Image…');
    score.addEventListener('click', () => host.post({ type: 'scoreImage' }));
    app.replaceChildren(h('p', { id: 'empty', class: 'muted' }, message.reason), score);
    return;
  }
  show(message.summary);
}

function show(summary: SidebarSummary): void {
  const heat = unpackFloat32(summary.heat);
  const canvas = h('canvas', { id: 'latest-heat', class: 'thumb' });
  const { rgba, legend } = renderScoreTile(heat, summary.width, summary.height, { mode: 'percentile', low: 1, high: 99 }, summary.colorMap);
  paint(canvas, rgba, summary.width, summary.height);
  const open = h('button', { id: 'open-viewer', class: 'thumb-button', title: 'Open the heatmap viewer', 'aria-label': `Open ${summary.image} in the heatmap viewer` }, canvas);
  open.addEventListener('click', () => host.post({ type: 'openViewer' }));
  const w = summary.weightMeans;
  const finite = [w.energy, w.mahalanobis, w.spatial].every(Number.isFinite);
  const weights = finite
    ? h('div', { id: 'weights-bar', class: 'weights-bar', title: `Mean weights: energy ${w.energy.toFixed(2)}, Mahalanobis ${w.mahalanobis.toFixed(2)}, spatial ${w.spatial.toFixed(2)}` },
      ...(['energy', 'mahalanobis', 'spatial'] as const).map((c) => h('div', { class: `bar-${c}`, 'data-weight': c, style: `width:${(100 * w[c]).toFixed(1)}%` })))
    : h('p', { class: 'muted' }, 'No weight maps.');
  // The bar's colours named with their mean weights, since the bar alone has only a hover title.
  const weightKey = finite
    ? h('div', { class: 'legend weights-key' }, ...(['energy', 'mahalanobis', 'spatial'] as const).map((c) =>
      h('span', { class: `key-${c}` }, `${c === 'mahalanobis' ? 'Mahalanobis' : c} ${w[c].toFixed(2)} `)))
    : undefined;
  app.replaceChildren(
    h('h2', { id: 'latest-name' }, summary.image),
    open,
    h('div', { class: 'legend' }, `shown ${legend.shownRange[0].toPrecision(3)} … ${legend.shownRange[1].toPrecision(3)}`),
    weights,
    ...(weightKey ? [weightKey] : []),
    h('dl', { id: 'numbers' }, ...summary.numbers.flatMap((n) => [h('dt', {}, n.label), h('dd', {}, n.value)])),
  );
}

host.post({ type: 'ready' });
