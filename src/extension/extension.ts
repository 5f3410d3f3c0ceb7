/**
 * Activation of HEAT Lens. Only HEAT's commands and views activate it, and activation does no heavy work:
 * the engine process starts on the first job.
 */
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { ChecklistDiagnostics } from './diagnostics';
import { HeatSession } from './session';
import { SidebarView } from './sidebarView';
import { ChecklistTree, RunsTree } from './trees';
import { ViewerPanel } from './viewerPanel';

let session: HeatSession | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const started = Date.now();
  session = new HeatSession(context);
  const diagnostics = new ChecklistDiagnostics(session);
  ViewerPanel.linksFor = (checks) => diagnostics.linksFor(checks);
  const runs = new RunsTree(session);
  context.subscriptions.push(
    session,
    diagnostics,
    ...registerCommands(session),
    vscode.commands.registerCommand('heat.refreshRuns', () => runs.refresh()),
    vscode.languages.registerCodeActionsProvider([{ language: 'markdown' }, { language: 'json', pattern: '**/.vscode/settings.json' }, { language: 'jsonc', pattern: '**/.vscode/settings.json' }], diagnostics, ChecklistDiagnostics.metadata),
    vscode.window.registerWebviewViewProvider(SidebarView.viewId, new SidebarView(session)),
    vscode.window.registerTreeDataProvider('heat.checklist', new ChecklistTree(session)),
    vscode.window.registerTreeDataProvider('heat.runs', runs),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (!event.affectsConfiguration('heat') || !session) return;
      session.engine.invalidate();
      session.log.info('HEAT settings changed; cached sessions are dropped and checklist diagnostics refreshed.');
      // Results measured with a setting's old value no longer hold, passes included.
      const changed = [...new Set(session.checks.flatMap((c) => c.settings))].filter((key) => event.affectsConfiguration(key));
      if (changed.length > 0) session.clearChecksFor(changed, `Not rechecked since ${changed.join(', ')} changed; run the phase again.`);
      diagnostics.refreshSoon();
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => session?.log.info('Workspace trusted; HEAT commands can run models now.')),
  );
  const trust = vscode.workspace.isTrusted ? '' : ' Workspace not trusted: models will not run.';
  session.log.info(`HEAT Lens activated in ${Date.now() - started} ms.${trust}`);
}

export function deactivate(): void {
  session?.engine.dispose();
  session = undefined;
}
