// Runs the extension-host suite inside code-server, the way @vscode/test-electron does on the desktop:
// the workbench URL carries extensionDevelopmentPath and extensionTestsPath (honoured because code-server
// runs with --vscode-option enable-smoke-test-driver); the suite's console output comes back through
// window.codeAutomationLog and its end through window.codeAutomationExit(code).
//
// Environment: HEAT_E2E_URL (code-server), HEAT_E2E_WORKSPACE, HEAT_E2E_EXTENSION (the unpacked VSIX),
// HEAT_E2E_TESTS (dist/test/e2e/index.js), HEAT_E2E_ARTIFACTS, HEAT_E2E_TIMEOUT_MS.
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { format } from 'node:util';
import { launchBrowser } from '../../test/e2e/browser';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set; scripts/e2e/run.sh sets it.`);
  return value;
}

// workbench chatter that says nothing about the extension under test
const NOISE = /Ignoring fetching additional builtin extensions|Updating additional builtin extensions cache|^\[AgentHost|^\[AccountPolicyGate/;

async function main(): Promise<number> {
  const base = required('HEAT_E2E_URL');
  const workspace = required('HEAT_E2E_WORKSPACE');
  const extension = required('HEAT_E2E_EXTENSION');
  const tests = required('HEAT_E2E_TESTS');
  const artifacts = required('HEAT_E2E_ARTIFACTS');
  const timeoutMs = Number(process.env.HEAT_E2E_TIMEOUT_MS ?? 20 * 60_000);
  const authority = new URL(base).host;

  const browser = await launchBrowser();
  // `timeout` in run.sh ends a hung run with SIGTERM: close Chromium rather than leave it behind
  process.once('SIGTERM', () => void browser.close().finally(() => process.exit(124)));
  let finish!: (code: number | string) => void;
  const exited = new Promise<number | string>((resolve) => (finish = resolve));
  await browser.page.exposeFunction('codeAutomationLog', (type: string, args: unknown) => {
    const text = format(...([] as unknown[]).concat(args).map((a) => (typeof a === 'string' ? a : JSON.stringify(a))));
    // the workbench forwards its own errors too; a stack inside workbench.js without HEAT in it is not ours
    if (/\/static\/out\/vs\//.test(text) && !/heat/i.test(text)) return;
    if (!NOISE.test(text)) process.stdout.write(text.split('\n').map((l) => `  [ext-host ${type}] ${l}`).join('\n') + '\n');
  });
  await browser.page.exposeFunction('codeAutomationExit', (code: number) => finish(code));

  const payload = [
    ['extensionDevelopmentPath', `vscode-remote://${authority}${extension}`],
    ['extensionTestsPath', `vscode-remote://${authority}${tests}`],
  ];
  await browser.page.goto(`${base}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`);
  const timer = setTimeout(() => finish('timeout'), timeoutMs);
  const code = await exited;
  clearTimeout(timer);

  await browser.page.screenshot({ path: path.join(artifacts, 'ext-host-end.png') }).catch(() => undefined);
  writeFileSync(path.join(artifacts, 'ext-host-console.log'), browser.consoleLines.join('\n'));
  const offLoopback = [...browser.offLoopback];
  await browser.close();

  if (offLoopback.length > 0) {
    console.log(`FAILED: the workbench tried to reach beyond loopback (aborted): ${offLoopback.slice(0, 10).join(', ')}`);
    return 1;
  }
  console.log(`extension-host suite ended with ${code === 'timeout' ? `a timeout after ${timeoutMs} ms` : `exit code ${code}`}`);
  return code === 0 ? 0 : 1;
}

main().then((code) => process.exit(code), (error) => {
  console.error(error);
  process.exit(1);
});
