/** Sweep and ablation table: rows arrive while the job runs; "Apply" writes a row's values to settings. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { SweepRow } from '../core/api';
import { settingSpec } from '../core/config';
import type { HostToSweep, SweepToHost } from '../protocol/webview';
import type { HeatSession } from './session';
import { readConfig, settingPath, writeSetting } from './settings';
import { webviewHtml, webviewOptions } from './webviewHtml';

/** Maps a sweep grid key (temperature, covariance, …) to the heat.* setting it varies. */
export const GRID_KEY_SETTINGS: Record<string, string> = {
  temperature: 'heat.score.temperature',
  alpha: 'heat.score.alpha',
  kernelSize: 'heat.score.kernelSize',
  covariance: 'heat.statistics.covariance',
  featureLayer: 'heat.model.featureLayer',
  spatialMethod: 'heat.score.spatialMethod',
  padding: 'heat.score.padding',
  combination: 'heat.score.combination',
  normalization: 'heat.score.normalization',
  components: 'heat.score.components',
};

export class SweepPanel {
  private readonly queue: HostToSweep[] = [];
  private ready = false;
  /** Statistics file of each feature layer the run scored, known once the run has finished. */
  private statisticsFiles = new Map<string, string>();

  static show(session: HeatSession, title: string, keys: string[]): SweepPanel {
    const panel = vscode.window.createWebviewPanel('heat.sweep', `HEAT: ${title}`, vscode.ViewColumn.Active, { ...webviewOptions(session.context.extensionUri), retainContextWhenHidden: true });
    return new SweepPanel(panel, session, title, keys);
  }

  private constructor(private readonly panel: vscode.WebviewPanel, private readonly session: HeatSession, title: string, keys: string[]) {
    panel.webview.html = webviewHtml(panel.webview, session.context.extensionUri, 'sweep', title, '<main id="app">Waiting for the first row…</main>');
    panel.webview.onDidReceiveMessage((m: SweepToHost) => this.receive(m));
    this.post({ type: 'started', title, keys });
  }

  /** Closes the panel, for a run that ended without a row to show. */
  dispose(): void {
    this.panel.dispose();
  }

  /** Records the statistics file of each layer, so that applying a layer also applies its statistics. */
  setStatisticsFiles(records: readonly { layer: string; file: string }[]): void {
    this.statisticsFiles = new Map(records.map((r) => [r.layer, r.file]));
  }

  addRow(row: SweepRow): void {
    this.post({ type: 'row', row });
  }

  /** Marks the run as ended; `scope` names the split the rows were measured on. */
  finish(error?: string, scope?: { split: string; images: number }): void {
    this.post({ type: 'finished', error, split: scope?.split, images: scope?.images });
  }

  /** Queues messages until the webview reports that it is ready, so that no early row is lost. */
  private post(message: HostToSweep): void {
    if (!this.ready) { this.queue.push(message); return; }
    void this.panel.webview.postMessage(message);
  }

  private async receive(message: SweepToHost): Promise<void> {
    if (message.type === 'ready') {
      this.ready = true;
      for (const queued of this.queue.splice(0)) void this.panel.webview.postMessage(queued);
      return;
    }
    const current = readConfig();
    const applied: string[] = [];
    for (const [key, value] of Object.entries(message.config)) {
      const setting = GRID_KEY_SETTINGS[key] ?? (key.startsWith('heat.') ? key : undefined);
      if (!setting || !settingSpec(setting)) {
        this.session.log.warn(`Sweep key ${key} has no matching heat.* setting; not applied.`);
        continue;
      }
      // Only values that differ are written, so settings.json gains no copies of defaults.
      if (JSON.stringify(current[setting]) === JSON.stringify(value)) continue;
      await writeSetting(setting, value);
      applied.push(`${setting} = ${JSON.stringify(value)}`);
    }
    // A feature layer needs statistics made for it; those of the configured layer would not load.
    const layer = message.config.featureLayer;
    const file = typeof layer === 'string' ? this.statisticsFiles.get(layer) : undefined;
    if (file) {
      // The configuration contains the path resolved against the workspace folder, so the absolute paths are compared.
      if (current['heat.statistics.path'] !== path.resolve(file)) {
        const value = settingPath(file);
        await writeSetting('heat.statistics.path', value);
        applied.push(`heat.statistics.path = ${JSON.stringify(value)}`);
      }
    } else if (typeof layer === 'string') {
      this.session.log.warn(`No statistics file is known for layer ${layer} (the run has not finished); heat.statistics.path is unchanged.`);
    }
    this.session.log.info(`Applied sweep row: ${applied.join(', ')}.`);
    void vscode.window.showInformationMessage(`HEAT: applied ${applied.join(', ') || 'nothing'} to the workspace settings.`);
  }
}
