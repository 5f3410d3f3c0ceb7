// Platform targets of the VSIX and the rules that keep each package to its own native binaries.
// onnxruntime-node ships every platform's binaries inside one npm package (bin/napi-v6/<os>/<arch>/);
// sharp ships one @img/sharp-<os>-<arch> package (plus @img/sharp-libvips-<os>-<arch> outside Windows)
// per platform, installed by npm as optional dependencies for the platform it runs on.

export type TargetName = 'linux-x64' | 'linux-arm64' | 'darwin-arm64' | 'darwin-x64' | 'win32-x64';

export interface Target {
  /** vsce's --target value */
  name: TargetName;
  /** process.platform on that target */
  os: 'linux' | 'darwin' | 'win32';
  /** process.arch on that target */
  cpu: 'x64' | 'arm64';
  /** npm's --libc for Linux targets: VS Code's Linux builds are glibc builds */
  libc?: 'glibc';
}

export const TARGETS: readonly Target[] = [
  { name: 'linux-x64', os: 'linux', cpu: 'x64', libc: 'glibc' },
  { name: 'linux-arm64', os: 'linux', cpu: 'arm64', libc: 'glibc' },
  { name: 'darwin-arm64', os: 'darwin', cpu: 'arm64' },
  { name: 'darwin-x64', os: 'darwin', cpu: 'x64' },
  { name: 'win32-x64', os: 'win32', cpu: 'x64' },
];

export function findTarget(name: string): Target {
  const target = TARGETS.find((t) => t.name === name);
  if (!target) {
    throw new Error(`Unknown VSIX target "${name}". Use one of: ${TARGETS.map((t) => t.name).join(', ')}.`);
  }
  return target;
}

/** Where a native binary belongs, read from its path inside node_modules. */
export interface BinaryPlatform {
  os: string;
  cpu: string;
  /** 'musl' for sharp's linuxmusl packages, otherwise undefined */
  libc?: string;
  /** the package that ships it */
  owner: 'onnxruntime-node' | 'sharp';
}

const ORT_BIN = /(?:^|\/)node_modules\/onnxruntime-node\/bin\/napi-v\d+\/([^/]+)\/([^/]+)\//;
const SHARP_PKG = /(?:^|\/)node_modules\/@img\/sharp-(?:libvips-)?([a-z0-9]+?)(musl)?-([a-z0-9]+)\//;
const SHARP_WASM = /(?:^|\/)node_modules\/@img\/sharp-(?:libvips-)?(?:[a-z]+-)?wasm32\//;

/**
 * The platform a file in a package belongs to, or undefined when it is platform-neutral.
 * Covers onnxruntime-node's bin/napi-vN/<os>/<arch>/ folders and sharp's @img/sharp-<os>-<arch> packages
 * (sharp's wasm32 builds count as platform 'wasm').
 */
export function binaryPlatformOf(filePath: string): BinaryPlatform | undefined {
  const p = filePath.replace(/\\/g, '/');
  const ort = ORT_BIN.exec(p);
  if (ort) return { os: ort[1], cpu: ort[2], owner: 'onnxruntime-node' };
  if (SHARP_WASM.test(p)) return { os: 'wasm', cpu: 'wasm32', owner: 'sharp' };
  const sharp = SHARP_PKG.exec(p);
  if (sharp) {
    const [, os, musl, cpu] = sharp;
    return { os, cpu, libc: musl ? 'musl' : undefined, owner: 'sharp' };
  }
  return undefined;
}

/** True when a file is another platform's native binary (or package) for this target. */
export function isForeignBinary(filePath: string, target: Target): boolean {
  const platform = binaryPlatformOf(filePath);
  if (!platform) return false;
  return platform.os !== target.os || platform.cpu !== target.cpu || platform.libc === 'musl';
}

const ORT_OSES = ['linux', 'darwin', 'win32'] as const;
const ORT_CPUS = ['x64', 'arm64', 'ia32', 'arm'] as const;

/**
 * .vscodeignore lines that leave out every other platform's onnxruntime-node binaries and sharp packages.
 * Sharp's other packages are normally absent (npm installs only the target's), the lines guard against a
 * node_modules that was installed with several platforms' optional dependencies.
 */
export function foreignBinaryIgnoreLines(target: Target): string[] {
  const lines: string[] = [];
  for (const os of ORT_OSES) {
    if (os !== target.os) {
      lines.push(`node_modules/onnxruntime-node/bin/napi-v*/${os}/**`);
      continue;
    }
    for (const cpu of ORT_CPUS) {
      if (cpu !== target.cpu) lines.push(`node_modules/onnxruntime-node/bin/napi-v*/${os}/${cpu}/**`);
    }
  }
  lines.push('node_modules/@img/sharp-wasm32/**', 'node_modules/@img/sharp-*-wasm32/**', 'node_modules/@img/sharp-*musl*/**');
  for (const os of ['linux', 'darwin', 'win32', 'freebsd']) {
    for (const cpu of ['x64', 'arm64', 'arm', 'ia32', 'ppc64', 'riscv64', 's390x']) {
      if (os === target.os && cpu === target.cpu) continue;
      lines.push(`node_modules/@img/sharp-${os}-${cpu}/**`, `node_modules/@img/sharp-libvips-${os}-${cpu}/**`);
    }
  }
  return lines;
}

/**
 * The native binaries a target cannot run without, as patterns over paths inside the extension folder:
 * onnxruntime's binding and sharp's binding (its file name carries sharp's version).
 */
export function requiredBinaries(target: Target): RegExp[] {
  const { os, cpu } = target;
  return [
    new RegExp(`^node_modules/onnxruntime-node/bin/napi-v\\d+/${os}/${cpu}/onnxruntime_binding\\.node$`),
    new RegExp(`^node_modules/@img/sharp-${os}-${cpu}/lib/sharp-${os}-${cpu}[^/]*\\.node$`),
  ];
}

/**
 * Packages the bundles load from node_modules at run time: the esbuild externals of scripts/build.mjs
 * other than `vscode`. Everything else is bundled into dist/, so its node_modules copy stays out of the VSIX.
 */
export const RUNTIME_PACKAGES = ['onnxruntime-node', 'sharp'] as const;

/** Dependencies that only a package's install script uses (onnxruntime-node's downloads of CUDA files). */
export const INSTALL_ONLY_DEPENDENCIES: Readonly<Record<string, readonly string[]>> = {
  'onnxruntime-node': ['adm-zip', 'global-agent'],
};

interface PackageManifest {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

/**
 * Top-level node_modules packages the runtime packages need, found by following dependencies and installed
 * optional dependencies from `readManifest(name)` (undefined for a package that is not installed).
 */
export function runtimeClosure(readManifest: (name: string) => PackageManifest | undefined, roots: readonly string[] = RUNTIME_PACKAGES): Set<string> {
  const needed = new Set<string>();
  const queue = [...roots];
  while (queue.length > 0) {
    const name = queue.pop()!;
    if (needed.has(name)) continue;
    const manifest = readManifest(name);
    if (!manifest) continue;
    needed.add(name);
    const installOnly = INSTALL_ONLY_DEPENDENCIES[name] ?? [];
    const next = [...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.optionalDependencies ?? {})];
    queue.push(...next.filter((dep) => !installOnly.includes(dep)));
  }
  return needed;
}

/** .vscodeignore lines for installed top-level packages outside the runtime closure. */
export function bundledPackageIgnoreLines(installed: readonly string[], needed: ReadonlySet<string>): string[] {
  return installed.filter((name) => !needed.has(name)).sort().map((name) => `node_modules/${name}/**`);
}
