// Renders each webview bundle in headless Chromium with a stand-in for the VS Code webview API and
// synthetic maps, and saves screenshots. A development aid: `node test/extension/preview/preview.mjs OUTDIR`.
import { chromium } from 'playwright-core';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');
const out = path.resolve(process.argv[2] ?? '/tmp/heat-preview');
mkdirSync(out, { recursive: true });

function page(script) {
  const file = path.join(out, `${script}.html`);
  writeFileSync(file, `<!DOCTYPE html><html><head><meta charset="utf-8"><link rel="stylesheet" href="file://${root}/media/webview.css">
<style>:root{--vscode-foreground:#ccc;--vscode-editor-background:#1e1e1e;--vscode-font-family:sans-serif;--vscode-font-size:13px;--vscode-panel-border:#444;--vscode-descriptionForeground:#999;--vscode-button-background:#0e639c;--vscode-charts-orange:#d18616;--vscode-charts-purple:#b180d7;--vscode-charts-green:#89d185;--vscode-textLink-foreground:#3794ff;--vscode-errorForeground:#f48771;--vscode-testing-iconPassed:#73c991;--vscode-editorWarning-foreground:#cca700;--vscode-editorWidget-background:#252526;--vscode-list-activeSelectionBackground:#04395e}</style>
</head><body><main id="app"></main><script src="file://${root}/dist/webview/${script}.js"></script></body></html>`);
  return `file://${file}`;
}

// Runs inside the page: posts what the host would post once the webview says it is ready.
function stub(kind) {
  window.posted = [];
  const W = 320, H = 180;
  const map = (f) => { const a = new Float32Array(W * H); for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) a[y * W + x] = f(x, y); return { type: 'float32', buffer: a.buffer, length: a.length }; };
  const blob = (x, y) => Math.exp(-((x - 220) ** 2 + (y - 100) ** 2) / 300);
  const send = (data) => window.dispatchEvent(new MessageEvent('message', { data }));
  const messages = {
    viewer: () => {
      const rgba = new Uint8Array(W * H * 4); for (let i = 0; i < W * H; i++) { const y = Math.floor(i / W); rgba.set(y > 90 ? [90, 90, 95, 255] : [120, 160, 210, 255], 4 * i); }
      const pred = new Int32Array(W * H); for (let i = 0; i < W * H; i++) pred[i] = Math.floor(i / W) > 90 ? 7 : 1;
      const gt = new Uint8Array(W * H); for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) gt[y * W + x] = blob(x, y) > 0.3 ? 1 : y < 5 ? 255 : 0;
      send({ type: 'show', colorMap: 'viridis', batch: { images: ['/ws/images/street_0000.png', '/ws/images/street_0001.png'], index: 1 }, image: { image: '/ws/images/street_0001.png', width: W, height: H, classCount: 13, classNames: [], executionProvider: 'cpu', notes: [],
        maps: { energy: map((x, y) => -30 + 20 * blob(x, y) + Math.sin(x / 9)), mahalanobis: map((x, y) => 5 + 10 * blob(x, y)), spatial: map((x, y) => 0.1 + blob(x, y)),
          heat: map((x, y) => blob(x, y) * 3 - 1), 'heat-normalized': map((x, y) => blob(x, y) * 4 - 1 + 0.3 * Math.cos(y / 7)),
          'weight-energy': map(() => 0.5), 'weight-mahalanobis': map((x) => 0.3 + 0.1 * (x > 160)), 'weight-spatial': map((x) => 0.2 - 0.1 * (x > 160)) },
        prediction: { type: 'int32', buffer: pred.buffer, length: pred.length }, imageRgba: { type: 'uint8', buffer: rgba.buffer, length: rgba.length }, groundTruth: { type: 'uint8', buffer: gt.buffer, length: gt.length } } });
      send({ type: 'checks', checks: [
        { id: 'phase4.padding', phase: 4, title: 'Border cells are not biased by padding', status: 'fail', evidence: 'Edge KL 0.405, interior 0.000 with padding "zero".', settings: ['heat.score.padding'], links: [{ kind: 'setting', key: 'heat.score.padding', file: '/ws/.vscode/settings.json', line: 3 }, { kind: 'checklist', file: '/ws/CHECKLIST.md', line: 12, text: 'Edge effects handled (padding)' }] },
        { id: 'phase5.weights-sum', phase: 5, title: 'Reliability weights add up to one', status: 'pass', evidence: 'Max |sum − 1| = 2.4e-7 over 57,600 pixels.', settings: [], links: [] }] });
    },
    sidebar: () => send({ type: 'latest', summary: { image: 'street_0001.png', width: W, height: H, heat: map((x, y) => blob(x, y)), weightMeans: { energy: 0.5, mahalanobis: 0.32, spatial: 0.18 }, numbers: [{ label: 'HEAT range', value: '-1.000 … 2.000' }, { label: 'Provider', value: 'cpu' }], colorMap: 'inferno' } }),
    sweep: () => {
      send({ type: 'started', title: 'Run Sweep', keys: ['temperature', 'alpha'] });
      let k = 0; for (const temperature of [0.5, 1, 2]) for (const alpha of [0.8, 0.9]) { k++; send({ type: 'row', row: { config: { temperature, alpha }, metrics: { method: 'heat', pooled: { aupr: { value: 0.05 + 0.01 * ((k * 7) % 5) }, fpr95: { value: 0.3 - 0.01 * k }, auroc: { value: 0.85 + 0.005 * k } }, perImage: { aupr: { value: null }, auroc: { value: null }, fpr95: { value: null }, imagesUsed: 0, imagesSkipped: 0 } } } }); }
      send({ type: 'finished' });
    },
    report: () => send({ type: 'report', title: 'Evaluation', folder: '/ws/.heat-lens/eval-1', notes: [], plots: [{ name: 'pr.svg', svg: '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="120"><polyline points="0,10 100,40 200,110" stroke="blue" fill="none"/><text x="10" y="110">PR</text></svg>' }],
      methods: [{ method: 'energy', pooled: { aupr: { value: 0.061 }, fpr95: { value: 0.31 }, auroc: { value: 0.88 } }, perImage: { aupr: { value: 0.07 }, fpr95: { value: 0.29 }, auroc: { value: 0.89 }, imagesUsed: 9, imagesSkipped: 1 }, threshold: { value: -12.3, source: 'validation' } },
        { method: 'heat', pooled: { aupr: { value: 0.104 }, fpr95: { value: 0.24 }, auroc: { value: 0.912 } }, perImage: { aupr: { value: null, reason: 'no images' }, fpr95: { value: null }, auroc: { value: null }, imagesUsed: 0, imagesSkipped: 10 } }] }),
  };
  window.acquireVsCodeApi = () => ({ postMessage: (m) => { window.posted.push(m); if (m.type === 'ready') setTimeout(messages[kind], 0); }, getState: () => undefined, setState: () => {} });
}

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--allow-file-access-from-files'] });
const errors = [];
for (const [kind, size] of [['viewer', { width: 1300, height: 1500 }], ['sidebar', { width: 300, height: 400 }], ['sweep', { width: 800, height: 360 }], ['report', { width: 1000, height: 500 }]]) {
  const p = await browser.newPage({ viewport: size });
  p.on('pageerror', (e) => errors.push(`${kind}: ${e.message}`));
  p.on('console', (m) => { if (m.type() === 'error') errors.push(`${kind}: ${m.text()}`); });
  await p.addInitScript(stub, kind);
  await p.goto(page(kind));
  await p.waitForTimeout(800);
  if (kind === 'viewer') {
    const box = await p.locator('[data-map="energy"] .viewport').boundingBox();
    await p.mouse.move(box.x + box.width * 0.68, box.y + box.height * 0.55);
    await p.waitForTimeout(200);
    console.log('readout:', (await p.locator('#readout').innerText()).replace(/\n/g, ' | '));
    console.log('legend energy:', await p.locator('[data-legend="energy"]').innerText());
    console.log('metrics:', await p.locator('#metrics').innerText());
    console.log('weights:', (await p.locator('#weights').innerText()).replace(/\n/g, ' | '));
    console.log('posted:', JSON.stringify(await p.evaluate(() => window.posted.map((m) => m.type))));
  }
  await p.screenshot({ path: path.join(out, `${kind}.png`), fullPage: kind !== 'sidebar' });
  await p.close();
}
await browser.close();
console.log(errors.length ? `ERRORS:\n${errors.join('\n')}` : 'no page errors');
