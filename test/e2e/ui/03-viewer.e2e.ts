// Right-click a test image in the explorer, Score Image, and read the viewer from inside its webview:
// every map tile with its title, legends with real ranges, and the hover readout at two known pixels, one
// on a large road area and one inside the anomaly, both found from the label file.
import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { FrameLocator, Page } from 'playwright-core';
import { formatValue } from '../../../webview/lib/viewerModel';
import { contextMenu, env, explorerRow, feature, findWebview, logErrorsSince, logMark, runFromPalette, screenshot, waitForLog, workbench } from './workbench';

const ROAD = 7;
const ANOMALY = 13;
const EXPECTED_MAPS = ['image', 'prediction', 'ground-truth', 'energy', 'mahalanobis', 'spatial', 'heat', 'heat-normalized',
  'weight-energy', 'weight-mahalanobis', 'weight-spatial'];
const SCORE_MAPS = ['energy', 'mahalanobis', 'spatial', 'heat', 'heat-normalized', 'weight-energy', 'weight-mahalanobis', 'weight-spatial'];

interface Pixel { x: number; y: number }

/** A pixel whose 7×7 neighbourhood holds only `label` (so resampling at the border cannot blur it). */
function interiorPixel(labels: Buffer, width: number, height: number, label: number): Pixel | undefined {
  let best: Pixel | undefined;
  for (let y = 3; y < height - 3; y++) {
    for (let x = 3; x < width - 3; x++) {
      let inside = true;
      for (let dy = -3; dy <= 3 && inside; dy++) for (let dx = -3; dx <= 3 && inside; dx++) inside = labels[(y + dy) * width + x + dx] === label;
      if (inside) best = { x, y };
      if (inside && label === ANOMALY) return best;
    }
  }
  return best;
}

/** The test image with the most anomaly pixels, and one road and one anomaly pixel in it. */
async function chooseImage(): Promise<{ name: string; road: Pixel; anomaly: Pixel; width: number }> {
  const dir = path.join(env.workspace, 'test');
  let chosen: { name: string; road: Pixel; anomaly: Pixel; width: number; count: number } | undefined;
  for (const name of readdirSync(path.join(dir, 'images')).filter((n) => n.endsWith('.png')).sort()) {
    const { data, info } = await sharp(path.join(dir, 'labels', name)).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    const count = data.reduce((n, v) => n + (v === ANOMALY ? 1 : 0), 0);
    if (chosen && count <= chosen.count) continue;
    const road = interiorPixel(data, info.width, info.height, ROAD);
    const anomaly = interiorPixel(data, info.width, info.height, ANOMALY);
    if (road && anomaly) chosen = { name, road, anomaly, width: info.width, count };
  }
  assert.ok(chosen, 'no test image has both a road area and an anomaly of at least 7×7 pixels');
  return chosen;
}

/** Moves the mouse to the centre of image pixel `p` on a tile and returns the readout's values. */
async function hoverPixel(page: Page, viewer: FrameLocator, map: string, p: Pixel, imageWidth: number): Promise<Record<string, string>> {
  const canvas = viewer.locator(`[data-map="${map}"] canvas`).first();
  const box = await canvas.boundingBox();
  assert.ok(box, `the ${map} tile has no canvas on screen`);
  const scale = box.width / imageWidth;
  await page.mouse.move(box.x + (p.x + 0.5) * scale, box.y + (p.y + 0.5) * scale);
  const where = viewer.locator(`#readout .where[data-x="${p.x}"][data-y="${p.y}"]`);
  await where.waitFor({ timeout: 10_000 });
  const values: Record<string, string> = {};
  for (const dd of await viewer.locator('#readout dd[data-value]').all()) {
    values[(await dd.getAttribute('data-value'))!] = (await dd.innerText()).trim();
  }
  return values;
}

describe('heatmap viewer', () => {
  let viewer: FrameLocator;
  let target: Awaited<ReturnType<typeof chooseImage>>;

  feature('right-click → Score Image on a test image opens the viewer', async () => {
    const { page } = await workbench();
    target = await chooseImage();
    const mark = logMark();
    const row = await explorerRow(page, `test/images/${target.name}`);
    await contextMenu(page, row, 'Score Image');
    await page.locator('.tab', { hasText: `HEAT: ${target.name}` }).first().waitFor({ timeout: 120_000 });
    await waitForLog(page, mark, new RegExp(`Scored .*${target.name.replace('.', '\\.')}`), 120_000);
    assert.deepEqual(logErrorsSince(mark), []);
    viewer = await findWebview(page, '[data-map="energy"]');
  });

  feature('shows every map with its title', async () => {
    const { page } = await workbench();
    await viewer.locator('[data-legend="heat"] [data-legend-min]').waitFor({ timeout: 30_000 });
    const maps = await viewer.locator('[data-map]').evaluateAll((tiles) => tiles.map((t) => ({
      map: t.getAttribute('data-map'), title: t.querySelector('.tile-title')?.textContent?.trim() ?? '' })));
    console.log(`      tiles: ${maps.map((m) => `${m.map} "${m.title}"`).join(', ')}`);
    const names = maps.map((m) => m.map);
    assert.deepEqual(EXPECTED_MAPS.filter((m) => !names.includes(m)), [], 'maps missing from the viewer');
    assert.deepEqual(maps.filter((m) => !m.title), [], 'tiles without a title');
    const titleOf = (m: string) => maps.find((t) => t.map === m)!.title;
    assert.match(titleOf('energy'), /energy/i);
    assert.match(titleOf('mahalanobis'), /mahalanobis/i);
    assert.match(titleOf('heat'), /heat/i);
    await screenshot(page, 'ui-03-viewer');
  });

  feature('legends give each score map its real, finite range', async () => {
    for (const map of SCORE_MAPS) {
      const legend = viewer.locator(`[data-legend="${map}"]`);
      const min = Number(await legend.locator('[data-legend-min]').getAttribute('data-legend-min'));
      const max = Number(await legend.locator('[data-legend-max]').getAttribute('data-legend-max'));
      assert.ok(Number.isFinite(min) && Number.isFinite(max) && min <= max, `${map} legend range ${min}..${max}`);
      if (map.startsWith('weight-')) assert.ok(min >= 0 && max <= 1 + 1e-6, `${map} weights outside 0..1: ${min}..${max}`);
    }
    const energyMax = Number(await viewer.locator('[data-legend="energy"] [data-legend-max]').getAttribute('data-legend-max'));
    assert.ok(energyMax < 0, `energy E = -T·logsumexp(z/T) is negative for confident logits; legend max ${energyMax}`);
  });

  feature('hover readout: road pixel predicted as road, anomaly pixel flagged, HEAT higher on the anomaly', async () => {
    const { page } = await workbench();
    const road = await hoverPixel(page, viewer, 'heat', target.road, target.width);
    const anomaly = await hoverPixel(page, viewer, 'heat', target.anomaly, target.width);
    console.log(`      road ${JSON.stringify(target.road)}: ${JSON.stringify(road)}`);
    console.log(`      anomaly ${JSON.stringify(target.anomaly)}: ${JSON.stringify(anomaly)}`);
    assert.equal(road['ground-truth'], 'known');
    assert.equal(anomaly['ground-truth'], 'anomaly');
    assert.equal(road.prediction, 'road');
    for (const map of ['energy', 'heat']) {
      assert.ok(Number(anomaly[map]) > Number(road[map]), `${map}: anomaly ${anomaly[map]} should exceed road ${road[map]} (higher = more anomalous)`);
    }
    await viewer.locator('#readout-classes', { hasText: /%/ }).waitFor({ timeout: 10_000 });
    await screenshot(page, 'ui-03-viewer-hover');
  });

  feature('after an evaluation the threshold starts at its validation threshold', async () => {
    const { page } = await workbench();
    let mark = logMark();
    await runFromPalette(page, 'HEAT: Evaluate Test Set');
    await waitForLog(page, mark, /Evaluate Test Set: (finished|cancelled)/, 300_000);
    assert.deepEqual(logErrorsSince(mark), []);
    // The newest evaluation folder under .heat-lens/ contains the report with the thresholds chosen on validation.
    const runs = path.join(env.workspace, '.heat-lens');
    const newest = readdirSync(runs).filter((d) => d.startsWith('eval')).map((d) => path.join(runs, d))
      .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
    const report = JSON.parse(readFileSync(path.join(newest, 'report.json'), 'utf8')) as { methods: { metrics: { method: string; threshold?: { value: number; source: string } } }[] };
    const heat = report.methods.find((m) => m.metrics.method === 'HEAT')?.metrics.threshold;
    assert.equal(heat?.source, 'validation', `report ${newest} has no validation threshold for HEAT`);

    mark = logMark();
    await contextMenu(page, await explorerRow(page, `test/images/${target.name}`), 'Score Image');
    await waitForLog(page, mark, new RegExp(`Scored .*${target.name.replace('.', '\\.')}`), 120_000);
    viewer = await findWebview(page, '[data-map="energy"]');
    // The overlay starts on normalized HEAT, whose evaluation method is "HEAT".
    await viewer.locator('#threshold-value', { hasText: formatValue(heat!.value) }).waitFor({ timeout: 30_000 });
    assert.ok(await viewer.locator('#threshold-validation').isVisible(), 'the validation threshold button is hidden');
    await screenshot(page, 'ui-03-viewer-validation-threshold');
  });
});
