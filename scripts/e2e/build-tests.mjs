// Bundles the extension-host test suite (test/e2e/suite) for code-server's extension host:
//   node scripts/e2e/build-tests.mjs [OUTDIR]   (default dist/test/e2e)
// OUTDIR/index.js is the extensionTestsPath; each *.e2e.ts becomes its own file that index.js adds
// to mocha. `vscode` is provided by the extension host and mocha is loaded from node_modules at run time.
import { build } from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';

const suite = 'test/e2e/suite';
const entryPoints = readdirSync(suite).filter((f) => f === 'index.ts' || f.endsWith('.e2e.ts')).map((f) => `${suite}/${f}`);

// one folder per run (argument), so that runs side by side never share a bundle or its config.json;
// a renamed or deleted suite file must not linger from an earlier build
const outdir = process.argv[2] ?? 'dist/test/e2e';
rmSync(outdir, { recursive: true, force: true });

await build({
  entryPoints,
  outdir,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'inline',
  external: ['vscode', 'mocha'],
  logLevel: 'warning',
});
