// Bundles the extension-host test suite (test/e2e/suite) for code-server's extension host:
// dist/test/e2e/index.js is the extensionTestsPath; each *.e2e.ts becomes its own file that index.js adds
// to mocha. `vscode` is provided by the extension host and mocha is loaded from node_modules at run time.
import { build } from 'esbuild';
import { readdirSync } from 'node:fs';

const suite = 'test/e2e/suite';
const entryPoints = readdirSync(suite).filter((f) => f === 'index.ts' || f.endsWith('.e2e.ts')).map((f) => `${suite}/${f}`);

await build({
  entryPoints,
  outdir: 'dist/test/e2e',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'inline',
  external: ['vscode', 'mocha'],
  logLevel: 'warning',
});
