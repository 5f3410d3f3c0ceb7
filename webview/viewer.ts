/**
 * Heatmap viewer webview. It renders the maps the host sends (as ArrayBuffers) in a grid with shared zoom
 * and pan, with a hover readout and a per-tile colour map and range.
 * Around the grid: an overlay, a threshold mask with metrics against the ground truth, the
 * reliability-weights panel and the checklist section. Class probabilities, files and settings stay with
 * the host.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import type { MapName } from '../src/core/api';
import { COLOR_MAP_NAMES, ColorMapName, RangeSpec, finiteStats } from '../src/core/render/colormap';
import { MethodEvaluation, MetricAccumulator } from '../src/core/eval/metrics';
import { unpackArray, unpackFloat32 } from '../src/protocol/maps';
import type { CheckLink, HostToViewer, PlacedCheck, ViewerImage, ViewerThresholds, ViewerToHost } from '../src/protocol/webview';
import { connect, h, paint } from './lib/host';
import {
  SCORE_TILES, TILE_TITLES, blend, formatValue, readout, renderGroundTruth, renderMask, renderPrediction, renderScoreTile, sliderPosition,
  startingThreshold, weightStats,
} from './lib/viewerModel';

type RangeMode = 'percentile' | 'minmax' | 'fixed';

interface TileState {
  name: string;
  canvas: HTMLCanvasElement;
  colormap: ColorMapName;
  range: RangeMode;
  fixed: [number, number];
}

interface Loaded {
  image: ViewerImage;
  maps: Partial<Record<MapName, Float32Array>>;
  prediction: Int32Array;
  rgba: Uint8Array;
  gt?: Uint8Array;
}

const host = connect<HostToViewer, ViewerToHost>(receive);
const app = document.getElementById('app')!;
let loaded: Loaded | undefined;
let checks: PlacedCheck[] = [];
const tiles = new Map<string, TileState>();
const view = { zoom: 1, panX: 0, panY: 0 };
let overlayMap: MapName = 'heat-normalized';
let opacity = 0.5;
let threshold = 0;
/** Validation thresholds of the workspace's latest evaluation, sent with each image. */
let validation: ViewerThresholds | undefined;
let accumulator: MetricAccumulator | undefined;
/** Per-image metrics of the selected map; for one image pooled and per-image coincide. */
let evaluation: MethodEvaluation | undefined;
let probeSeq = 0;
let defaultColormap: ColorMapName = 'viridis';
let batch: { images: string[]; index: number } = { images: [], index: 0 };

function receive(message: HostToViewer): void {
  switch (message.type) {
    case 'show':
      defaultColormap = message.colorMap;
      batch = message.batch;
      validation = message.thresholds;
      load(message.image);
      break;
    case 'checks':
      checks = message.checks;
      renderChecks();
      break;
    case 'probed':
      if (message.seq === probeSeq) showTopClasses(message.top, message.x, message.y);
      break;
    case 'exported':
      status(`Exported ${message.files} PNG files to ${message.folder}.`);
      break;
  }
}

function load(image: ViewerImage): void {
  const maps: Partial<Record<MapName, Float32Array>> = {};
  for (const [name, packed] of Object.entries(image.maps)) if (packed) maps[name as MapName] = unpackFloat32(packed);
  loaded = {
    image,
    maps,
    prediction: unpackArray(image.prediction) as Int32Array,
    rgba: unpackArray(image.imageRgba) as Uint8Array,
    gt: image.groundTruth ? (unpackArray(image.groundTruth) as Uint8Array) : undefined,
  };
  if (!maps[overlayMap]) overlayMap = (SCORE_TILES.find((n) => maps[n] && !n.startsWith('weight')) ?? 'energy') as MapName;
  const stats = finiteStats(maps[overlayMap] ?? []);
  threshold = stats.max ?? 0;
  build();
  selectThresholdMap(overlayMap);
}

/** Builds the whole page for the loaded image. */
function build(): void {
  if (!loaded) return;
  const { image } = loaded;
  tiles.clear();
  app.removeAttribute('aria-busy');
  app.replaceChildren(
    h('header', { id: 'header' },
      h('h1', { id: 'image-name', title: image.image }, image.image.split(/[\\/]/).pop() ?? image.image),
      h('span', { id: 'provider' }, `${image.width}×${image.height} · ${image.classCount} classes · ${image.executionProvider}`),
      ...image.notes.map((note) => h('p', { class: 'note' }, note))),
    toolbar(),
    h('section', { id: 'grid', 'aria-label': 'Maps', style: `--aspect: ${image.width} / ${image.height}` }, ...tileOrder().map(tile)),
    h('section', { id: 'readout', 'aria-live': 'polite' }, 'Hover a map to read every value at that pixel.'),
    weightsPanel(),
    h('section', { id: 'checks' }),
    h('p', { id: 'status', role: 'status' }),
  );
  renderAllTiles();
  renderChecks();
  applyView();
}

function tileOrder(): string[] {
  const names = ['image', 'prediction'];
  if (loaded?.gt) names.push('ground-truth');
  names.push('mask', ...SCORE_TILES.filter((n) => loaded?.maps[n]));
  return names;
}

function scoreNames(): MapName[] {
  return SCORE_TILES.filter((n) => loaded?.maps[n]) as MapName[];
}

function toolbar(): HTMLElement {
  const overlay = select('overlay-map', scoreNames().map((n) => [n, TILE_TITLES[n] ?? n]), overlayMap, (value) => { selectThresholdMap(value as MapName); });
  const opacitySlider = h('input', { id: 'opacity', type: 'range', min: 0, max: 100, value: Math.round(opacity * 100), 'aria-label': 'Overlay opacity' });
  opacitySlider.addEventListener('input', () => { opacity = Number(opacitySlider.value) / 100; renderTile('image'); });
  const thresholdSlider = h('input', { id: 'threshold', type: 'range', min: 0, max: 1000, value: 1000, 'aria-label': 'Threshold' });
  thresholdSlider.addEventListener('input', () => {
    const [low, high] = thresholdBounds();
    threshold = low + ((high - low) * Number(thresholdSlider.value)) / 1000;
    updateThreshold();
  });
  const button = (id: string, label: string, title: string, action: () => void) => {
    const b = h('vscode-button', { id, title, 'aria-label': title }, label);
    b.addEventListener('click', action);
    return b;
  };
  const fileName = (file: string) => file.split(/[\\/]/).pop() ?? file;
  const images = batch.images.length > 1
    ? h('label', { class: 'group' }, 'Image ', select('image-select', batch.images.map((file, i) => [String(i), fileName(file)]), String(batch.index),
      (value) => host.post({ type: 'selectImage', index: Number(value) }), 'Scored image'))
    : undefined;
  return h('section', { id: 'toolbar' },
    images,
    h('div', { class: 'group' },
      button('zoom-out', '−', 'Zoom out', () => zoomAt(1 / 1.25)),
      button('zoom-in', '+', 'Zoom in', () => zoomAt(1.25)),
      button('zoom-reset', '1:1', 'Reset zoom and pan', () => { Object.assign(view, { zoom: 1, panX: 0, panY: 0 }); applyView(); })),
    h('label', { class: 'group' }, 'Score ', overlay),
    h('label', { class: 'group' }, 'Overlay opacity ', opacitySlider),
    h('label', { class: 'group' }, 'Threshold ', thresholdSlider, h('output', { id: 'threshold-value' })),
    button('threshold-validation', 'Validation threshold', 'Set the threshold to the F1-optimal one of the last evaluation', () => {
      const value = validation?.values[overlayMap];
      if (value !== undefined) setThreshold(value);
    }),
    h('div', { id: 'metrics', class: 'group' }),
    button('export', 'Export PNG', 'Export every map as a PNG file', () => void exportPngs()),
  );
}

function select(id: string, options: [string, string][], value: string, onChange: (value: string) => void, label = id): HTMLElement {
  const element = h('vscode-single-select', { id, 'aria-label': label, class: 'select' },
    ...options.map(([v, text]) => h('vscode-option', { value: v, selected: v === value }, text)));
  element.addEventListener('change', () => onChange((element as unknown as { value: string }).value));
  return element;
}

function tile(name: string): HTMLElement {
  const canvas = h('canvas', { 'data-canvas': name });
  const viewport = h('div', { class: 'viewport', tabindex: 0, 'aria-label': `${TILE_TITLES[name] ?? name} map; arrow keys pan, + and − zoom` }, canvas);
  const state: TileState = { name, canvas, colormap: defaultColormap, range: 'percentile', fixed: [0, 1] };
  tiles.set(name, state);
  attachPointer(viewport, name);
  const children: (Node | undefined)[] = [h('div', { class: 'tile-title' }, TILE_TITLES[name] ?? name), viewport];
  if (loaded?.maps[name as MapName]) children.push(tileControls(state), h('div', { class: 'legend', 'data-legend': name }));
  if (name === 'mask') {
    // The colours of renderMask, which the tile does not explain otherwise.
    const key = loaded?.gt
      ? 'score ≥ threshold: white on anomaly pixels (hit), red on known pixels (false positive); blue: missed anomaly; dark: void'
      : 'red: score ≥ threshold (flagged as anomaly); black: below';
    children.push(h('div', { class: 'legend mask-key' }, key));
  }
  return h('figure', { class: 'tile', 'data-map': name }, ...children);
}

function tileControls(state: TileState): HTMLElement {
  const colormap = select(`colormap-${state.name}`, COLOR_MAP_NAMES.map((c) => [c, c]), state.colormap, (v) => { state.colormap = v as ColorMapName; renderTile(state.name); }, `Colour map of ${state.name}`);
  const low = h('input', { type: 'number', step: 'any', class: 'fixed-low', 'aria-label': `Fixed range low of ${state.name}`, value: state.fixed[0], hidden: true });
  const high = h('input', { type: 'number', step: 'any', class: 'fixed-high', 'aria-label': `Fixed range high of ${state.name}`, value: state.fixed[1], hidden: true });
  // The boxes always show the range in use: switching to "fixed" starts from the range shown until then.
  const showFixed = () => {
    low.value = String(state.fixed[0]);
    high.value = String(state.fixed[1]);
  };
  const range = select(`range-${state.name}`, [['percentile', '1–99 %'], ['minmax', 'min–max'], ['fixed', 'fixed']], state.range, (v) => {
    if (v === 'fixed' && state.range !== 'fixed') {
      state.fixed = [roundBound(state.fixed[0]), roundBound(state.fixed[1])];
      showFixed();
    }
    state.range = v as RangeMode;
    low.hidden = high.hidden = v !== 'fixed';
    renderTile(state.name);
  }, `Range of ${state.name}`);
  // A reversed range is swapped, and an empty or invalid one keeps the previous range.
  const onFixed = () => {
    const a = Number(low.value);
    const b = Number(high.value);
    if (low.value !== '' && high.value !== '' && Number.isFinite(a) && Number.isFinite(b) && a !== b) state.fixed = a < b ? [a, b] : [b, a];
    showFixed();
    renderTile(state.name);
  };
  low.addEventListener('change', onFixed);
  high.addEventListener('change', onFixed);
  return h('div', { class: 'tile-controls' }, colormap, range, low, high);
}

/** Rounds a range bound to 6 significant digits for the number boxes. */
function roundBound(value: number): number {
  return Number(value.toPrecision(6));
}

function rangeSpec(state: TileState): RangeSpec {
  if (state.range === 'fixed') return { mode: 'fixed', low: state.fixed[0], high: state.fixed[1] };
  return state.range === 'minmax' ? { mode: 'minmax' } : { mode: 'percentile', low: 1, high: 99 };
}

function renderAllTiles(): void {
  for (const name of tiles.keys()) renderTile(name);
}

function renderTile(name: string): void {
  const state = tiles.get(name);
  if (!state || !loaded) return;
  const { width, height, classCount } = loaded.image;
  const map = loaded.maps[name as MapName];
  if (map) {
    const { rgba, legend } = renderScoreTile(map, width, height, rangeSpec(state), state.colormap);
    paint(state.canvas, rgba, width, height);
    renderLegend(name, legend.min, legend.max, legend.shownRange, state.colormap, legend.rangeRule, legend.belowRange + legend.aboveRange);
    if (state.range !== 'fixed') state.fixed = legend.shownRange;
    return;
  }
  switch (name) {
    case 'image': {
      const score = loaded.maps[overlayMap];
      const scoreState = tiles.get(overlayMap);
      const rgba = score && scoreState && opacity > 0 ? blend(loaded.rgba, renderScoreTile(score, width, height, rangeSpec(scoreState), scoreState.colormap).rgba, opacity) : loaded.rgba;
      paint(state.canvas, rgba, width, height);
      break;
    }
    case 'prediction':
      paint(state.canvas, renderPrediction(loaded.prediction, width, height, classCount), width, height);
      break;
    case 'ground-truth':
      if (loaded.gt) paint(state.canvas, renderGroundTruth(loaded.gt), width, height);
      break;
    case 'mask': {
      const score = loaded.maps[overlayMap];
      if (score) paint(state.canvas, renderMask(score, threshold, loaded.gt), width, height);
      break;
    }
  }
}

/** Legend: colour bar over the shown range, with the real data extent beside it (the range is clamped). */
function renderLegend(name: string, min: number | null, max: number | null, shown: [number, number], colormap: ColorMapName, rule: string, clamped: number): void {
  const element = document.querySelector<HTMLElement>(`[data-legend="${name}"]`);
  if (!element) return;
  const bar = h('canvas', { class: 'legend-bar', width: 256, height: 1 });
  const ramp = new Float32Array(256).map((_, i) => i / 255);
  paint(bar, renderScoreTile(ramp, 256, 1, { mode: 'fixed', low: 0, high: 1 }, colormap).rgba, 256, 1);
  element.replaceChildren(
    h('span', { class: 'shown', 'data-shown-min': shown[0] }, formatValue(shown[0])),
    bar,
    h('span', { class: 'shown', 'data-shown-max': shown[1] }, formatValue(shown[1])),
    h('span', { class: 'real', title: `Real range of the data; colours use ${rule}${clamped ? `, ${clamped} pixels clamped to the end colours` : ''}` },
      'data ', h('span', { 'data-legend-min': min ?? '' }, min === null ? 'n/a' : formatValue(min)), ' … ', h('span', { 'data-legend-max': max ?? '' }, max === null ? 'n/a' : formatValue(max))),
  );
}

// ---- threshold and metrics ----

function thresholdBounds(): [number, number] {
  const stats = finiteStats(loaded?.maps[overlayMap] ?? []);
  return [stats.min ?? 0, stats.max ?? 1];
}

function selectThresholdMap(name: MapName): void {
  overlayMap = name;
  accumulator = undefined;
  evaluation = undefined;
  const map = loaded?.maps[name];
  if (map && loaded?.gt) {
    try {
      accumulator = new MetricAccumulator(name);
      accumulator.add(map, loaded.gt, loaded.image.image);
      evaluation = accumulator.finish();
    } catch (error) {
      accumulator = undefined;
      evaluation = undefined;
      status(`Metrics unavailable for ${name}: ${(error as Error).message}`);
    }
  }
  const tile = tiles.get(name);
  setThreshold(startingThreshold(map ?? [], validation?.values[name], tile?.range === 'fixed' ? tile.fixed[1] : undefined).value);
  renderTile('image');
}

/** Sets the threshold, moves the slider to it and redraws what depends on it. */
function setThreshold(value: number): void {
  threshold = value;
  const slider = document.getElementById('threshold') as HTMLInputElement | null;
  const [low, high] = thresholdBounds();
  if (slider) slider.value = String(sliderPosition(threshold, low, high));
  updateThreshold();
}

/** Shows the validation-threshold button when the shown map has one, with its value and source in the tooltip. */
function describeThresholdSource(): void {
  const button = document.getElementById('threshold-validation');
  if (!button) return;
  const value = validation?.values[overlayMap];
  button.hidden = value === undefined;
  if (value === undefined || !validation) return;
  const approximate = overlayMap === 'heat-normalized'
    ? ' The normalized map depends on the images normalized before it, so for it this threshold is approximate.' : '';
  button.setAttribute('title', `Set the threshold to ${formatValue(value)}, the F1-optimal threshold on the validation split (${validation.from}).${approximate}`);
  button.toggleAttribute('data-active', threshold === value);
}

function updateThreshold(): void {
  const output = document.getElementById('threshold-value');
  if (output) output.textContent = formatValue(threshold);
  describeThresholdSource();
  renderTile('mask');
  const metrics = document.getElementById('metrics');
  if (!metrics) return;
  if (!accumulator || !evaluation) {
    metrics.replaceChildren(h('span', { class: 'muted' }, loaded?.gt ? 'No metrics for this map.' : 'No ground truth for this image: it is in no configured split, or the engine sent no label for it.'));
    return;
  }
  const at = accumulator.thresholdStats(threshold);
  const value = (m: { value: number | null; reason?: string }) => (m.value === null ? 'n/a' : m.value.toFixed(3));
  const item = (key: string, label: string, m: { value: number | null; reason?: string }) => h('span', { 'data-metric': key, title: m.reason ?? '' }, `${label} ${value(m)}`);
  metrics.replaceChildren(
    item('precision', 'P', at.precision), item('recall', 'R', at.recall), item('f1', 'F1', at.f1),
    item('aupr', 'AUPR', evaluation.metrics.pooled.aupr), item('auroc', 'AUROC', evaluation.metrics.pooled.auroc),
  );
}

// ---- zoom, pan and hover ----

function baseScale(): number {
  const viewport = document.querySelector<HTMLElement>('.viewport');
  return viewport && loaded ? viewport.clientWidth / loaded.image.width : 1;
}

function applyView(): void {
  const scale = baseScale() * view.zoom;
  for (const state of tiles.values()) state.canvas.style.transform = `translate(${view.panX}px, ${view.panY}px) scale(${scale})`;
}

/** Zooms by `factor` keeping the point (cx, cy) of the viewport fixed; the centre when not given. */
function zoomAt(factor: number, cx?: number, cy?: number): void {
  const viewport = document.querySelector<HTMLElement>('.viewport');
  const x = cx ?? (viewport?.clientWidth ?? 0) / 2;
  const y = cy ?? (viewport?.clientHeight ?? 0) / 2;
  const zoom = Math.min(64, Math.max(1, view.zoom * factor));
  const applied = zoom / view.zoom;
  view.panX = x - (x - view.panX) * applied;
  view.panY = y - (y - view.panY) * applied;
  view.zoom = zoom;
  if (zoom === 1) { view.panX = 0; view.panY = 0; }
  applyView();
}

function attachPointer(viewport: HTMLElement, name: string): void {
  let drag: { x: number; y: number } | undefined;
  viewport.addEventListener('wheel', (event) => {
    event.preventDefault();
    const rect = viewport.getBoundingClientRect();
    zoomAt(event.deltaY < 0 ? 1.25 : 1 / 1.25, event.clientX - rect.left, event.clientY - rect.top);
  }, { passive: false });
  viewport.addEventListener('pointerdown', (event) => { drag = { x: event.clientX, y: event.clientY }; viewport.setPointerCapture(event.pointerId); });
  viewport.addEventListener('pointerup', () => { drag = undefined; });
  viewport.addEventListener('pointermove', (event) => {
    if (drag) {
      view.panX += event.clientX - drag.x;
      view.panY += event.clientY - drag.y;
      drag = { x: event.clientX, y: event.clientY };
      applyView();
    }
    const rect = viewport.getBoundingClientRect();
    const scale = baseScale() * view.zoom;
    hover(Math.floor((event.clientX - rect.left - view.panX) / scale), Math.floor((event.clientY - rect.top - view.panY) / scale), name);
  });
  viewport.addEventListener('keydown', (event) => {
    const step = 20;
    const moves: Record<string, () => void> = {
      '+': () => zoomAt(1.25), '=': () => zoomAt(1.25), '-': () => zoomAt(1 / 1.25), '0': () => zoomAt(1 / view.zoom),
      ArrowLeft: () => { view.panX += step; applyView(); }, ArrowRight: () => { view.panX -= step; applyView(); },
      ArrowUp: () => { view.panY += step; applyView(); }, ArrowDown: () => { view.panY -= step; applyView(); },
    };
    const move = moves[event.key];
    if (move) { event.preventDefault(); move(); }
  });
}

/** Shows every map's value at (x, y) and requests the top-3 classes there from the host. */
function hover(x: number, y: number, from: string): void {
  if (!loaded) return;
  const { width, height } = loaded.image;
  const arrays: Record<string, ArrayLike<number>> = { ...loaded.maps, prediction: loaded.prediction };
  if (loaded.gt) arrays['ground-truth'] = loaded.gt;
  const values = readout(arrays, ['prediction', 'ground-truth', ...SCORE_TILES], width, height, x, y);
  const element = document.getElementById('readout');
  if (!element || !values) return;
  const names = loaded.image.classNames;
  element.replaceChildren(
    h('div', { class: 'where', 'data-x': x, 'data-y': y }, `Pixel (${x}, ${y}) on ${TILE_TITLES[from] ?? from}`),
    h('dl', {}, ...values.flatMap(({ name, value }) => [
      h('dt', {}, TILE_TITLES[name] ?? name),
      h('dd', { 'data-value': name }, describeValue(name, value, names)),
    ])),
    h('div', { id: 'readout-classes' }, 'Top classes: …'),
  );
  probeSeq++;
  host.post({ type: 'probe', seq: probeSeq, x, y });
}

const GROUND_TRUTH_NAMES: Record<number, string> = { 0: 'known', 1: 'anomaly', 255: 'ignore' };

/** Formats a readout value: class names for the prediction, label names for the ground truth. */
function describeValue(name: string, value: number, classNames: string[]): string {
  if (name === 'prediction') return classNames[value] ?? `class ${value}`;
  if (name === 'ground-truth') return GROUND_TRUTH_NAMES[value] ?? String(value);
  return formatValue(value);
}

function showTopClasses(top: { classId: number; name: string; probability: number }[], x: number, y: number): void {
  const element = document.getElementById('readout-classes');
  if (!element) return;
  element.textContent = top.length === 0 ? `Top classes at (${x}, ${y}): not available.` : `Top classes: ${top.map((t) => `${t.name} ${(100 * t.probability).toFixed(1)} %`).join(', ')}`;
}

// ---- weights, checks, export ----

function weightsPanel(): HTMLElement {
  const stats = loaded ? weightStats(loaded.maps) : undefined;
  if (!stats) return h('section', { id: 'weights' }, h('h2', {}, 'Reliability weights'), h('p', { class: 'muted' }, 'No weight maps in this result.'));
  const row = (c: 'energy' | 'mahalanobis' | 'spatial') => h('tr', { 'data-weight': c },
    h('th', { scope: 'row' }, c), h('td', {}, stats.mean[c].toFixed(3)), h('td', {}, `${(100 * stats.dominant[c]).toFixed(1)} %`),
    h('td', { class: 'bar-cell' }, h('div', { class: `bar bar-${c}`, style: `width:${(100 * stats.mean[c]).toFixed(1)}%` })));
  return h('section', { id: 'weights' }, h('h2', {}, 'Reliability weights'),
    h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Component'), h('th', {}, 'Mean weight'), h('th', {}, 'Dominates'), h('th', {}, ''))),
      h('tbody', {}, row('energy'), row('mahalanobis'), row('spatial'))),
    stats.warning ? h('p', { id: 'weights-warning', class: 'warning', role: 'alert' }, stats.warning) : undefined);
}

function renderChecks(): void {
  const element = document.getElementById('checks');
  if (!element) return;
  const runButton = h('vscode-button', { id: 'run-checklist', secondary: true }, 'Run Validation Checklist');
  runButton.addEventListener('click', () => host.post({ type: 'runChecklist' }));
  if (checks.length === 0) {
    element.replaceChildren(h('h2', {}, 'Validation checklist'), h('p', { class: 'muted' }, 'No results yet for this configuration.'), runButton);
    return;
  }
  const phases = [...new Set(checks.map((c) => c.phase))].sort((a, b) => a - b);
  element.replaceChildren(h('h2', {}, 'Validation checklist'), runButton, ...phases.map((phase) =>
    h('div', { class: 'phase' }, h('h3', {}, `Phase ${phase}`), h('ul', {}, ...checks.filter((c) => c.phase === phase).map(checkItem)))));
}

function checkItem(check: PlacedCheck): HTMLElement {
  const links = check.links.map((link) => {
    const label = link.kind === 'setting' ? link.key : `${link.file.split(/[\\/]/).pop()}:${link.line + 1}`;
    const a = h('button', { class: 'link', 'data-link': label, title: link.kind === 'checklist' ? link.text : `Open ${link.key} in settings.json` }, label);
    a.addEventListener('click', () => host.post({ type: 'openLink', link: link as CheckLink }));
    return a;
  });
  return h('li', { 'data-check': check.id, 'data-status': check.status },
    h('span', { class: `status status-${check.status}` }, check.status), ' ', h('strong', {}, check.title),
    h('div', { class: 'evidence' }, check.evidence), ...(links.length ? [h('div', { class: 'links' }, ...links)] : []));
}

async function exportPngs(): Promise<void> {
  const files: { name: string; png: ArrayBuffer }[] = [];
  for (const state of tiles.values()) {
    const blob = await new Promise<Blob | null>((resolve) => state.canvas.toBlob(resolve, 'image/png'));
    if (blob) files.push({ name: `${state.name}.png`, png: await blob.arrayBuffer() });
  }
  host.post({ type: 'export', files });
}

function status(text: string): void {
  const element = document.getElementById('status');
  if (element) element.textContent = text;
}

window.addEventListener('resize', applyView);
host.post({ type: 'ready' });
