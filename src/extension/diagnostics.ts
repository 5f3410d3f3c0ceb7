/**
 * Checklist results as diagnostics on `.vscode/settings.json` keys and on Markdown checklist lines, with
 * quick fixes. Placement logic lives in placement.ts (no vscode) and is unit-tested there.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { CheckResult } from '../core/api';
import type { CheckLink, PlacedCheck } from '../protocol/webview';
import { Placement, placeResults } from './placement';
import type { HeatSession } from './session';
import { activeFolder } from './settings';

const SEVERITY = { error: vscode.DiagnosticSeverity.Error, warning: vscode.DiagnosticSeverity.Warning, information: vscode.DiagnosticSeverity.Information };

/** Diagnostic carrying its placement, so quick fixes know the check and the line. */
class CheckDiagnostic extends vscode.Diagnostic {
  constructor(readonly placement: Placement, readonly result: CheckResult) {
    super(new vscode.Range(placement.span.start.line, placement.span.start.character, placement.span.end.line, placement.span.end.character), placement.message, SEVERITY[placement.severity]);
    this.source = 'HEAT';
    this.code = result.id;
  }
}

export class ChecklistDiagnostics implements vscode.Disposable, vscode.CodeActionProvider {
  static readonly metadata: vscode.CodeActionProviderMetadata = { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] };
  private readonly collection = vscode.languages.createDiagnosticCollection('heat');
  private placements: Placement[] = [];
  private readonly disposables: vscode.Disposable[] = [];
  private refreshTimer?: NodeJS.Timeout;
  private reportNext = true;

  constructor(private readonly session: HeatSession) {
    this.disposables.push(
      this.collection,
      session.onDidCheck.event(({ running }) => this.refreshSoon(!running)),
      vscode.workspace.onDidSaveTextDocument((d) => { if (d.languageId === 'markdown' || d.fileName.endsWith('settings.json')) this.refreshSoon(); }),
      vscode.commands.registerCommand('heat.tickChecklistItem', tick),
    );
    void this.refresh();
  }

  /** Refreshes after a short pause, so that a burst of streamed results costs one workspace scan. */
  refreshSoon(report = true): void {
    this.reportNext ||= report;
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => void this.refresh(), 300);
  }

  /** Places every result again. The placement count is logged unless a checklist run is still streaming. */
  async refresh(): Promise<void> {
    const report = this.reportNext;
    this.reportNext = false;
    const results = this.session.checks;
    const folder = activeFolder();
    this.collection.clear();
    if (!folder || results.length === 0) { this.placements = []; return; }
    const configuration = vscode.workspace.getConfiguration('heat', folder.uri);
    const settingsUri = vscode.Uri.joinPath(folder.uri, '.vscode', 'settings.json');
    const settings = await readText(settingsUri);
    const pattern = new vscode.RelativePattern(folder, configuration.get<string>('checklist.files', '**/*.md'));
    const files = await vscode.workspace.findFiles(pattern, '**/node_modules/**', 200);
    const markdown = (await Promise.all(files.map(async (uri) => ({ file: uri.fsPath, text: await readText(uri) }))))
      .filter((d): d is { file: string; text: string } => d.text !== undefined);

    this.placements = placeResults({
      results, markdown, showPassed: configuration.get<boolean>('checklist.showPassed', true),
      settings: settings === undefined ? undefined : { file: settingsUri.fsPath, text: settings },
    });
    const byFile = new Map<string, vscode.Diagnostic[]>();
    const byId = new Map(results.map((r) => [r.id, r]));
    for (const placement of this.placements) {
      const list = byFile.get(placement.file) ?? [];
      list.push(new CheckDiagnostic(placement, byId.get(placement.checkId)!));
      byFile.set(placement.file, list);
    }
    for (const [file, list] of byFile) this.collection.set(vscode.Uri.file(file), list);
    if (report) this.session.log.info(`Placed ${this.placements.length} checklist diagnostics in ${byFile.size} files.`);
  }

  /** Results with the places they were put, for the viewer's checklist section. */
  linksFor(checks: readonly CheckResult[]): PlacedCheck[] {
    return checks.map((check) => ({
      ...check,
      links: this.placements.filter((p) => p.checkId === check.id).map((p): CheckLink => p.key
        ? { kind: 'setting', key: p.key, file: p.file, line: p.span.start.line }
        : { kind: 'checklist', file: p.file, line: p.span.start.line, text: p.checklistLine?.text ?? path.basename(p.file) }),
    }));
  }

  provideCodeActions(document: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const actions: vscode.CodeAction[] = [];
    for (const diagnostic of context.diagnostics) {
      if (!(diagnostic instanceof CheckDiagnostic)) continue;
      actions.push(...quickFixes(document, diagnostic));
    }
    return actions;
  }

  dispose(): void {
    clearTimeout(this.refreshTimer);
    for (const d of this.disposables) d.dispose();
  }
}

/** Quick fixes: the check's own suggested setting or command, the two known setting fixes, and ticking a passed box. */
function quickFixes(document: vscode.TextDocument, diagnostic: CheckDiagnostic): vscode.CodeAction[] {
  const { result, placement } = diagnostic;
  const actions: vscode.CodeAction[] = [];
  const add = (title: string, command: vscode.Command, preferred = false) => {
    const action = new vscode.CodeAction(title, vscode.CodeActionKind.QuickFix);
    action.diagnostics = [diagnostic];
    action.command = command;
    action.isPreferred = preferred;
    actions.push(action);
  };
  if (result.status !== 'pass') {
    const fix = result.fix;
    if (fix?.setting && fix.value !== undefined) add(`HEAT: set ${fix.setting} to ${JSON.stringify(fix.value)}`, { title: 'Apply', command: 'heat.applySetting', arguments: [fix.setting, fix.value] }, true);
    if (fix?.command) add(`HEAT: ${fix.description}`, { title: fix.description, command: fix.command });
    if (result.settings.includes('heat.score.padding') && fix?.setting !== 'heat.score.padding') add('HEAT: switch padding to "exclude"', { title: 'Apply', command: 'heat.applySetting', arguments: ['heat.score.padding', 'exclude'] });
    if (result.settings.includes('heat.statistics.covariance') && fix?.setting !== 'heat.statistics.covariance') add('HEAT: switch to tied covariance', { title: 'Apply', command: 'heat.applySetting', arguments: ['heat.statistics.covariance', 'tied'] });
    if (result.phase === 2 || result.settings.some((s) => s.startsWith('heat.statistics.'))) add('HEAT: recompute class statistics', { title: 'Recompute', command: 'heat.computeStatistics' });
  }
  const line = placement.checklistLine;
  if (result.status === 'pass' && line && !line.checked) {
    add('HEAT: tick this checklist item (the check passed)', { title: 'Tick', command: 'heat.tickChecklistItem', arguments: [document.uri.toString(), line.line, line.boxColumn] }, true);
  }
  return actions;
}

/**
 * Ticks the box at (line, column). The quick fix passes the file as a URI string; callers of the command
 * may also pass a Uri or URI components.
 */
async function tick(target: vscode.Uri | string | Parameters<typeof vscode.Uri.from>[0], line: number, column: number): Promise<void> {
  let uri: vscode.Uri;
  if (target instanceof vscode.Uri) uri = target;
  else if (typeof target === 'string') uri = target.includes('://') ? vscode.Uri.parse(target) : vscode.Uri.file(target);
  else uri = vscode.Uri.from(target);
  const edit = new vscode.WorkspaceEdit();
  edit.replace(uri, new vscode.Range(line, column, line, column + 1), 'x');
  if (!(await vscode.workspace.applyEdit(edit))) throw new Error(`Ticking line ${line + 1} of ${uri.fsPath} failed: the edit was rejected.`);
}

async function readText(uri: vscode.Uri): Promise<string | undefined> {
  try {
    return new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
  } catch {
    return undefined;
  }
}
