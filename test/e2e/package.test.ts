// Packaging rules (scripts/package): which native binaries belong to which VSIX target, which packages
// stay out because esbuild bundled them, and the zip reader the VSIX checks use.
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import {
  RUNTIME_PACKAGES, TARGETS, binaryPlatformOf, bundledPackageIgnoreLines, findTarget, foreignBinaryIgnoreLines, isForeignBinary,
  requiredBinaries, runtimeClosure,
} from '../../scripts/package/targets';
import { extractZip, listZipEntries } from '../../scripts/package/zip';
import { minimatch } from 'minimatch';

const ORT = 'node_modules/onnxruntime-node/bin/napi-v6';
const SAMPLE_BINARIES = [
  `${ORT}/linux/x64/libonnxruntime.so.1`, `${ORT}/linux/arm64/onnxruntime_binding.node`, `${ORT}/darwin/arm64/libonnxruntime.1.dylib`,
  `${ORT}/win32/x64/onnxruntime.dll`, `${ORT}/win32/arm64/onnxruntime_binding.node`,
  'node_modules/@img/sharp-linux-x64/lib/sharp-linux-x64-0.35.6.node', 'node_modules/@img/sharp-libvips-linux-x64/lib/libvips-cpp.so.8',
  'node_modules/@img/sharp-linuxmusl-x64/lib/sharp-linuxmusl-x64.node', 'node_modules/@img/sharp-darwin-arm64/lib/sharp-darwin-arm64.node',
  'node_modules/@img/sharp-win32-x64/lib/libvips-42.dll', 'node_modules/@img/sharp-wasm32/lib/sharp-wasm32.node.wasm',
];

/** A zip with stored (level 0) and deflated entries, written from the format's description. */
function writeZip(file: string, entries: { name: string; data: Buffer; deflate: boolean }[]): void {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const body = entry.deflate ? deflateRawSync(entry.data) : entry.data;
    const name = Buffer.from(entry.name);
    const fields = (signature: number, size: number) => {
      const b = Buffer.alloc(size);
      b.writeUInt32LE(signature, 0);
      return b;
    };
    const local = fields(0x04034b50, 30);
    local.writeUInt16LE(20, 4); local.writeUInt16LE(entry.deflate ? 8 : 0, 8);
    local.writeUInt32LE(crc32(entry.data), 14); local.writeUInt32LE(body.length, 18); local.writeUInt32LE(entry.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = fields(0x02014b50, 46);
    central.writeUInt16LE(20, 4); central.writeUInt16LE(20, 6); central.writeUInt16LE(entry.deflate ? 8 : 0, 10);
    central.writeUInt32LE(crc32(entry.data), 16); central.writeUInt32LE(body.length, 20); central.writeUInt32LE(entry.data.length, 24);
    central.writeUInt16LE(name.length, 28); central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += 30 + name.length + body.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(entries.length, 8); end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12); end.writeUInt32LE(offset, 16);
  writeFileSync(file, Buffer.concat([...locals, directory, end]));
}

describe('VSIX packaging rules', () => {
  it('binaryPlatformOf reads onnxruntime and sharp paths, and ignores neutral files', () => {
    assert.deepEqual(binaryPlatformOf(`${ORT}/linux/x64/libonnxruntime.so.1`), { os: 'linux', cpu: 'x64', owner: 'onnxruntime-node' });
    assert.deepEqual(binaryPlatformOf('node_modules/@img/sharp-libvips-darwin-arm64/lib/libvips.dylib'), { os: 'darwin', cpu: 'arm64', libc: undefined, owner: 'sharp' });
    assert.deepEqual(binaryPlatformOf('node_modules/@img/sharp-linuxmusl-x64/lib/x.node'), { os: 'linux', cpu: 'x64', libc: 'musl', owner: 'sharp' });
    assert.equal(binaryPlatformOf('node_modules/sharp/dist/index.cjs'), undefined);
    assert.equal(binaryPlatformOf('node_modules/@img/colour/index.cjs'), undefined);
    assert.equal(binaryPlatformOf('dist/engine.js'), undefined);
  });

  it('isForeignBinary keeps exactly the target platform (glibc) per target', () => {
    const kept = (name: string) => SAMPLE_BINARIES.filter((f) => !isForeignBinary(f, findTarget(name)));
    assert.deepEqual(kept('linux-x64'), [SAMPLE_BINARIES[0], SAMPLE_BINARIES[5], SAMPLE_BINARIES[6]]);
    assert.deepEqual(kept('linux-arm64'), [SAMPLE_BINARIES[1]]);
    assert.deepEqual(kept('darwin-arm64'), [SAMPLE_BINARIES[2], SAMPLE_BINARIES[8]]);
    assert.deepEqual(kept('win32-x64'), [SAMPLE_BINARIES[3], SAMPLE_BINARIES[9]]);
    assert.deepEqual(kept('darwin-x64'), []);
  });

  it('the generated ignore lines drop every foreign binary and keep the target ones (as vsce matches them)', () => {
    for (const target of TARGETS) {
      const lines = foreignBinaryIgnoreLines(target);
      const ignored = (f: string) => lines.some((pattern) => minimatch(f, pattern, { dot: true }));
      for (const file of SAMPLE_BINARIES) {
        assert.equal(ignored(file), isForeignBinary(file, target), `${target.name}: ${file}`);
      }
    }
  });

  it('requiredBinaries names the binding of each target', () => {
    const [ort, sharp] = requiredBinaries(findTarget('linux-x64'));
    assert.ok(ort.test(`${ORT}/linux/x64/onnxruntime_binding.node`));
    assert.ok(!ort.test(`${ORT}/linux/arm64/onnxruntime_binding.node`));
    assert.ok(sharp.test('node_modules/@img/sharp-linux-x64/lib/sharp-linux-x64-0.35.6.node'));
    assert.ok(!sharp.test('node_modules/@img/sharp-linuxmusl-x64/lib/sharp-linuxmusl-x64-0.35.6.node'));
  });

  it('findTarget rejects an unknown target with the list of valid ones', () => {
    assert.throws(() => findTarget('linux-s390x'), /Unknown VSIX target "linux-s390x".*linux-x64, linux-arm64/);
  });

  it('runtimeClosure follows dependencies, skips install-only ones and packages not installed', () => {
    const manifests: Record<string, { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> }> = {
      'onnxruntime-node': { dependencies: { 'onnxruntime-common': '1', 'adm-zip': '1', 'global-agent': '1' } },
      'onnxruntime-common': {},
      sharp: { dependencies: { 'detect-libc': '2' }, optionalDependencies: { '@img/sharp-linux-x64': '1', '@img/sharp-darwin-arm64': '1' } },
      'detect-libc': {},
      '@img/sharp-linux-x64': { optionalDependencies: { '@img/sharp-libvips-linux-x64': '1' } },
      '@img/sharp-libvips-linux-x64': {},
      'adm-zip': {}, 'global-agent': {}, 'fast-glob': {},
    };
    const needed = runtimeClosure((name) => manifests[name]);
    assert.deepEqual([...needed].sort(), ['@img/sharp-libvips-linux-x64', '@img/sharp-linux-x64', 'detect-libc', 'onnxruntime-common', 'onnxruntime-node', 'sharp']);
    assert.deepEqual(bundledPackageIgnoreLines(Object.keys(manifests), needed), ['node_modules/adm-zip/**', 'node_modules/fast-glob/**', 'node_modules/global-agent/**']);
  });

  it('RUNTIME_PACKAGES are the esbuild externals of scripts/build.mjs besides vscode', () => {
    const build = readFileSync(path.join(__dirname, '..', '..', 'scripts', 'build.mjs'), 'utf8');
    const external = build.match(/const external = \[([^\]]*)\]/)?.[1];
    assert.ok(external, 'scripts/build.mjs no longer declares `const external = [...]`');
    const names = [...external.matchAll(/'([^']+)'/g)].map((m) => m[1]).filter((n) => n !== 'vscode').sort();
    assert.deepEqual(names, [...RUNTIME_PACKAGES].sort());
  });
});

describe('zip reader', () => {
  let dir = '';
  before(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'heat-zip-test-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('lists and extracts stored and deflated entries', () => {
    const file = path.join(dir, 'a.zip');
    const text = Buffer.from('HEAT '.repeat(200));
    writeZip(file, [
      { name: 'extension/package.json', data: Buffer.from('{"name":"x"}'), deflate: false },
      { name: 'extension/dist/a.js', data: text, deflate: true },
    ]);
    const entries = listZipEntries(file);
    assert.deepEqual(entries.map((e) => [e.name, e.size, e.method]), [['extension/package.json', 12, 0], ['extension/dist/a.js', 1000, 8]]);
    assert.ok(entries[1].compressedSize < 100);
    assert.equal(extractZip(file, path.join(dir, 'out'), (n) => n.endsWith('.js')), 1);
    assert.deepEqual(readFileSync(path.join(dir, 'out', 'extension', 'dist', 'a.js')), text);
  });

  it('refuses entries that point outside the destination', () => {
    const file = path.join(dir, 'evil.zip');
    writeZip(file, [{ name: '../escape.txt', data: Buffer.from('x'), deflate: false }]);
    assert.throws(() => extractZip(file, path.join(dir, 'out2')), /points outside the destination/);
  });

  it('says a file that is not a zip is not one', () => {
    const file = path.join(dir, 'plain.txt');
    writeFileSync(file, 'not a zip at all, just words');
    assert.throws(() => listZipEntries(file), /plain\.txt is not a zip file/);
  });
});
