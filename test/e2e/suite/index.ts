// Entry point the extension host loads as extensionTestsPath (code-server started with
// --vscode-option enable-smoke-test-driver). Runs every bundled *.e2e.js beside it with mocha and writes
// the counts to the results file named in config.json, which scripts/e2e/run.sh writes before the run.
import { readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';
import { loadConfig } from './config';

export function run(): Promise<void> {
  const config = loadConfig();
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 120_000, reporter: 'spec', grep: config.grep });
  for (const file of readdirSync(__dirname).filter((f) => f.endsWith('.e2e.js')).sort()) {
    mocha.addFile(path.join(__dirname, file));
  }

  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      const stats = runner.stats!;
      writeFileSync(config.resultsFile, JSON.stringify({ passes: stats.passes, failures, pending: stats.pending, durationMs: stats.duration }));
      console.log(`extension host: ${stats.passes} passed, ${failures} failed, ${stats.pending} skipped`);
      if (failures > 0) reject(new Error(`${failures} extension-host tests failed`));
      else resolve();
    });
    // keep the titles of failures in the log even when the reporter output is cut
    runner.on('fail', (test, error) => console.log(`FAILED: ${test.fullTitle()}: ${error.message}`));
  });
}

