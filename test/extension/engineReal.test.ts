import { strict as assert } from 'node:assert';
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { EngineClient } from '../../src/extension/engineClient';
import sharp from 'sharp';
import { loadConfig, withOverrides } from '../../src/core/config';
import type { EngineError } from '../../src/protocol/engine';
import { computeStatistics } from '../../src/core/stats';
import { mkdtempSync } from 'node:fs';
import * as os from 'node:os';

const root = path.join(__dirname, '..', '..');
const engineJs = path.join(root, 'dist', 'engine.js');
const sample = path.join(root, 'samples', 'street');

/** The sample's settings with statistics computed into a temporary folder, since the sample ships none. */
let statisticsPath = '';
async function sampleConfig() {
  return withOverrides(await loadConfig(undefined, sample), { 'heat.statistics.path': statisticsPath });
}

describe('engine process on the sample workspace', function () {
  let engine: EngineClient;
  before(async function () {
    if (!existsSync(engineJs) || !existsSync(path.join(sample, 'model.onnx'))) {
      console.log(`skipped: needs ${engineJs} (npm run build) and ${sample}/model.onnx`);
      this.skip();
    }
    statisticsPath = path.join(mkdtempSync(path.join(os.tmpdir(), 'heat-engine-')), 'statistics.safetensors');
    await computeStatistics(await loadConfig(undefined, sample), { out: statisticsPath });
    engine = new EngineClient({ enginePath: engineJs });
  });
  after(() => engine?.dispose());

  it('score: real maps, prediction and probabilities cross the process as typed arrays', async () => {
    const config = await sampleConfig();
    const images = readdirSync(path.join(sample, 'test', 'images')).filter((f) => f.endsWith('.png')).slice(0, 2).map((f) => path.join(sample, 'test', 'images', f));
    const providers: string[] = [];
    (engine as unknown as { options: { onProvider(p: string): void } }).options.onProvider = (p) => providers.push(p);
    const { results, failures } = await engine.run(config, { kind: 'score', images });
    assert.deepEqual(failures, []);
    assert.equal(results.length, 2);
    const scored = results[0];
    const heat = scored.maps.heat!;
    assert.ok(heat.data instanceof Float32Array);
    assert.equal(heat.data.length, heat.width * heat.height);
    assert.ok(scored.prediction instanceof Int32Array);
    assert.equal(scored.probabilities.length, scored.classCount * heat.width * heat.height, 'probabilities come back for the viewer');
    assert.equal(scored.imageRgba.length, 4 * heat.width * heat.height);
    assert.ok(scored.maps['weight-energy'], 'weights are returned');
    assert.ok(scored.maps.mahalanobis, 'Mahalanobis is on, since the sample configures statistics');
    assert.equal(providers.at(-1), scored.summary.executionProvider);
  });

  it('score: a test-split image carries its anomaly ground truth at map resolution', async () => {
    const config = await sampleConfig();
    const image = path.join(sample, 'test', 'images', readdirSync(path.join(sample, 'test', 'images')).sort()[0]);
    const labelFile = path.join(sample, 'test', 'labels', path.basename(image));
    const { results } = await engine.run(config, { kind: 'score', images: [image] });
    const scored = results[0];
    const heat = scored.maps.heat!;
    const gt = scored.groundTruth!;
    assert.ok(gt instanceof Uint8Array);
    assert.equal(gt.length, heat.width * heat.height);
    const raw = await sharp(labelFile).raw().toBuffer({ resolveWithObject: true });
    assert.equal(raw.info.width, heat.width, 'the sample labels share the map grid, so values compare one to one');
    // The sample stores class ids with 13 = anomaly and 255 = void (its settings: labels.anomaly [13], ignore [255]).
    const anomalyOf = (v: number) => {
      if (v === 13) return 1;
      if (v === 255) return 255;
      return 0;
    };
    const expected = [...raw.data.filter((_, i) => i % raw.info.channels === 0)].map(anomalyOf);
    assert.deepEqual([...gt], expected);
  });

  it('score: an image outside every split has no ground truth', async () => {
    const config = await sampleConfig();
    const outside = path.join(sample, 'test', 'images', readdirSync(path.join(sample, 'test', 'images')).sort()[0]);
    const withoutTestSplit = withOverrides(config, { 'heat.data.test.images': '' });
    const { results } = await engine.run(withoutTestSplit, { kind: 'score', images: [outside] });
    assert.equal(results[0].groundTruth, undefined);
  });

  it('inspect: lists the sample model tensors with the configured logits output', async () => {
    const config = await sampleConfig();
    const inspection = await engine.run(config, { kind: 'inspect', model: path.join(sample, 'model.onnx') });
    assert.ok(inspection.outputs.some((t) => t.name === 'logits'));
    assert.ok(inspection.intermediates.length > 0);
  });

  it('bad input: missing image and model', async () => {
    const config = await sampleConfig();
    const { failures } = await engine.run(config, { kind: 'score', images: [path.join(sample, 'nope.png')] });
    assert.equal(failures.length, 1);
    assert.match(failures[0].error, /nope\.png/);
    await assert.rejects(engine.run(config, { kind: 'inspect', model: path.join(sample, 'missing.onnx') }), (e: EngineError) => /missing\.onnx/.test(e.message));
  });

  it('sweep: rows stream live, one per configuration, before the result', async () => {
    const config = await sampleConfig();
    const rows: unknown[] = [];
    const result = await engine.run(config, { kind: 'sweep', grid: { temperature: [1, 2] } }, { onRow: (row) => rows.push(row.config.temperature) });
    assert.deepEqual([...rows].sort(), [1, 2]);
    assert.equal(result.rows.length, 2);
    assert.equal(result.forwardPasses, result.images, 'one forward pass per image for the whole grid');
  });

  it('checklist phase 4: results carry status, evidence and settings', async () => {
    const config = await sampleConfig();
    const results = await engine.run(config, { kind: 'checklist', phase: 4 });
    assert.ok(results.length > 0);
    for (const r of results) {
      assert.equal(r.phase, 4);
      assert.ok(['pass', 'warn', 'fail', 'skip'].includes(r.status), r.status);
      assert.ok(r.evidence.length > 0, r.id);
    }
  });
});
