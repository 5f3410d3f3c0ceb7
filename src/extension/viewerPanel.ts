/**
 * The heatmap viewer panel: one per window, reused for each newly scored image. Maps go to the webview as
 * ArrayBuffers; class probabilities stay here and are looked up when the webview requests a pixel.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { CheckResult, MapName, ScoredImage } from '../core/api';
import { validationThresholds } from '../core/eval/viewerThresholds';
import { packArray, PackedArray } from '../protocol/maps';
import type { CheckLink, ColorMapName, HostToViewer, PlacedCheck, ViewerImage, ViewerThresholds, ViewerToHost } from '../protocol/webview';
import type { HeatSession } from './session';
import { webviewHtml, webviewOptions } from './webviewHtml';

export class ViewerPanel {
  static readonly viewType = 'heat.viewer';
  private static current?: ViewerPanel;
  /** Lookup of the places each check is shown as a diagnostic. The diagnostics part sets it. */
  static linksFor: (checks: readonly CheckResult[]) => PlacedCheck[] = (checks) => checks.map((c) => ({ ...c, links: [] }));

  private scored: ScoredImage;
  private readonly disposables: vscode.Disposable[] = [];

  static show(session: HeatSession, scored: ScoredImage): ViewerPanel {
    if (ViewerPanel.current) {
      ViewerPanel.current.scored = scored;
      ViewerPanel.current.panel.title = `HEAT: ${path.basename(scored.image)}`;
      ViewerPanel.current.panel.reveal(undefined, true);
      ViewerPanel.current.sendImage();
      return ViewerPanel.current;
    }
    const panel = vscode.window.createWebviewPanel(ViewerPanel.viewType, `HEAT: ${path.basename(scored.image)}`, vscode.ViewColumn.Beside,
      { ...webviewOptions(session.context.extensionUri), retainContextWhenHidden: true });
    ViewerPanel.current = new ViewerPanel(panel, session, scored);
    return ViewerPanel.current;
  }

  private constructor(private readonly panel: vscode.WebviewPanel, private readonly session: HeatSession, scored: ScoredImage) {
    this.scored = scored;
    panel.iconPath = vscode.Uri.joinPath(session.context.extensionUri, 'media', 'heat.svg');
    panel.webview.html = webviewHtml(panel.webview, session.context.extensionUri, 'viewer', 'HEAT viewer', '<main id="app" aria-busy="true">Loading…</main>');
    this.disposables.push(
      panel.webview.onDidReceiveMessage((m: ViewerToHost) => this.receive(m)),
      session.onDidCheck.event(() => this.sendChecks()),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  /** VS Code's postMessage carries ArrayBuffers natively; the arrays inside `message` are already packed. */
  private post(message: HostToViewer): void {
    void this.panel.webview.postMessage(message);
  }

  private receive(message: ViewerToHost): void {
    switch (message.type) {
      case 'ready':
        this.sendImage();
        this.sendChecks();
        break;
      case 'probe':
        this.post({ type: 'probed', seq: message.seq, x: message.x, y: message.y, top: this.topClasses(message.x, message.y) });
        break;
      case 'export':
        void this.exportMaps(message.files);
        break;
      case 'openLink':
        void openLink(message.link);
        break;
      case 'runChecklist':
        void vscode.commands.executeCommand('heat.runChecklist');
        break;
      case 'selectImage': {
        const chosen = this.session.batch[message.index];
        if (!chosen) break;
        this.scored = chosen;
        this.panel.title = `HEAT: ${path.basename(chosen.image)}`;
        this.sendImage();
        break;
      }
    }
  }

  private sendImage(): void {
    const image = toViewerImage(this.scored);
    const colorMap = vscode.workspace.getConfiguration('heat').get<ColorMapName>('viewer.colorMap', 'viridis');
    const batch = this.session.batch.includes(this.scored) ? this.session.batch : [this.scored];
    this.post({ type: 'show', image, colorMap, batch: { images: batch.map((s) => s.image), index: batch.indexOf(this.scored) }, thresholds: this.lastThresholds() });
  }

  /** Thresholds of the workspace's latest evaluation that chose them on the validation split (runs are newest first). */
  private lastThresholds(): ViewerThresholds | undefined {
    for (const run of this.session.runs) {
      if (run.kind !== 'evaluate') continue;
      const values = validationThresholds(run.methods);
      if (Object.keys(values).length === 0) continue;
      return { values, from: `${run.label}, ${new Date(run.time).toLocaleTimeString()}` };
    }
    return undefined;
  }

  private sendChecks(): void {
    this.post({ type: 'checks', checks: ViewerPanel.linksFor(this.session.checks) });
  }

  /** The three most probable classes at pixel (x, y), from the class-major probabilities. */
  private topClasses(x: number, y: number): { classId: number; name: string; probability: number }[] {
    const { probabilities, classCount } = this.scored;
    const { width, height } = mapSize(this.scored);
    if (x < 0 || y < 0 || x >= width || y >= height || probabilities.length < classCount * width * height) return [];
    const names = classNames(this.scored);
    const plane = width * height;
    const all = Array.from({ length: classCount }, (_, c) => ({ classId: c, name: names[c] ?? `class ${c}`, probability: probabilities[c * plane + y * width + x] }));
    return all.sort((a, b) => b.probability - a.probability).slice(0, 3);
  }

  private async exportMaps(files: { name: string; png: ArrayBuffer }[]): Promise<void> {
    const target = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Export Maps Here', title: 'HEAT: folder for the exported PNG maps' });
    if (!target?.[0]) return;
    const stem = path.basename(this.scored.image, path.extname(this.scored.image));
    for (const file of files) {
      const safe = file.name.replace(/[^a-z0-9._-]/gi, '_');
      await fs.writeFile(path.join(target[0].fsPath, `${stem}-${safe}`), new Uint8Array(file.png));
    }
    this.session.log.info(`Exported ${files.length} maps of ${this.scored.image} to ${target[0].fsPath}.`);
    this.post({ type: 'exported', folder: target[0].fsPath, files: files.length });
  }

  private dispose(): void {
    ViewerPanel.current = undefined;
    for (const d of this.disposables) d.dispose();
  }
}

function mapSize(scored: ScoredImage): { width: number; height: number } {
  const first = Object.values(scored.maps).find(Boolean);
  return first ? { width: first.width, height: first.height } : { width: 0, height: 0 };
}

function classNames(scored: ScoredImage): string[] {
  return (vscode.workspace.getConfiguration('heat').get<string[]>('model.classNames') ?? []).slice(0, scored.classCount);
}

/** Copies the arrays so that the session's copy stays usable after the webview post. */
export function toViewerImage(scored: ScoredImage): ViewerImage {
  const { width, height } = mapSize(scored);
  const maps: Partial<Record<MapName, PackedArray>> = {};
  for (const [name, map] of Object.entries(scored.maps)) if (map) maps[name as MapName] = packArray(map.data.slice());
  const names = classNames(scored);
  return {
    image: scored.image,
    width,
    height,
    classCount: scored.classCount,
    classNames: names,
    executionProvider: scored.summary.executionProvider,
    notes: scored.summary.notes,
    maps,
    prediction: packArray(scored.prediction.slice()),
    imageRgba: packArray(scored.imageRgba.slice()),
    groundTruth: scored.groundTruth ? packArray(scored.groundTruth.slice()) : undefined,
  };
}

export async function openLink(link: CheckLink): Promise<void> {
  const document = await vscode.workspace.openTextDocument(vscode.Uri.file(link.file));
  const position = new vscode.Position(link.line, 0);
  await vscode.window.showTextDocument(document, { selection: new vscode.Range(position, position), preview: false });
}
