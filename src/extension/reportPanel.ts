/** Evaluation report: the metric table and the PR/ROC plots (SVG files of the report folder). */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { HostToReport, ReportPlot, ReportToHost } from '../protocol/webview';
import type { HeatSession, RunRecord } from './session';
import { webviewHtml, webviewOptions } from './webviewHtml';

export class ReportPanel {
  static async show(session: HeatSession, run: RunRecord): Promise<void> {
    const panel = vscode.window.createWebviewPanel('heat.report', `HEAT: ${run.label}`, vscode.ViewColumn.Active, webviewOptions(session.context.extensionUri));
    panel.webview.html = webviewHtml(panel.webview, session.context.extensionUri, 'report', run.label, '<main id="app">Loading report…</main>');
    // Listen before reading the plots, so the webview's early "ready" is not missed.
    let ready = false;
    let message: HostToReport | undefined;
    panel.webview.onDidReceiveMessage((m: ReportToHost) => {
      if (m.type === 'ready') { ready = true; if (message) void panel.webview.postMessage(message); }
      if (m.type === 'openFolder' && run.folder) void vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(run.folder));
    });
    const plots = run.folder ? await readPlots(run.folder) : [];
    message = {
      type: 'report', title: run.label, folder: run.folder ?? '', methods: run.methods, plots,
      notes: run.methods.length === 0 ? ['The evaluation returned no method metrics; see the log.'] : [],
    };
    if (ready) void panel.webview.postMessage(message);
  }
}

/** SVG plots of a report (PR and ROC curves written by core under plots/), read as text. */
async function readPlots(folder: string): Promise<ReportPlot[]> {
  const plots: ReportPlot[] = [];
  for (const dir of [folder, path.join(folder, 'plots')]) {
    let names: string[];
    try {
      names = await fs.readdir(dir);
    } catch {
      continue;
    }
    for (const name of names.filter((n) => n.toLowerCase().endsWith('.svg')).sort()) {
      plots.push({ name, svg: await fs.readFile(path.join(dir, name), 'utf8') });
    }
  }
  return plots;
}
