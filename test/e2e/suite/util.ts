// Helpers for tests inside the extension host. State such as tabs and diagnostics reaches the extension
// host some time after a command returns, so tests poll for it instead of asserting at once.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

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
