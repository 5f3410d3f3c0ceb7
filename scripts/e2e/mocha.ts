// Runs Node-side e2e suites (VSIX checks, UI tests) with mocha's spec reporter and writes their counts to
// a JSON file, so run.sh can add up every phase into one closing line.
//   tsx scripts/e2e/mocha.ts RESULTS.json FILE...
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

const [resultsFile, ...files] = process.argv.slice(2);
if (!resultsFile || files.length === 0) {
  console.error('usage: tsx scripts/e2e/mocha.ts RESULTS.json FILE...');
  process.exit(2);
}

const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 180_000, reporter: 'spec', grep: process.env.HEAT_E2E_GREP });
for (const file of files) mocha.addFile(path.resolve(file));
const runner = mocha.run((failures) => {
  const stats = runner.stats!;
  writeFileSync(resultsFile, JSON.stringify({ passes: stats.passes, failures, pending: stats.pending, durationMs: stats.duration }));
  process.exitCode = failures > 0 ? 1 : 0;
});
