/**
 * Reads the `heat.*` settings of a workspace folder into the flat object `makeConfig` validates, so the
 * extension and the CLI interpret the same keys the same way. Only values the user set are passed, so
 * defaults come from SETTINGS and relative paths resolve against the workspace folder.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { HeatConfig, SETTINGS, makeConfig, unknownSettingKeys } from '../core/config';

/** Returns the folder HEAT works in: the active editor's folder, else the first workspace folder. */
export function activeFolder(resource?: vscode.Uri): vscode.WorkspaceFolder | undefined {
  const uri = resource ?? vscode.window.activeTextEditor?.document.uri;
  return (uri && vscode.workspace.getWorkspaceFolder(uri)) ?? vscode.workspace.workspaceFolders?.[0];
}

/** Explicitly set `heat.*` values, most specific scope first. */
export function rawSettings(folder?: vscode.WorkspaceFolder): Record<string, unknown> {
  const configuration = vscode.workspace.getConfiguration(undefined, folder?.uri);
  const raw: Record<string, unknown> = {};
  for (const spec of SETTINGS) {
    const inspected = configuration.inspect(spec.key);
    const value = inspected?.workspaceFolderValue ?? inspected?.workspaceValue ?? inspected?.globalValue;
    if (value !== undefined) raw[spec.key] = value;
  }
  // A misspelt key (heat.score.alpah) would otherwise be dropped without a word, so it is passed on for makeConfig
  // to reject with the nearest known key, as the command line does.
  for (const key of unknownSettingKeys(configuration.get<Record<string, unknown>>('heat') ?? {})) raw[key] = configuration.get(key);
  return raw;
}

/** Validated configuration; throws HeatError naming the bad key and the fix. */
export function readConfig(folder = activeFolder()): HeatConfig {
  const base = folder?.uri.fsPath ?? process.cwd();
  const source = folder ? vscode.Uri.joinPath(folder.uri, '.vscode', 'settings.json').fsPath : '';
  return makeConfig(rawSettings(folder), base, source);
}

/** Writes one setting to the workspace folder's settings (or the workspace when there is no folder). */
export async function writeSetting(key: string, value: unknown, folder = activeFolder()): Promise<void> {
  const configuration = vscode.workspace.getConfiguration(undefined, folder?.uri);
  const target = folder ? vscode.ConfigurationTarget.WorkspaceFolder : vscode.ConfigurationTarget.Workspace;
  await configuration.update(key, value, target);
}

/**
 * Returns `file` as a settings value: relative to the workspace folder with "/" separators when it lies inside
 * it, so that settings.json stays valid on other machines and platforms, else the absolute path.
 */
export function settingPath(file: string, folder = activeFolder()): string {
  if (!folder) return file;
  const relative = path.relative(folder.uri.fsPath, file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative.split(path.sep).join('/');
}
