/** Checklist tree (phases → checks with status icons) and Runs tree (statistics, evaluations, sweeps). */
import * as vscode from 'vscode';
import type { CheckResult, CheckStatus } from '../core/api';
import type { HeatSession, RunRecord } from './session';
import { bestRow, fmt } from './commands';

const STATUS_ICONS: Record<CheckStatus, vscode.ThemeIcon> = {
  pass: new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed')),
  warn: new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground')),
  fail: new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed')),
  skip: new vscode.ThemeIcon('circle-slash'),
};

const PHASE_TITLES: Record<number, string> = {
  1: 'Energy score baseline', 2: 'Feature statistics', 3: 'Mahalanobis distance', 4: 'Spatial consistency', 5: 'Combination and normalization', 6: 'Full HEAT',
};

type ChecklistNode = { phase: number; checks: CheckResult[] } | CheckResult;

/** Worst status first: fail, warn, pass, skip. */
function worst(checks: CheckResult[]): CheckStatus {
  for (const status of ['fail', 'warn', 'pass'] as const) if (checks.some((c) => c.status === status)) return status;
  return 'skip';
}

export class ChecklistTree implements vscode.TreeDataProvider<ChecklistNode> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly session: HeatSession) {
    session.onDidCheck.event(() => this.changed.fire());
  }

  getChildren(node?: ChecklistNode): ChecklistNode[] {
    if (!node) {
      const phases = [...new Set(this.session.checks.map((c) => c.phase))].sort((a, b) => a - b);
      return phases.map((phase) => ({ phase, checks: this.session.checks.filter((c) => c.phase === phase) }));
    }
    return 'checks' in node ? node.checks : [];
  }

  getTreeItem(node: ChecklistNode): vscode.TreeItem {
    if ('checks' in node) {
      const item = new vscode.TreeItem(`Phase ${node.phase}: ${PHASE_TITLES[node.phase] ?? ''}`, vscode.TreeItemCollapsibleState.Expanded);
      item.contextValue = 'heatPhase';
      item.iconPath = STATUS_ICONS[worst(node.checks)];
      const count = (s: CheckStatus) => node.checks.filter((c) => c.status === s).length;
      item.description = `${count('pass')}/${node.checks.length} passed`;
      item.id = `phase-${node.phase}`;
      return item;
    }
    const item = new vscode.TreeItem(node.title, vscode.TreeItemCollapsibleState.None);
    item.id = node.id;
    item.iconPath = STATUS_ICONS[node.status];
    item.description = node.status;
    item.contextValue = `heatCheck.${node.status}`;
    const tooltip = new vscode.MarkdownString();
    tooltip.appendMarkdown(`**${node.status.toUpperCase()}** · ${node.title}\n\n`);
    tooltip.appendText(node.evidence);
    if (node.fix) tooltip.appendMarkdown(`\n\n*Fix:* `).appendText(node.fix.description);
    if (node.settings.length > 0) tooltip.appendMarkdown(`\n\nSettings: ${node.settings.map((s) => `\`${s}\``).join(', ')}`);
    item.tooltip = tooltip;
    return item;
  }
}

type RunNode = RunRecord | { detail: string };

export class RunsTree implements vscode.TreeDataProvider<RunNode> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly session: HeatSession) {
    session.onDidRecordRun.event(() => this.changed.fire());
  }

  refresh(): void {
    this.changed.fire();
  }

  getChildren(node?: RunNode): RunNode[] {
    if (!node) return this.session.runs;
    if ('detail' in node) return [];
    if (node.kind === 'evaluate') {
      return node.methods.map((m) => ({ detail: `${m.method}: AUPR ${fmt(m.pooled.aupr.value)} · FPR95 ${fmt(m.pooled.fpr95.value)} · AUROC ${fmt(m.pooled.auroc.value)}` }));
    }
    if (node.kind === 'sweep' || node.kind === 'ablation') {
      const best = bestRow(node.rows);
      return [{ detail: `${node.rows.length} configurations` }, ...(best ? [{ detail: `best: ${JSON.stringify(best.config)} AUPR ${fmt(best.metrics.pooled.aupr.value)}` }] : [])];
    }
    return node.file ? [{ detail: node.file }] : [];
  }

  getTreeItem(node: RunNode): vscode.TreeItem {
    if ('detail' in node) return new vscode.TreeItem(node.detail);
    const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.Collapsed);
    item.description = new Date(node.time).toLocaleString();
    item.iconPath = new vscode.ThemeIcon({ statistics: 'database', evaluate: 'graph', sweep: 'table', ablation: 'beaker' }[node.kind]);
    item.command = { command: 'heat.openRun', title: 'Open Run Report', arguments: [node] };
    item.tooltip = node.folder ?? node.file ?? node.label;
    return item;
  }
}
