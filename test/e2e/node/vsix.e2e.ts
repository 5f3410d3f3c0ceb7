// The linux-x64 VSIX that the e2e run installs: its contents, its size, and that its native modules load
// on code-server's Node 24 straight from the unpacked package.
//   HEAT_E2E_VSIX: the VSIX; HEAT_E2E_NODE24: the node binary code-server runs on; HEAT_E2E_STATE: scratch
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';
import { findTarget, isForeignBinary, requiredBinaries } from '../../../scripts/package/targets';
import { extractZip, listZipEntries } from '../../../scripts/package/zip';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const VSIX = process.env.HEAT_E2E_VSIX ?? '';
const NODE24 = process.env.HEAT_E2E_NODE24 ?? process.execPath;
// the goal for the linux-x64 package; HEAT_VSIX_MAX_MB overrides it (documented in docs/e2e.md)
const SIZE_LIMIT_MB = Number(process.env.HEAT_VSIX_MAX_MB ?? 30);
const linuxX64 = findTarget('linux-x64');

/** Files of the extension inside the VSIX, relative to its extension/ folder. */
function packedFiles(): string[] {
  return listZipEntries(VSIX).map((e) => e.name).filter((n) => n.startsWith('extension/')).map((n) => n.slice('extension/'.length));
}

function repoFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(path.join(dir, prefix))) {
    const relative = prefix ? `${prefix}/${name}` : name;
    if (statSync(path.join(dir, relative)).isDirectory()) out.push(...repoFiles(dir, relative));
    else out.push(relative);
  }
  return out;
}

/** A one-node model y = x + x on float[3], so that loading onnxruntime is proven by running it. */
function addModel(): Uint8Array {
  const tensor = (name: string) => ({
    name,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimValue: 3 }] } } },
  });
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: { name: 'add', node: [{ opType: 'Add', input: ['x', 'x'], output: ['y'] }], input: [tensor('x')], output: [tensor('y')] },
  }).finish();
}

describe('linux-x64 VSIX', () => {
  let extension = '';

  before(() => {
    assert.ok(VSIX && existsSync(VSIX), `HEAT_E2E_VSIX names no file ("${VSIX}"); scripts/e2e/run.sh packages it first`);
    const scratch = mkdtempSync(path.join(process.env.HEAT_E2E_STATE ?? ROOT, 'vsix-unpacked-'));
    extractZip(VSIX, scratch, (name) => name.startsWith('extension/'));
    extension = path.join(scratch, 'extension');
  });

  it('holds no other platform binaries', () => {
    const foreign = packedFiles().filter((f) => isForeignBinary(f, linuxX64));
    assert.deepEqual(foreign, []);
  });

  it('holds the linux-x64 onnxruntime and sharp bindings', () => {
    const files = packedFiles();
    const missing = requiredBinaries(linuxX64).filter((pattern) => !files.some((f) => pattern.test(f)));
    assert.deepEqual(missing.map(String), []);
  });

  it(`is at most ${SIZE_LIMIT_MB} MB`, () => {
    const mb = (bytes: number) => bytes / 2 ** 20;
    const entries = listZipEntries(VSIX);
    const share = (pattern: RegExp) => mb(entries.filter((e) => pattern.test(e.name)).reduce((sum, e) => sum + e.compressedSize, 0));
    const breakdown = `onnxruntime ${share(/onnxruntime-node\/bin\//).toFixed(2)} MB, sharp/libvips ${share(/node_modules\/@img\//).toFixed(2)} MB, ` +
      `samples ${share(/^extension\/samples\//).toFixed(2)} MB, dist ${share(/^extension\/dist\//).toFixed(2)} MB`;
    const total = mb(statSync(VSIX).size);
    console.log(`      VSIX size: ${total.toFixed(2)} MB (${breakdown})`);
    assert.ok(total <= SIZE_LIMIT_MB, `${total.toFixed(2)} MB > ${SIZE_LIMIT_MB} MB; compressed shares: ${breakdown}`);
  });

  it('leaves sources, tests, maps and the sample tools out', () => {
    const unwanted = packedFiles().filter((f) =>
      /^(src|test|scripts|webview|docs|\.ci)\//.test(f) || /^dist\/test\//.test(f) ||
      (/\.ts$/.test(f) && !/\.d\.ts$/.test(f)) || /\.map$/.test(f) ||
      /^samples\/tools\//.test(f) || /^samples\/.*\.py$/.test(f));
    assert.deepEqual(unwanted, []);
  });

  it('carries the bundle entry points and the whole street sample', () => {
    const files = new Set(packedFiles());
    const manifest = JSON.parse(readFileSync(path.join(extension, 'package.json'), 'utf8')) as { main: string };
    const main = manifest.main.replace(/^\.\//, '');
    assert.ok(files.has(main.endsWith('.js') ? main : `${main}.js`), `main ${manifest.main} is not packed`);
    if (existsSync(path.join(ROOT, 'src', 'engine', 'main.ts'))) assert.ok(files.has('dist/engine.js'), 'dist/engine.js is not packed');
    // run outputs (statistics, .heat-lens/) are not part of the sample
    const sample = repoFiles(path.join(ROOT, 'samples', 'street'))
      .filter((f) => !/\.py$|\.safetensors$|^\.heat-lens\//.test(f)).map((f) => `samples/street/${f}`);
    assert.ok(sample.length > 0, 'samples/street is empty in the checkout');
    assert.deepEqual(sample.filter((f) => !files.has(f)), []);
  });

  it('onnxruntime runs a model and sharp decodes a PNG from the unpacked VSIX on Node 24', () => {
    const model = path.join(path.dirname(extension), 'add.onnx');
    writeFileSync(model, addModel());
    const probe = `
      const ort = require(${JSON.stringify(path.join(extension, 'node_modules', 'onnxruntime-node'))});
      const sharp = require(${JSON.stringify(path.join(extension, 'node_modules', 'sharp'))});
      (async () => {
        const session = await ort.InferenceSession.create(${JSON.stringify(model)});
        const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2, 3]), [3]) });
        const png = await sharp({ create: { width: 3, height: 2, channels: 3, background: '#102030' } }).png().toBuffer();
        const meta = await sharp(png).metadata();
        console.log(JSON.stringify({ node: process.version, y: Array.from(out.y.data), png: [meta.width, meta.height] }));
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const report = JSON.parse(execFileSync(NODE24, ['-e', probe], { encoding: 'utf8' }).trim().split('\n').pop()!);
    console.log(`      ${JSON.stringify(report)}`);
    assert.deepEqual(report.y, [2, 4, 6]);
    assert.deepEqual(report.png, [3, 2]);
  });
});
