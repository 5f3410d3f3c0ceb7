// Builds one VSIX per platform target, each with only its own onnxruntime-node and sharp binaries.
//
//   npm run package                                   every target into dist/vsix/
//   npm run package -- --target linux-x64 --out-dir D  one target
//   npm run package -- --no-build                     reuse dist/ as it is
//
// The target this machine runs on is packaged from the checkout's node_modules. Other targets are packaged
// from a staging copy whose production dependencies npm installs for that platform
// (`npm ci --omit=dev --os --cpu --libc`), which fetches the target's @img/sharp-* packages from the npm
// registry (or npm's cache); nothing else is downloaded.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  TARGETS, Target, bundledPackageIgnoreLines, findTarget, foreignBinaryIgnoreLines, isForeignBinary, requiredBinaries, runtimeClosure,
} from './targets';
import { listZipEntries } from './zip';

const ROOT = path.resolve(__dirname, '..', '..');
const VSCE = path.join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');

interface Options {
  targets: Target[];
  outDir: string;
  build: boolean;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { targets: [...TARGETS], outDir: path.join(ROOT, 'dist', 'vsix'), build: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--target') options.targets = (argv[++i] ?? '').split(',').filter(Boolean).map(findTarget);
    else if (arg === '--out-dir') options.outDir = path.resolve(argv[++i] ?? '');
    else if (arg === '--no-build') options.build = false;
    else throw new Error(`Unknown option "${arg}". Use --target T[,T...], --out-dir DIR or --no-build.`);
  }
  if (options.targets.length === 0) throw new Error('--target needs a value, for example --target linux-x64.');
  return options;
}

function run(command: string, args: string[], cwd: string, extraEnv: Record<string, string> = {}): void {
  // stdin closed: vsce and npm must never wait for input (CI has no terminal)
  const result = spawnSync(command, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...extraEnv } });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd} (exit ${result.status ?? result.signal}).`);
  }
}

function isHost(target: Target): boolean {
  return target.os === process.platform && target.cpu === process.arch;
}

// top-level entries a staging copy leaves out: dependencies are installed there afresh, outputs are not inputs
const NOT_STAGED = new Set(['node_modules', '.git', 'e2e-artifacts', '.heat-lens-tmp', 'heat-lens-demo']);

function stage(target: Target): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `heat-lens-package-${target.name}-`));
  for (const name of readdirSync(ROOT)) {
    if (NOT_STAGED.has(name) || name.endsWith('.vsix')) continue;
    cpSync(path.join(ROOT, name), path.join(dir, name), {
      recursive: true,
      filter: (source) => !path.relative(ROOT, source).startsWith(path.join('dist', 'vsix')),
    });
  }
  const platformFlags = [`--os=${target.os}`, `--cpu=${target.cpu}`, ...(target.libc ? [`--libc=${target.libc}`] : [])];
  console.log(`[package] ${target.name}: npm ci --omit=dev ${platformFlags.join(' ')} in ${dir}`);
  run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error', ...platformFlags], dir, {
    ONNXRUNTIME_NODE_INSTALL: 'skip',
  });
  return dir;
}

/** Files under dir, relative and with forward slashes. */
function walk(dir: string, prefix = ''): string[] {
  const files: string[] = [];
  for (const name of readdirSync(path.join(dir, prefix))) {
    const relative = prefix ? `${prefix}/${name}` : name;
    if (statSync(path.join(dir, relative)).isDirectory()) files.push(...walk(dir, relative));
    else files.push(relative);
  }
  return files;
}

/** Why a target cannot be packaged from this folder, or undefined when its binaries are all there. */
function missingBinaries(packageDir: string, target: Target): string | undefined {
  const roots = ['node_modules/onnxruntime-node/bin', `node_modules/@img/sharp-${target.os}-${target.cpu}`];
  const present = roots.filter((r) => existsSync(path.join(packageDir, r))).flatMap((r) => walk(packageDir, r));
  const missing = requiredBinaries(target).filter((pattern) => !present.some((f) => pattern.test(f)));
  if (missing.length === 0) return undefined;
  return `no file matches ${missing.map(String).join(' or ')} (the npm packages ship no ${target.name} binary)`;
}

// top-level entries that belong in a VSIX; anything else in the folder (notes, scratch files, other
// tools' output) stays out whatever .vscodeignore says
const PACKAGED_TOP_LEVEL = new Set(['package.json', 'README.md', 'LICENSE', 'LICENSE.md', 'LICENSE.txt', 'CHANGELOG.md', 'dist', 'media', 'samples', 'node_modules']);

function unlistedTopLevelIgnoreLines(packageDir: string): string[] {
  return readdirSync(packageDir).filter((name) => !PACKAGED_TOP_LEVEL.has(name)).sort().flatMap((name) => [name, `${name}/**`]);
}

/** Names of the packages installed at the top of packageDir/node_modules, scoped ones as @scope/name. */
function installedPackages(packageDir: string): string[] {
  const modules = path.join(packageDir, 'node_modules');
  const names: string[] = [];
  for (const entry of readdirSync(modules)) {
    if (entry.startsWith('.')) continue;
    if (entry.startsWith('@')) names.push(...readdirSync(path.join(modules, entry)).map((n) => `${entry}/${n}`));
    else names.push(entry);
  }
  return names;
}

function readManifest(packageDir: string, name: string): { dependencies?: Record<string, string> } | undefined {
  const file = path.join(packageDir, 'node_modules', name, 'package.json');
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
}

/** Checks the packed VSIX: the target's binaries inside, no other platform's. Returns its size in bytes. */
export function checkVsix(file: string, target: Target): number {
  const names = listZipEntries(file).map((e) => e.name.replace(/^extension\//, ''));
  const foreign = names.filter((n) => isForeignBinary(n, target));
  if (foreign.length > 0) throw new Error(`${file} contains other platforms' binaries: ${foreign.slice(0, 5).join(', ')}`);
  const missing = requiredBinaries(target).filter((pattern) => !names.some((n) => pattern.test(n)));
  if (missing.length > 0) throw new Error(`${file} lacks ${missing.map(String).join(', ')}`);
  return statSync(file).size;
}

function packageTarget(target: Target, options: Options, version: string): { file?: string; size?: number; skipped?: string } {
  const packageDir = isHost(target) ? ROOT : stage(target);
  try {
    const missing = missingBinaries(packageDir, target);
    if (missing) return { skipped: missing };

    const ignoreFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'heat-lens-vscodeignore-')), '.vscodeignore');
    const base = readFileSync(path.join(ROOT, '.vscodeignore'), 'utf8');
    const bundled = bundledPackageIgnoreLines(installedPackages(packageDir), runtimeClosure((name) => readManifest(packageDir, name)));
    writeFileSync(ignoreFile, [
      base,
      "# other platforms' binaries (scripts/package/targets.ts)", ...foreignBinaryIgnoreLines(target),
      '# packages esbuild bundled into dist/', ...bundled,
      '# top-level entries that are not part of the extension', ...unlistedTopLevelIgnoreLines(packageDir), '',
    ].join('\n'));

    const file = path.join(options.outDir, `heat-lens-${target.name}-${version}.vsix`);
    rmSync(file, { force: true });
    console.log(`[package] ${target.name}: vsce package -> ${path.relative(ROOT, file)}`);
    run(process.execPath, [VSCE, 'package', '--target', target.name, '--out', file, '--ignoreFile', ignoreFile,
      '--allow-missing-repository', '--no-rewrite-relative-links', '--no-gitHubIssueLinking', '--no-gitLabIssueLinking', '--no-yarn'],
    packageDir);
    rmSync(path.dirname(ignoreFile), { recursive: true, force: true });
    return { file, size: checkVsix(file, target) };
  } finally {
    if (packageDir !== ROOT) rmSync(packageDir, { recursive: true, force: true });
  }
}

function main(): void {
  const options = parseArgs(process.argv.slice(2));
  const version = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version as string;
  if (options.build) run('npm', ['run', '-s', 'build'], ROOT);
  mkdirSync(options.outDir, { recursive: true });

  const lines: string[] = [];
  let failed = 0;
  for (const target of options.targets) {
    try {
      const result = packageTarget(target, options, version);
      if (result.skipped) lines.push(`${target.name.padEnd(13)} SKIPPED: ${result.skipped}`);
      else lines.push(`${target.name.padEnd(13)} ${(result.size! / 2 ** 20).toFixed(1).padStart(6)} MB  ${path.relative(ROOT, result.file!)}`);
    } catch (error) {
      failed++;
      lines.push(`${target.name.padEnd(13)} FAILED: ${(error as Error).message}`);
    }
  }
  console.log(`[package] results:\n  ${lines.join('\n  ')}`);
  if (failed > 0) process.exit(1);
}

if (require.main === module) {
  try {
    main();
  } catch (error) {
    console.error(`[package] ${(error as Error).message}`);
    process.exit(1);
  }
}
