import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { makeConfig } from '../../src/core/config';
import { CancelledError, HeatError } from '../../src/core/errors';
import { ElemType, encodeModel, GraphBuilder } from '../../src/core/heat/graph';
import { memoryLogger } from '../../src/core/log';
import { scoreImages } from '../../src/core/pipeline/score';
import { HeatSession } from '../../src/core/pipeline/session';

const REPO = path.resolve(__dirname, '..', '..');
const SAMPLE = path.join(REPO, 'samples', 'street');
const CLI = path.join(REPO, 'dist', 'cli.js');

/** A 3-class "segmentation model" whose logits are built from the image by `logits`. */
function tinyModel(dir: string, name: string, logits: (g: GraphBuilder, x: string) => string, dtype: number = ElemType.FLOAT): string {
  const g = new GraphBuilder('');
  const x = g.input('image', ElemType.FLOAT, [1, 3, 8, 8]);
  const out = g.alias(logits(g, x), 'logits');
  g.output(out, dtype, [1, 3, 8, 8]);
  const file = path.join(dir, `${name}.onnx`);
  writeFileSync(file, encodeModel(g.toModel()));
  return file;
}

async function writeImage(file: string, channels: 1 | 3 | 4): Promise<string> {
  const data = Buffer.alloc(8 * 8 * channels, 100);
  await sharp(data, { raw: { width: 8, height: 8, channels } }).png().toFile(file);
  return file;
}

describe('scoreImages', () => {
  let dir: string;
  before(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'heat-score-')); });

  it('cancel keeps finished folders', async () => {
    const config = makeConfig({ 'heat.model.path': path.join(SAMPLE, 'model.onnx'), 'heat.model.inputSize': [128, 256] }, SAMPLE);
    const images = ['test_000.png', 'test_001.png', 'test_002.png'].map((f) => path.join(SAMPLE, 'test', 'images', f));
    const out = path.join(dir, 'cancelled');
    const controller = new AbortController();
    // report(i) comes before image i, so aborting at 1 stops after the first image.
    const progress = { report: (done: number) => { if (done === 1) controller.abort(); } };
    await assert.rejects(scoreImages(config, images, { outDir: out, signal: controller.signal, progress }), (e: Error) =>
      e instanceof CancelledError && /^Scoring was cancelled after 1 of 3 images; the folders of those images in .* are complete and kept\.$/.test(e.message));
    assert.deepEqual(readdirSync(out), ['test_000']);
    assert.ok(existsSync(path.join(out, 'test_000', 'summary.json')));
  });

  it('same stem, two output folders', async () => {
    const config = makeConfig({ 'heat.model.path': path.join(SAMPLE, 'model.onnx'), 'heat.model.inputSize': [128, 256] }, SAMPLE);
    const source = path.join(SAMPLE, 'test', 'images', 'test_000.png');
    const images = path.join(dir, 'stems');
    await sharp(source).toFile(path.join(dir, 'x.png'));
    await sharp(source).jpeg().toFile(path.join(dir, 'x.jpg'));
    const out = path.join(images, 'out');
    const { results } = await scoreImages(config, [path.join(dir, 'x.png'), path.join(dir, 'x.jpg')], { outDir: out });
    assert.equal(results.length, 2);
    const folders = readdirSync(out).sort();
    assert.equal(folders.length, 2, folders.join(', '));
    for (const folder of folders) assert.ok(existsSync(path.join(out, folder, 'summary.json')), folder);
  });

  it('probability warning only for the logits used', async () => {
    let pre = '';
    const file = tinyModel(dir, 'softmax-output', (g, x) => {
      pre = g.node('Mul', [x, g.scalar(3)], {}, 'pre_softmax');
      return g.node('Softmax', [pre], { axis: 1 }, 'probabilities');
    });
    const warned = async (overrides: Record<string, unknown>) => {
      const log = memoryLogger();
      const session = await HeatSession.open(makeConfig({ 'heat.model.path': file, ...overrides }, dir), { log });
      await session.release();
      return log.lines.filter((l) => l.includes('holds probabilities'));
    };
    assert.equal((await warned({})).length, 1, 'the default logits are the probabilities output');
    assert.deepEqual(await warned({ 'heat.model.logitsTensor': pre }), [], 'the configured pre-softmax tensor is named in the hint but is fine');
  });

  it('writes every map and summary for the sample', async () => {
    const config = makeConfig({ 'heat.model.path': path.join(SAMPLE, 'model.onnx'), 'heat.model.inputSize': [128, 256] }, SAMPLE);
    const image = path.join(SAMPLE, 'test', 'images', 'test_000.png');
    const out = path.join(dir, 'sample');
    const { results, failures } = await scoreImages(config, [image], { outDir: out });
    assert.deepEqual(failures, []);
    const files = readdirSync(path.join(out, 'test_000')).sort();
    for (const name of ['energy', 'spatial', 'weight-energy', 'weight-mahalanobis', 'weight-spatial', 'heat', 'heat-normalized', 'prediction']) {
      assert.ok(files.includes(`${name}.png`), `${name}.png missing from ${files.join(', ')}`);
    }
    const summary = JSON.parse(readFileSync(path.join(out, 'test_000', 'summary.json'), 'utf8'));
    assert.equal(summary.executionProvider, 'cpu');
    assert.equal(summary.combinedWithoutMahalanobis, true);
    assert.deepEqual(summary.maps.heat.shape, [128, 256]);
    assert.ok(summary.maps.energy.max < 0, 'energy of a confident model is negative');
    assert.ok(summary.notes.some((n: string) => /energy and spatial consistency only/.test(n)));
    assert.equal(results[0].summary.maps.heat?.min, summary.maps.heat.min);
  });

  it('NaN logits fail that image only', async () => {
    const nan = tinyModel(dir, 'nan', (g, x) => g.node('Div', [g.node('Sub', [x, x]), g.node('Sub', [x, x])]));
    const config = makeConfig({ 'heat.model.path': nan, 'heat.model.classNames': ['a', 'b', 'c'] }, dir);
    const image = await writeImage(path.join(dir, 'gray.png'), 3);
    const { results, failures } = await scoreImages(config, [image], {});
    assert.equal(results.length, 0);
    assert.equal(failures.length, 1);
    assert.match(failures[0].error, /NaN or infinite logits/);
    assert.match(failures[0].error, /gray\.png/);
    assert.match(failures[0].error, /heat\.model\.scale/);
  });

  it('unreadable image fails alone and others are scored', async () => {
    const identity = tinyModel(dir, 'identity', (g, x) => g.node('Identity', [x]));
    const config = makeConfig({ 'heat.model.path': identity }, dir);
    const corrupt = path.join(dir, 'corrupt.png');
    writeFileSync(corrupt, Buffer.from('not a png'));
    const good = await writeImage(path.join(dir, 'good.png'), 3);
    const { results, failures } = await scoreImages(config, [corrupt, good], { outDir: path.join(dir, 'mixed') });
    assert.deepEqual(results.map((r) => path.basename(r.image)), ['good.png']);
    assert.equal(failures.length, 1);
    assert.match(failures[0].error, /corrupt\.png/);
    assert.ok(!existsSync(path.join(dir, 'mixed', 'corrupt')), 'no folder for the failed image');
  });

  it('missing feature layer lists candidates', async () => {
    const config = makeConfig({
      'heat.model.path': path.join(SAMPLE, 'model.onnx'), 'heat.model.featureLayer': 'layer9', 'heat.statistics.path': path.join(dir, 'none.safetensors'),
    }, SAMPLE);
    await assert.rejects(scoreImages(config, [path.join(SAMPLE, 'test', 'images', 'test_000.png')], {}), /layer9[\s\S]*layer3/);
  });

  it('rank-3 logits are rejected with the tensor named', async () => {
    const g = new GraphBuilder('');
    const x = g.input('image', ElemType.FLOAT, [1, 3, 8, 8]);
    g.output(g.alias(g.node('ReduceMean', [x], { axes: [1], keepdims: 0 }), 'logits'), ElemType.FLOAT, [1, 8, 8]);
    const file = path.join(dir, 'rank3.onnx');
    writeFileSync(file, encodeModel(g.toModel()));
    const image = await writeImage(path.join(dir, 'rank3.png'), 3);
    await assert.rejects(scoreImages(makeConfig({ 'heat.model.path': file }, dir), [image], {}), /logits tensor "logits" has shape \[1, 8, 8\] \(rank 3\)/);
  });

  it('integer logits are rejected with the tensor named', async () => {
    const ints = tinyModel(dir, 'ints', (g, x) => g.node('Cast', [x], { to: ElemType.INT32 }), ElemType.INT32);
    const config = makeConfig({ 'heat.model.path': ints }, dir);
    const image = await writeImage(path.join(dir, 'ints.png'), 3);
    const outcome = await scoreImages(config, [image], {}).then((r) => r.failures.map((f) => f.error).join('\n'), (e: Error) => e.message);
    assert.match(outcome, /"logits" of .* has dtype int32/);
    assert.match(outcome, /heat\.model\.logitsTensor/);
  });
});

describe('heat-lens CLI', () => {
  it('score exits non-zero with one error line per bad image', function () {
    if (!existsSync(CLI)) {
      console.log(`      skipped: ${CLI} is not built (npm test builds it first)`);
      this.skip();
    }
    const dir = mkdtempSync(path.join(os.tmpdir(), 'heat-cli-'));
    const config = path.join(dir, 'settings.json');
    writeFileSync(config, JSON.stringify({ 'heat.model.path': path.join(SAMPLE, 'model.onnx') }));
    const good = path.join(SAMPLE, 'test', 'images', 'test_001.png');
    const result = spawnSync(process.execPath, [CLI, 'score', good, path.join(dir, 'missing.png'), '--config', config, '--out', dir], { encoding: 'utf8' });
    assert.equal(result.status, 1, result.stderr);
    const errors = result.stderr.split('\n').filter((l) => l.startsWith('error:'));
    assert.equal(errors.length, 1, result.stderr);
    assert.match(errors[0], /missing\.png/);
    assert.ok(existsSync(path.join(dir, 'test_001', 'summary.json')));
  });

  it('missing settings file is named', function () {
    if (!existsSync(CLI)) this.skip();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'heat-cli-empty-'));
    const result = spawnSync(process.execPath, [CLI, 'eval', '--out', path.join(dir, 'out')], { encoding: 'utf8', cwd: dir });
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, /^warning: No settings file: .*\.vscode\/settings\.json does not exist and no --config was given, so only the defaults are in use\.$/m);
  });

  it('folder given as image is named', function () {
    if (!existsSync(CLI)) this.skip();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'heat-cli-folder-'));
    const config = path.join(dir, 'settings.json');
    writeFileSync(config, JSON.stringify({ 'heat.model.path': path.join(SAMPLE, 'model.onnx') }));
    const images = path.join(SAMPLE, 'test', 'images');
    const result = spawnSync(process.execPath, [CLI, 'score', images, '--config', config, '--out', path.join(dir, 'out')], { encoding: 'utf8' });
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, /error: .*images is a folder, not an image\./);
  });

  it('inspect notes several map outputs', function () {
    if (!existsSync(CLI)) this.skip();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'heat-cli-heads-'));
    const g = new GraphBuilder('');
    const x = g.input('image', ElemType.FLOAT, [1, 3, 8, 8]);
    g.output(g.alias(g.node('Relu', [x], {}, 'a'), 'drivable'), ElemType.FLOAT, [1, 3, 8, 8]);
    g.output(g.alias(g.node('Neg', [x], {}, 'b'), 'lanes'), ElemType.FLOAT, [1, 3, 8, 8]);
    const file = path.join(dir, 'two-heads.onnx');
    writeFileSync(file, encodeModel(g.toModel()));
    const result = spawnSync(process.execPath, [CLI, 'inspect', file], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /The model has 2 rank-4 outputs \(drivable, lanes\).*set heat\.model\.logitsTensor to its name \(default: the first output, drivable\)\./);
  });

  it('wrong input layout fails once', function () {
    if (!existsSync(CLI)) this.skip();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'heat-cli-layout-'));
    const config = path.join(dir, 'settings.json');
    writeFileSync(config, JSON.stringify({ 'heat.model.path': path.join(SAMPLE, 'model.onnx'), 'heat.model.inputLayout': 'NHWC' }));
    const images = ['test_000.png', 'test_001.png'].map((f) => path.join(SAMPLE, 'test', 'images', f));
    const result = spawnSync(process.execPath, [CLI, 'score', ...images, '--config', config, '--out', path.join(dir, 'out')], { encoding: 'utf8' });
    assert.equal(result.status, 1, result.stderr);
    const errors = result.stderr.split('\n').filter((l) => l.startsWith('error:'));
    assert.equal(errors.length, 1, result.stderr);
    assert.match(errors[0], /heat\.model\.inputLayout is "NHWC", but the model input has shape \[batch, 3, height, width\]/);
  });

  it('unknown command prints usage', function () {
    if (!existsSync(CLI)) this.skip();
    const result = spawnSync(process.execPath, [CLI, 'scrore'], { encoding: 'utf8' });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /unknown command "scrore"\. Did you mean "score"\?/);
    const far = spawnSync(process.execPath, [CLI, 'frobnicate'], { encoding: 'utf8' });
    assert.doesNotMatch(far.stderr, /Did you mean/);
  });

  it('--version prints the version', function () {
    if (!existsSync(CLI)) this.skip();
    const result = spawnSync(process.execPath, [CLI, '--version'], { encoding: 'utf8' });
    assert.equal(result.status, 0);
    assert.match(result.stdout, /^heat-lens \d+\.\d+\.\d+/);
  });

  it('inspect prints no Buffer deprecation', function () {
    if (!existsSync(CLI)) this.skip();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'heat-cli-'));
    const g = new GraphBuilder('');
    const x = g.input('image', ElemType.FLOAT, [1, 3, 8, 8]);
    g.output(g.alias(g.node('Relu', [x], {}, 'relu'), 'logits'), ElemType.FLOAT, [1, 3, 8, 8]);
    const proto = g.toModel();
    // An empty bytes field (here the raw data of an unused empty initializer) made protobufjs call the deprecated Buffer(0).
    proto.graph!.initializer!.push({ name: 'unused_empty', dims: [0], dataType: ElemType.FLOAT, rawData: new Uint8Array(0) });
    const file = path.join(dir, 'empty-doc.onnx');
    writeFileSync(file, encodeModel(proto));
    const result = spawnSync(process.execPath, [CLI, 'inspect', file], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.doesNotMatch(result.stderr, /DEP0005|Buffer\(\) is deprecated/);
  });

  it('bare word is rejected', function () {
    if (!existsSync(CLI)) this.skip();
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'heat-cli-'));
    const evalRun = spawnSync(process.execPath, [CLI, 'eval', 'testShifted', '--config', path.join(SAMPLE, '.vscode', 'settings.json')], { encoding: 'utf8', cwd });
    assert.equal(evalRun.status, 1, evalRun.stderr);
    assert.match(evalRun.stderr, /heat-lens eval takes only options, but got "testShifted"\..*--split/);
    assert.deepEqual(readdirSync(cwd), [], 'nothing written');
    const checklist = spawnSync(process.execPath, [CLI, 'checklist', '3'], { encoding: 'utf8', cwd });
    assert.match(checklist.stderr, /takes only options, but got "3"\..*--phase N/);
  });

  it('option without value, folder as config', function () {
    if (!existsSync(CLI)) this.skip();
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'heat-cli-'));
    const swallowed = spawnSync(process.execPath, [CLI, 'eval', '--out', '--save-scores'], { encoding: 'utf8', cwd });
    assert.equal(swallowed.status, 1, swallowed.stderr);
    assert.match(swallowed.stderr, /Option --out needs a value, but the next argument is the option --save-scores/);
    const folder = spawnSync(process.execPath, [CLI, 'eval', '--config', SAMPLE], { encoding: 'utf8', cwd });
    assert.match(folder.stderr, /--config .* is a folder, not a settings file\..*\.vscode\/settings\.json/);
    assert.deepEqual(readdirSync(cwd), [], 'nothing written');
  });

  it('unwritable output is rejected early', async function () {
    if (!existsSync(CLI)) this.skip();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'heat-cli-'));
    const file = path.join(dir, 'afile');
    writeFileSync(file, 'x');
    const settings = path.join(SAMPLE, '.vscode', 'settings.json');
    const evalRun = spawnSync(process.execPath, [CLI, 'eval', '--config', settings, '--out', file], { encoding: 'utf8' });
    assert.equal(evalRun.status, 1, evalRun.stderr);
    assert.match(evalRun.stderr, new RegExp(`error: The output folder ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is an existing file`));
    assert.doesNotMatch(evalRun.stderr, /ENOTDIR|\bat /, 'no raw Node error or stack trace');
    const below = spawnSync(process.execPath, [CLI, 'score', path.join(SAMPLE, 'test', 'images', 'test_000.png'), '--config', settings, '--out', path.join(file, 'maps')], { encoding: 'utf8' });
    assert.match(below.stderr, /afile is a file, not a folder/);
    const stats = spawnSync(process.execPath, [CLI, 'stats', '--config', settings, '--out', dir], { encoding: 'utf8' });
    assert.equal(stats.status, 1, stats.stderr);
    assert.match(stats.stderr, /The output file .* is an existing folder/);
    assert.deepEqual(readdirSync(dir), ['afile'], 'no temporary file left');
  });

  it('run failure names the image and layouts', async () => {
    // Logits are the input reshaped to rows of 8: the probe's 256 × 256 input works, a 7 × 9 input cannot.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'heat-run-error-'));
    const g = new GraphBuilder('');
    const x = g.input('image', ElemType.FLOAT, [1, 3, 'H', 'W']);
    g.output(g.alias(g.node('Reshape', [x, g.ints([1, 3, -1, 8])], {}, 'rows'), 'logits'), ElemType.FLOAT, [1, 3, 'R', 8]);
    const file = path.join(dir, 'rows-of-8.onnx');
    writeFileSync(file, encodeModel(g.toModel()));
    const image = await writeImage(path.join(dir, 'grey.png'), 3);
    const session = await HeatSession.open(makeConfig({ 'heat.model.path': file, 'heat.model.inputSize': [7, 9] }, dir));
    try {
      await assert.rejects(session.runImage(image), (e: Error) => {
        assert.match(e.message, /^onnxruntime failed to run the model on .*grey\.png: .*Reshape/);
        assert.doesNotMatch(e.message, /\u001b\[/);
        assert.match((e as HeatError).fix ?? '', /heat\.model\.logitsLayout/);
        return true;
      });
    } finally {
      await session.release();
    }
  });
});
