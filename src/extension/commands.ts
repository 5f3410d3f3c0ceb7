/**
 * The HEAT commands. Each one gathers its input (files, quick picks), runs an engine job through the
 * session (progress, cancel, log, errors) and hands the result to the view that shows it.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { CheckResult, SweepRow, TensorInfo } from '../core/api';
import type { SweepResult } from '../core/sweep';
import { ABLATION_KINDS, AblationKind } from '../protocol/engine';
import { HeatSession, RunRecord } from './session';
import { activeFolder, readConfig, settingPath, writeSetting } from './settings';
import { ViewerPanel } from './viewerPanel';
import { SweepPanel } from './sweepPanel';
import { ReportPanel } from './reportPanel';

export const IMAGE_EXTENSIONS = ['png', 'jpg', 'jpeg', 'webp', 'tif', 'tiff'];

export function registerCommands(session: HeatSession): vscode.Disposable[] {
  // Every command reports its own failure in the log and a notification, never as an unhandled rejection.
  const register = (id: string, run: (...args: never[]) => unknown) => vscode.commands.registerCommand(id, async (...args: never[]) => {
    try {
      return await run(...args);
    } catch (error) {
      session.reportError(id, error);
      return undefined;
    }
  });
  return [
    register('heat.scoreImage', (uri?: vscode.Uri, uris?: vscode.Uri[]) => scoreImage(session, uri, uris)),
    register('heat.computeStatistics', () => computeStatistics(session)),
    register('heat.evaluate', () => evaluate(session)),
    register('heat.runSweep', () => runSweep(session)),
    register('heat.runAblation', (kind?: AblationKind) => runAblation(session, kind)),
    register('heat.runChecklist', () => runChecklist(session)),
    register('heat.runChecklistPhase', (item?: { phase?: number } | number) => runChecklist(session, typeof item === 'number' ? item : item?.phase)),
    register('heat.selectFeatureLayer', () => selectTensor(session, 'heat.model.featureLayer')),
    register('heat.selectLogitsTensor', () => selectTensor(session, 'heat.model.logitsTensor')),
    register('heat.openViewer', () => openViewer(session)),
    register('heat.showLog', () => session.log.show()),
    register('heat.openSample', () => openSample(session)),
    register('heat.openRun', (run?: RunRecord) => openRun(session, run)),
    register('heat.applySetting', (key: string, value: unknown) => applySetting(session, key, value)),
  ];
}

/** Images from the explorer selection, the active image preview, or an open dialog. */
async function imagesToScore(uri?: vscode.Uri, uris?: vscode.Uri[]): Promise<vscode.Uri[]> {
  const chosen: vscode.Uri[] = [];
  if (uris && uris.length > 0) chosen.push(...uris);
  else if (uri) chosen.push(uri);
  if (chosen.length === 0) {
    const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    if (input instanceof vscode.TabInputCustom && isImage(input.uri)) chosen.push(input.uri);
  }
  if (chosen.length === 0) {
    const picked = await vscode.window.showOpenDialog({ canSelectMany: true, filters: { Images: IMAGE_EXTENSIONS }, openLabel: 'Score' });
    chosen.push(...(picked ?? []));
  }
  return chosen.filter(isImage);
}

function isImage(uri: vscode.Uri): boolean {
  return IMAGE_EXTENSIONS.includes(path.extname(uri.fsPath).slice(1).toLowerCase());
}

async function scoreImage(session: HeatSession, uri?: vscode.Uri, uris?: vscode.Uri[]): Promise<void> {
  const images = await imagesToScore(uri, uris);
  if (images.length === 0) return;
  const result = await session.run(images.length === 1 ? `Score ${path.basename(images[0].fsPath)}` : `Score ${images.length} images`,
    { kind: 'score', images: images.map((u) => u.fsPath) });
  if (!result) return;
  for (const failure of result.failures) session.log.error(`Score ${failure.image}: ${failure.error}`);
  if (result.failures.length > 0) {
    // One failed image gets its reason in the message itself. Several are listed in the log.
    const text = result.failures.length === 1 && images.length === 1
      ? `HEAT could not score ${path.basename(images[0].fsPath)}: ${result.failures[0].error}`
      : `HEAT scored ${result.results.length} of ${images.length} images; ${result.failures.length} failed (see the log).`;
    void vscode.window.showWarningMessage(text, 'Show Log').then((c) => { if (c) session.log.show(); });
  }
  for (const scored of result.results) {
    const heat = scored.summary.maps['heat'];
    session.log.info(`Scored ${scored.image} on ${scored.summary.executionProvider}: HEAT ${heat ? `${heat.min.toFixed(3)}..${heat.max.toFixed(3)}` : 'not computed'}.`);
    for (const note of scored.summary.notes) session.log.info(`${path.basename(scored.image)}: ${note}`);
  }
  const last = result.results.at(-1);
  if (!last) return;
  session.setBatch(result.results);
  ViewerPanel.show(session, last);
}

async function computeStatistics(session: HeatSession): Promise<void> {
  const config = readConfigOrReport(session, 'Compute Class Statistics');
  if (!config) return;
  const folder = activeFolder();
  const configured = config['heat.statistics.path'] as string;
  const out = configured || (folder ? path.join(folder.uri.fsPath, '.heat-lens', 'statistics.safetensors') : '');
  if (!out) { void vscode.window.showErrorMessage('HEAT: open a workspace folder first; statistics are written into it.'); return; }
  const result = await session.run('Compute Class Statistics', { kind: 'statistics', out }, {}, config);
  if (result === undefined) return;
  if (!configured && folder) {
    await writeSetting('heat.statistics.path', settingPath(out, folder), folder);
    session.log.info(`Set heat.statistics.path to ${out}.`);
  }
  session.log.info(`Statistics: ${result.images} images, ${result.classCount} classes, D = ${result.dim}, feature tensor ${result.featureTensor}, labels from ${result.labelSource}.`);
  session.recordRun({ kind: 'statistics', label: `Statistics ${path.basename(result.out)} (D = ${result.dim})`, time: new Date().toISOString(), file: result.out, methods: [], rows: [], keys: [] });
  void vscode.window.showInformationMessage(`HEAT statistics written to ${result.out}.`);
}

async function evaluate(session: HeatSession): Promise<void> {
  const outDir = session.runFolder('eval');
  const result = await session.run('Evaluate Test Set', { kind: 'evaluate', outDir, split: 'test' });
  if (result === undefined) return;
  const record: RunRecord = {
    kind: 'evaluate', label: `Evaluation (${result.split}, ${result.methods.length} methods)`, time: new Date().toISOString(),
    folder: result.outDir ?? outDir, methods: result.methods.map((m) => m.metrics), rows: [], keys: [],
  };
  session.log.info(`Evaluation on ${result.executionProvider} took ${result.durationSeconds.toFixed(1)} s; threshold from ${result.thresholdSource}.`);
  session.recordRun(record);
  for (const m of record.methods) session.log.info(`${m.method}: AUPR ${fmt(m.pooled.aupr.value)}, FPR95 ${fmt(m.pooled.fpr95.value)}, AUROC ${fmt(m.pooled.auroc.value)} (pooled).`);
  await ReportPanel.show(session, record);
}

async function runSweep(session: HeatSession): Promise<void> {
  const config = readConfigOrReport(session, 'Run Sweep');
  if (!config) return;
  const grid = config['heat.sweep.grid'] as Record<string, unknown[]>;
  if (Object.keys(grid).length === 0) {
    const choice = await vscode.window.showErrorMessage('HEAT: heat.sweep.grid is empty, so there is nothing to sweep. Set it to lists of values, for example {"temperature": [0.5, 1, 2], "alpha": [0.8, 0.9]}.', 'Open Setting');
    if (choice) void vscode.commands.executeCommand('workbench.action.openWorkspaceSettings', 'heat.sweep.grid');
    return;
  }
  const outDir = session.runFolder('sweep');
  await streamRows(session, 'sweep', 'Run Sweep', Object.keys(grid), outDir, (onRow) =>
    session.run('Run Sweep', { kind: 'sweep', grid, outDir }, { onRow }, config));
}

async function runAblation(session: HeatSession, requested?: AblationKind): Promise<void> {
  const descriptions: Record<AblationKind, string> = {
    components: 'Each component alone and every combination of energy, Mahalanobis and spatial',
    normalization: 'Adaptive (EMA) against fixed and no normalization',
    layers: 'The feature layers listed in heat.ablation.layers',
  };
  const items = ABLATION_KINDS.map((k) => ({ label: k, detail: descriptions[k] }));
  const kind = requested ?? ((await vscode.window.showQuickPick(items, { title: 'HEAT: Run Ablation' }))?.label as AblationKind | undefined);
  if (!kind) return;
  const outDir = session.runFolder(`ablation-${kind}`);
  await streamRows(session, 'ablation', `Ablation: ${kind}`, [], outDir, (onRow) =>
    session.run(`Ablation: ${kind}`, { kind: 'ablation', ablation: kind, outDir }, { onRow }));
}

/** Opens the sweep panel, fills it row by row while the job runs, and records the run. */
async function streamRows(
  session: HeatSession, kind: 'sweep' | 'ablation', title: string, keys: string[], outDir: string | undefined,
  start: (onRow: (row: SweepRow) => void) => Promise<SweepResult | undefined>,
): Promise<void> {
  const panel = SweepPanel.show(session, title, keys);
  const rows: SweepRow[] = [];
  const result = await start((row) => { rows.push(row); panel.addRow(row); });
  if (result === undefined && rows.length === 0) {
    // Cancelled or failed before any configuration finished: an empty table would only stay behind as a stale tab.
    panel.dispose();
    return;
  }
  if (result) panel.setStatisticsFiles(result.statistics);
  panel.finish(result === undefined ? 'Stopped before the end (cancelled or failed; see the log).' : undefined, result && { split: result.split, images: result.images });
  const best = bestRow(rows);
  if (result) session.log.info(`${title}: ${result.rows.length} of ${result.configurationCount} configurations on ${result.images} ${result.split} images with ${result.forwardPasses} forward passes.`);
  if (best) session.log.info(`${title}: best pooled AUPR ${fmt(best.metrics.pooled.aupr.value)} with ${JSON.stringify(best.config)}.`);
  const label = `${title}${best ? ` (best AUPR ${fmt(best.metrics.pooled.aupr.value)})` : ''}`;
  session.recordRun({ kind, label, time: new Date().toISOString(), folder: outDir, methods: [], rows, keys });
}

async function runChecklist(session: HeatSession, phase?: number): Promise<void> {
  // Results replace those of the phases being run as each check finishes, so the tree and the
  // diagnostics fill while the run goes on and keep what finished when it is cancelled.
  const otherPhases = phase ? session.checks.filter((c) => c.phase !== phase) : [];
  const streamed: CheckResult[] = [];
  const publish = (running: boolean) => session.setChecks([...otherPhases, ...streamed].sort((a, b) => a.phase - b.phase), running);
  const title = phase ? `Validation Checklist, phase ${phase}` : 'Validation Checklist';
  const result = await session.run(title, { kind: 'checklist', phase }, { onCheck: (check) => { streamed.push(check); publish(true); } });
  if (result) streamed.splice(0, streamed.length, ...result);
  publish(false);
  if (!result) return;
  const count = (s: string) => result.filter((c) => c.status === s).length;
  session.log.info(`Checklist: ${count('pass')} passed, ${count('warn')} warnings, ${count('fail')} failed, ${count('skip')} skipped.`);
}

async function selectTensor(session: HeatSession, key: 'heat.model.featureLayer' | 'heat.model.logitsTensor'): Promise<void> {
  const config = readConfigOrReport(session, 'Select tensor');
  if (!config) return;
  const model = config['heat.model.path'] as string;
  if (!model) {
    const choice = await vscode.window.showErrorMessage('HEAT: heat.model.path is empty. Set it to your ONNX model first.', 'Open Setting');
    if (choice) void vscode.commands.executeCommand('workbench.action.openWorkspaceSettings', 'heat.model.path');
    return;
  }
  const inspection = await session.run(`Inspect ${path.basename(model)}`, { kind: 'inspect', model }, {}, config);
  if (!inspection) return;
  for (const warning of inspection.warnings) session.log.warn(warning);
  const listed = key === 'heat.model.logitsTensor' ? [...inspection.outputs, ...inspection.intermediates] : [...inspection.intermediates, ...inspection.outputs];
  // Float maps of rank 4 come first, because shape, index and constant tensors can be neither features nor logits.
  const isMap = (t: TensorInfo) => t.dtype === 'float32' && t.shape?.length === 4;
  const tensors = [...listed.filter(isMap), ...listed.filter((t) => !isMap(t))];
  const current = config[key] as string;
  // A module path (layer3) marks the last tensor under /layer3/, which is resolveLayer's pick in the usual case.
  // NOTE: a module found under another scope (/backbone/layer3/) gets no "current" mark here, though it resolves.
  const scope = `/${current.replace(/\./g, '/')}/`;
  const currentTensor = tensors.find((t) => t.name === current)?.name ?? [...listed].reverse().find((t) => t.name.startsWith(scope))?.name;
  const ordered = currentTensor ? [tensors.find((t) => t.name === currentTensor)!, ...tensors.filter((t) => t.name !== currentTensor)] : tensors;
  const items = ordered.map((t) => ({
    label: t.name, description: `${t.name === currentTensor ? 'current · ' : ''}${describeTensor(t)}`, detail: t.node ? `node ${t.node}` : undefined,
  }));
  const picked = await vscode.window.showQuickPick(items, {
    title: key === 'heat.model.logitsTensor' ? 'HEAT: Select Logits Tensor (pre-softmax)' : 'HEAT: Select Feature Layer',
    placeHolder: `Current: ${current || '(model default)'}`, matchOnDescription: true, matchOnDetail: true,
  });
  if (!picked) return;
  await writeSetting(key, picked.label);
  session.log.info(`Set ${key} to ${picked.label}.`);
}

function describeTensor(t: TensorInfo): string {
  const shape = t.shape ? `[${t.shape.join(', ')}]${t.measured ? ' (measured)' : ''}` : 'shape unknown';
  return `${t.kind}${t.op ? ` · ${t.op}` : ''} · ${shape} · ${t.dtype}`;
}

async function openViewer(session: HeatSession): Promise<void> {
  if (session.latest) { ViewerPanel.show(session, session.latest); return; }
  const choice = await vscode.window.showInformationMessage('HEAT: no image scored yet in this window. Score one to open the viewer.', 'Score Image…');
  if (choice) await vscode.commands.executeCommand('heat.scoreImage');
}

/** Copies the bundled sample (model, images, labels, settings) to a folder the user picks and opens it. */
async function openSample(session: HeatSession): Promise<void> {
  const source = path.join(session.context.extensionPath, 'samples', 'street');
  try {
    await fs.access(source);
  } catch {
    void vscode.window.showErrorMessage(`HEAT: the sample is missing from the extension (${source}). Reinstall HEAT Lens.`);
    return;
  }
  const parent = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Copy Sample Here', title: 'HEAT: folder to copy the sample workspace into' });
  if (!parent?.[0]) return;
  const target = await freeName(path.join(parent[0].fsPath, 'heat-sample'));
  session.log.info(`Open Sample Workspace: copying ${source} to ${target}.`);
  await fs.cp(source, target, { recursive: true, errorOnExist: true });
  session.log.info(`Copied the sample workspace to ${target}.`);
  await vscode.commands.executeCommand('vscode.openFolder', vscode.Uri.file(target), { forceNewWindow: false });
}

async function freeName(base: string): Promise<string> {
  for (let i = 0; ; i++) {
    const candidate = i === 0 ? base : `${base}-${i + 1}`;
    try { await fs.access(candidate); } catch { return candidate; }
  }
}

async function openRun(session: HeatSession, run?: RunRecord): Promise<void> {
  if (!run) return;
  if (run.kind === 'evaluate') await ReportPanel.show(session, run);
  else if (run.kind === 'statistics' && run.file) await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(run.file));
  else { const panel = SweepPanel.show(session, run.label, run.keys); for (const row of run.rows) panel.addRow(row); panel.finish(); }
}

async function applySetting(session: HeatSession, key: string, value: unknown): Promise<void> {
  // Warnings and failures measured with the old value would stay in the Problems panel until the next run. So they
  // are cleared (the settings listener in extension.ts clears them too) and the user is offered a rerun of their phases.
  const stale = session.checks.filter((c) => (c.status === 'warn' || c.status === 'fail') && c.settings.includes(key));
  await writeSetting(key, value);
  session.log.info(`Set ${key} to ${JSON.stringify(value)}.`);
  if (stale.length === 0) return;
  session.clearChecksFor([key], `Not rechecked since ${key} was set to ${JSON.stringify(value)}; run the phase again.`);
  const phases = [...new Set(stale.map((c) => c.phase))].sort((a, b) => a - b);
  // Not awaited: the command returns once the setting is written, whether or not the user picks a button.
  void vscode.window.showInformationMessage(
    `Set ${key} to ${JSON.stringify(value)}. ${stale.length} checklist result${stale.length > 1 ? 's' : ''} measured with the old value ${stale.length > 1 ? 'are' : 'is'} cleared until rechecked.`,
    ...phases.map((phase) => `Rerun Phase ${phase}`)).then((choice) => {
    const phase = phases.find((p) => choice === `Rerun Phase ${p}`);
    if (phase !== undefined) void runChecklist(session, phase);
  });
}

function readConfigOrReport(session: HeatSession, title: string) {
  try { return readConfig(); } catch (error) { session.reportError(title, error); return undefined; }
}

/** Returns the row with the highest pooled AUPR. */
export function bestRow(rows: readonly SweepRow[]): SweepRow | undefined {
  let best: SweepRow | undefined;
  for (const row of rows) {
    const v = row.metrics.pooled.aupr.value;
    if (v !== null && (!best || v > (best.metrics.pooled.aupr.value ?? -Infinity))) best = row;
  }
  return best;
}

export function fmt(value: number | null | undefined, digits = 3): string {
  return value === null || value === undefined ? 'n/a' : value.toFixed(digits);
}
