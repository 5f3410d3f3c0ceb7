// Helpers for tests inside the extension host. State such as tabs and diagnostics reaches the extension
// host some time after a command returns, so tests poll for it instead of asserting at once.
import * as assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { loadConfig } from './config';

export const EXTENSION_ID = 'heat-lens.heat-lens';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns a truthy value or `timeoutMs` passes; returns the last value. */
export async function until<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000, everyMs = 200): Promise<T | undefined> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value || Date.now() > end) return value;
    await sleep(everyMs);
  }
}

export function heatExtension(): vscode.Extension<unknown> {
  const extension = vscode.extensions.getExtension(EXTENSION_ID);
  const others = vscode.extensions.all.map((e) => e.id).filter((id) => !id.startsWith('vscode.'));
  assert.ok(extension, `extension ${EXTENSION_ID} is not loaded; non-builtin extensions: ${others.join(', ') || 'none'}`);
  return extension;
}

export interface ContributedCommand {
  command: string;
  title: string;
  category?: string;
}

/** The commands the extension's package.json contributes. */
export function contributedCommands(): ContributedCommand[] {
  const contributes = (heatExtension().packageJSON as { contributes?: { commands?: ContributedCommand[] } }).contributes;
  return contributes?.commands ?? [];
}

/** True when package.json contributes the command: feature tests wait for their command to exist. */
export function hasCommand(id: string): boolean {
  return contributedCommands().some((c) => c.command === id);
}

export function workspaceRoot(): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'no workspace folder is open');
  return folder.uri;
}

export function workspaceFile(...segments: string[]): vscode.Uri {
  return vscode.Uri.joinPath(workspaceRoot(), ...segments);
}

export async function exists(uri: vscode.Uri): Promise<boolean> {
  try {
    await vscode.workspace.fs.stat(uri);
    return true;
  } catch {
    return false;
  }
}

export const allTabs = () => vscode.window.tabGroups.all.flatMap((g) => g.tabs);

export function webviewTabs(viewTypeFragment: string): vscode.Tab[] {
  return allTabs().filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.includes(viewTypeFragment));
}

export function tabSummary(): string {
  return allTabs().map((t) => (t.input instanceof vscode.TabInputWebview ? `${t.label} [${t.input.viewType}]` : t.label)).join(', ');
}

/** Diagnostics the extension published on `uri` (its collection's source names HEAT). */
export function heatDiagnostics(uri: vscode.Uri): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(uri).filter((d) => /heat/i.test(d.source ?? ''));
}

/**
 * Runs a command that may ask with quick picks or input boxes, accepting the highlighted item (or the
 * default text) each time one shows, until the command settles.
 */
export async function runAccepting<T>(id: string, args: unknown[] = [], timeoutMs = 120_000): Promise<T> {
  let settled = false;
  const result = Promise.resolve(vscode.commands.executeCommand<T>(id, ...args)).finally(() => { settled = true; });
  const end = Date.now() + timeoutMs;
  while (!settled && Date.now() < end) {
    await sleep(700);
    if (!settled) await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
  }
  return result;
}

/** Image files of the sample workspace, in a stable order. */
export async function sampleImages(glob = '**/*.{png,jpg,jpeg}'): Promise<vscode.Uri[]> {
  const found = await vscode.workspace.findFiles(glob, '**/node_modules/**');
  return found.sort((a, b) => a.path.localeCompare(b.path));
}

/** Every log file under dir whose name is the extension's channel ("HEAT Lens"). */
function logFiles(dir: string): string[] {
  const found: string[] = [];
  let entries: import('node:fs').Dirent[] = [];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return found;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...logFiles(full));
    else if (/HEAT Lens\.log$/.test(entry.name)) found.push(full);
  }
  return found;
}

/**
 * The extension's log channel as written to disk by the extension host. `since()` marks a position;
 * `linesSince(mark)` returns what was written after it, so a test reads only its own command's lines.
 */
export class HeatLog {
  private file(): string | undefined {
    const files = logFiles(loadConfig().logsDir).map((f) => ({ f, t: statSync(f).mtimeMs })).sort((a, b) => b.t - a.t);
    return files[0]?.f;
  }

  text(): string {
    const file = this.file();
    return file ? readFileSync(file, 'utf8') : '';
  }

  mark(): number {
    return this.text().length;
  }

  linesSince(mark: number): string[] {
    return this.text().slice(mark).split('\n').filter(Boolean);
  }

  errorsSince(mark: number): string[] {
    return this.linesSince(mark).filter((l) => /\[error\]/.test(l));
  }

  /** Waits until a line written after `mark` matches `pattern`; returns it or undefined. */
  async waitFor(mark: number, pattern: RegExp, timeoutMs = 60_000): Promise<string | undefined> {
    return until(() => this.linesSince(mark).find((l) => pattern.test(l)), timeoutMs, 300);
  }
}

export const heatLog = new HeatLog();

/**
 * Command ids the suites ran, so the coverage test can name the contributed commands that no test ran. Each
 * suite file is its own bundle with its own copy of this module, so the set lives on globalThis.
 */
export const exercised: Set<string> = ((globalThis as { heatE2eExercised?: Set<string> }).heatE2eExercised ??= new Set<string>());

/**
 * The engine replied that the job's core module is not in this build yet (a feature still being written).
 * Tests that meet it are reported as skipped with that reason, never as passed; they run as soon as the
 * engine has the module.
 */
export class FeatureMissing extends Error {}

const MISSING = /is not available in this engine build/;

function assertNoErrors(id: string, mark: number): void {
  const errors = heatLog.errorsSince(mark);
  const missing = errors.find((l) => MISSING.test(l));
  if (missing) throw new FeatureMissing(`${id}: ${missing.replace(/^.*\[error\]\s*/, '')}`);
  assert.deepEqual(errors, [], `${id} logged errors`);
}

/** Runs `body`; a FeatureMissing inside it skips the test (or hook) with a printed NOTE. */
export async function unlessMissing(context: Mocha.Context, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    if (!(error instanceof FeatureMissing)) throw error;
    console.log(`      NOTE skipped, waiting for the engine: ${error.message}`);
    context.skip();
  }
}

/**
 * Runs a HEAT command the way the palette or a menu does and fails on any error the extension logged
 * meanwhile (FeatureMissing when the engine lacks the job). Returns the log lines the command wrote.
 */
export async function runHeatCommand(id: string, ...args: unknown[]): Promise<string[]> {
  exercised.add(id);
  const mark = heatLog.mark();
  await vscode.commands.executeCommand(id, ...args);
  await sleep(300);
  assertNoErrors(id, mark);
  return heatLog.linesSince(mark);
}

/**
 * Like runHeatCommand, for a command that may wait on a notification's buttons (an information message
 * offering a next step): after `answerAfterMs` the notifications are closed, which answers "no choice".
 */
export async function runHeatCommandDismissing(id: string, answerAfterMs: number, ...args: unknown[]): Promise<string[]> {
  exercised.add(id);
  const mark = heatLog.mark();
  let settled = false;
  const run = Promise.resolve(vscode.commands.executeCommand(id, ...args)).finally(() => { settled = true; });
  await Promise.race([run, sleep(answerAfterMs)]);
  if (!settled) await vscode.commands.executeCommand('notifications.clearAll');
  await run;
  await sleep(300);
  assertNoErrors(id, mark);
  return heatLog.linesSince(mark);
}

/** Sets a `heat.*` workspace setting and returns a function that puts the old value back. */
export async function setWorkspaceSetting(key: string, value: unknown): Promise<() => Promise<void>> {
  const section = vscode.workspace.getConfiguration();
  const before = section.inspect(key)?.workspaceValue;
  await section.update(key, value, vscode.ConfigurationTarget.Workspace);
  return async () => vscode.workspace.getConfiguration().update(key, before, vscode.ConfigurationTarget.Workspace);
}

/** A test of an engine feature: skipped with a NOTE while the engine lacks the feature, see FeatureMissing. */
export function feature(title: string, body: () => Promise<void>): Mocha.Test {
  return it(title, async function () {
    await unlessMissing(this, body);
  });
}
