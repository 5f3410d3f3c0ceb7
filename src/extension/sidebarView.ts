/** The side view: the latest scored image's HEAT map, its weights bar and key numbers. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ScoredImage } from '../core/api';
import { packArray } from '../protocol/maps';
import type { ColorMapName, HostToSidebar, SidebarSummary, SidebarToHost } from '../protocol/webview';
import type { HeatSession } from './session';
import { webviewHtml, webviewOptions } from './webviewHtml';

export class SidebarView implements vscode.WebviewViewProvider {
  static readonly viewId = 'heat.latest';
  private view?: vscode.WebviewView;

  constructor(private readonly session: HeatSession) {
    session.onDidScore.event(() => this.update());
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    view.webview.options = webviewOptions(this.session.context.extensionUri);
    view.webview.html = webviewHtml(view.webview, this.session.context.extensionUri, 'sidebar', 'HEAT latest image', '<main id="app"></main>');
    view.webview.onDidReceiveMessage((m: SidebarToHost) => {
      if (m.type === 'ready') this.update();
      if (m.type === 'openViewer') void vscode.commands.executeCommand('heat.openViewer');
      if (m.type === 'scoreImage') void vscode.commands.executeCommand('heat.scoreImage');
    });
    view.onDidDispose(() => { this.view = undefined; });
  }

  private update(): void {
    if (!this.view) return;
    const message: HostToSidebar = this.session.latest
      ? { type: 'latest', summary: summarize(this.session.latest, vscode.workspace.getConfiguration('heat').get<ColorMapName>('viewer.colorMap', 'viridis')) }
      : { type: 'empty', reason: vscode.workspace.isTrusted ? 'No image scored yet. Right-click an image in the explorer and choose "Score Image".' : 'This workspace is not trusted, so HEAT does not run models here.' };
    void this.view.webview.postMessage(message);
  }
}

function mean(data: Float32Array | undefined): number {
  if (!data || data.length === 0) return NaN;
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum += data[i];
  return sum / data.length;
}

/** Key numbers of one scored image for the side view. */
export function summarize(scored: ScoredImage, colorMap: ColorMapName): SidebarSummary {
  const heat = scored.maps['heat-normalized'] ?? scored.maps.heat ?? Object.values(scored.maps).find(Boolean)!;
  const s = scored.summary;
  const range = (name: keyof typeof s.maps) => { const m = s.maps[name]; return m ? `${m.min.toPrecision(4)} … ${m.max.toPrecision(4)}` : 'n/a'; };
  return {
    image: path.basename(scored.image),
    width: heat.width,
    height: heat.height,
    heat: packArray(heat.data.slice()),
    weightMeans: {
      energy: mean(scored.maps['weight-energy']?.data),
      mahalanobis: mean(scored.maps['weight-mahalanobis']?.data),
      spatial: mean(scored.maps['weight-spatial']?.data),
    },
    numbers: [
      { label: 'HEAT range', value: range('heat') },
      { label: 'Energy range', value: range('energy') },
      { label: 'Mahalanobis range', value: s.combinedWithoutMahalanobis ? 'off (no statistics)' : range('mahalanobis') },
      { label: 'Provider', value: s.executionProvider },
      { label: 'Run time', value: `${Object.values(s.timings).reduce((a, b) => a + b, 0).toFixed(0)} ms` },
    ],
    colorMap,
  };
}
