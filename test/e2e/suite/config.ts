// Settings of one extension-host test run, written by scripts/e2e/run.sh next to the test bundle
// (environment variables do not reliably reach code-server's extension host).
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

export interface E2eConfig {
  /** where index.ts writes {passes, failures, pending} */
  resultsFile: string;
  /** screenshots, logs and other evidence */
  artifactsDir: string;
  /** the checkout the tests were built from (fixtures are read from it) */
  repoRoot: string;
  /** workspace-relative path of the user's guide copied into the temporary workspace, when ../shared/seed had it */
  guidePath?: string;
  /** code-server's logs folder; the extension's log channel is written under it */
  logsDir: string;
  /** mocha grep, to rerun a subset */
  grep?: string;
}

export function loadConfig(): E2eConfig {
  const file = path.join(__dirname, 'config.json');
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as E2eConfig;
  } catch (error) {
    throw new Error(`Cannot read ${file} (${(error as Error).message}); scripts/e2e/run.sh writes it before the run.`);
  }
}
