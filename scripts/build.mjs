// Bundles the CLI, the engine process, the extension and the webview scripts with esbuild.
// Native packages stay external so that they load their own platform binaries at run time.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';

const external = ['onnxruntime-node', 'sharp', 'vscode'];
const common = { bundle: true, platform: 'node', mainFields: ['module', 'main'], target: 'node20', format: 'cjs', sourcemap: true, external, logLevel: 'warning' };

const nodeEntries = [
  { in: 'src/cli/main.ts', out: 'dist/cli.js', banner: '#!/usr/bin/env node' },
  // The engine and extension ship in the VSIX: minified (names kept for stack traces) to keep it small.
  { in: 'src/engine/main.ts', out: 'dist/engine.js', minify: true },
  { in: 'src/extension/extension.ts', out: 'dist/extension.js', minify: true },
];

for (const entry of nodeEntries) {
  if (!existsSync(entry.in)) continue;
  await build({ ...common, entryPoints: [entry.in], outfile: entry.out, minify: entry.minify === true, keepNames: true, banner: entry.banner ? { js: entry.banner } : undefined });
}

const webviewEntries = ['webview/viewer.ts', 'webview/sidebar.ts', 'webview/sweep.ts', 'webview/report.ts'].filter(existsSync);
if (webviewEntries.length > 0) {
  await build({ entryPoints: webviewEntries, bundle: true, platform: 'browser', target: 'es2022', format: 'iife', outdir: 'dist/webview', sourcemap: true, minify: true, logLevel: 'warning' });
}
