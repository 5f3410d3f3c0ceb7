/**
 * State shared by the extension's parts: the log, the engine client, the status bar, the latest scored
 * image, checklist results and recorded runs. Parts subscribe to the events they render.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { CheckResult, MethodMetrics, ScoredImage, SweepRow } from '../core/api';
import type { HeatConfig } from '../core/config';
import { EngineError, EngineJob, JobKind, JobResults } from '../protocol/engine';
import { EngineClient, EngineState, RunOptions } from './engineClient';
import { activeFolder, readConfig } from './settings';

/** A finished statistics, evaluation, sweep or ablation run, listed in the Runs tree. */
export interface RunRecord {
  kind: 'statistics' | 'evaluate' | 'sweep' | 'ablation';
  label: string;
  time: string;
  folder?: string;
  file?: string;
  methods: MethodMetrics[];
  rows: SweepRow[];
  keys: string[];
}

/** Maximum number of scored images kept in memory for the viewer; each contains every map and the class probabilities. */
const BATCH_LIMIT = 12;

export class HeatSession implements vscode.Disposable {
  readonly log = vscode.window.createOutputChannel('HEAT Lens', { log: true });
  readonly engine: EngineClient;
  private readonly statusItem = vscode.window.createStatusBarItem('heat.engine', vscode.StatusBarAlignment.Left, 20);
  private provider = '';

  latest?: ScoredImage;
  /** The images of the last Score Image run, browsable in the viewer; the first BATCH_LIMIT are kept. */
  batch: ScoredImage[] = [];
  checks: CheckResult[] = [];
  runs: RunRecord[] = [];

  readonly onDidScore = new vscode.EventEmitter<ScoredImage>();
  /** Fires with the checklist results; `running` is true while a checklist run still streams results. */
  readonly onDidCheck = new vscode.EventEmitter<{ checks: CheckResult[]; running: boolean }>();
  readonly onDidRecordRun = new vscode.EventEmitter<RunRecord>();

  constructor(readonly context: vscode.ExtensionContext) {
    this.engine = new EngineClient({
      enginePath: path.join(context.extensionPath, 'dist', 'engine.js'),
      execArgv: ['--max-old-space-size=8192'],
      onLog: (level, message) => this.engineLog(level, message),
      onProvider: (provider) => { this.provider = provider; this.log.info(`Execution provider: ${provider}`); this.updateStatus(this.engine.engineState); },
      onState: (state) => this.updateStatus(state),
      onCrash: (reason) => {
        void vscode.window.showErrorMessage(`HEAT engine stopped: ${reason} It restarts on the next command.`, 'Show Log')
          .then((choice) => { if (choice) this.log.show(); });
      },
    });
    this.statusItem.command = 'heat.showLog';
    this.statusItem.name = 'HEAT engine';
    this.updateStatus('stopped');
    this.statusItem.show();
    this.runs = context.workspaceState.get<RunRecord[]>('heat.runs', []);
    this.checks = context.workspaceState.get<CheckResult[]>('heat.checks', []);
  }

  /** Runs an engine job under a cancellable progress notification; logs start, end and errors. */
  async run<K extends JobKind>(title: string, job: Extract<EngineJob, { kind: K }>, extra: Omit<RunOptions, 'signal' | 'onProgress'> = {}, config?: HeatConfig): Promise<JobResults[K] | undefined> {
    if (!vscode.workspace.isTrusted) {
      const choice = await vscode.window.showWarningMessage(
        'HEAT Lens does not run models in an untrusted workspace: loading a model runs onnxruntime on files from the workspace. Trust the workspace to run HEAT commands.',
        'Manage Workspace Trust');
      if (choice) await vscode.commands.executeCommand('workbench.trust.manage');
      return undefined;
    }
    let resolved: HeatConfig;
    try {
      resolved = config ?? readConfig();
    } catch (error) {
      this.reportError(title, error);
      return undefined;
    }
    const started = Date.now();
    this.log.info(`${title}: started (${describeJob(job)}).`);
    return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `HEAT: ${title}`, cancellable: true }, async (progress, token) => {
      const controller = new AbortController();
      token.onCancellationRequested(() => { this.log.info(`${title}: cancel requested.`); controller.abort(); });
      let reported = 0;
      try {
        const result = await this.engine.run(resolved, job, {
          ...extra,
          signal: controller.signal,
          onProgress: (done, total, message) => {
            const percent = total > 0 ? (100 * done) / total : 0;
            // The engine's message is often the job's own title ("Sweep"), which the notification already shows.
            // Every job counts images (label files for the label check), never configurations or checks.
            const counts = total > 0 ? `${done} / ${total} images` : '';
            const stage = message && !title.toLowerCase().includes(message.toLowerCase()) ? message : '';
            const text = [stage, counts].filter(Boolean).join(' ');
            progress.report({ increment: Math.max(0, percent - reported), message: text || undefined });
            reported = Math.max(reported, percent);
          },
        });
        const late = controller.signal.aborted ? ' (before the cancel reached it)' : '';
        this.log.info(`${title}: finished in ${((Date.now() - started) / 1000).toFixed(1)} s${late}.`);
        return result;
      } catch (error) {
        if (error instanceof EngineError && error.cancelled) {
          // The core's message can state what was kept ("… cancelled after 3 of 10 images; the folders … are kept.").
          const detail = /was cancelled (after .*)$/.exec(error.message)?.[1];
          const rest = detail ? ` ${detail}` : '.';
          this.log.info(`${title}: cancelled${rest}`);
          void vscode.window.showInformationMessage(`HEAT: ${title} cancelled${rest}`);
          return undefined;
        }
        this.reportError(title, error);
        return undefined;
      }
    });
  }

  reportError(title: string, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.log.error(`${title}: ${message}`);
    if (error instanceof Error && error.stack) this.log.debug(error.stack);
    const subject = (error as { subject?: string }).subject;
    const actions = subject?.startsWith('heat.') ? ['Open Setting', 'Show Log'] : ['Show Log'];
    // A missing or mismatched statistics file tells CLI users to run "heat-lens stats"; here the command does it.
    const statistics = message.includes('heat-lens stats');
    if (statistics) actions.unshift('Compute Class Statistics');
    const text = statistics ? message.replace(/"?heat-lens stats"?/g, 'HEAT: Compute Class Statistics') : message;
    void vscode.window.showErrorMessage(`HEAT ${title}: ${text}`, ...actions).then((choice) => {
      if (choice === 'Compute Class Statistics') void vscode.commands.executeCommand('heat.computeStatistics');
      if (choice === 'Show Log') this.log.show();
      if (choice === 'Open Setting') void vscode.commands.executeCommand('workbench.action.openWorkspaceSettings', subject);
    });
  }

  /** Keeps a scored batch for the viewer and makes its last image the latest. */
  setBatch(results: ScoredImage[]): void {
    if (results.length > BATCH_LIMIT) this.log.info(`The viewer keeps the first ${BATCH_LIMIT} of ${results.length} scored images; their PNG maps are not affected.`);
    this.batch = results.slice(0, BATCH_LIMIT);
    this.latest = results.at(-1);
    if (this.latest) this.onDidScore.fire(this.latest);
  }

  setChecks(checks: CheckResult[], running = false): void {
    this.checks = checks;
    void this.context.workspaceState.update('heat.checks', checks);
    this.onDidCheck.fire({ checks, running });
  }

  /**
   * Clears the checklist results that concern any of `keys`, because they were measured with other values: they
   * become skipped ("not rechecked"), which shows no diagnostic, with the old evidence kept. Returns how many.
   */
  clearChecksFor(keys: readonly string[], note: string): number {
    let cleared = 0;
    const checks = this.checks.map((c) => {
      if (c.status === 'skip' || !c.settings.some((k) => keys.includes(k))) return c;
      cleared++;
      return { ...c, status: 'skip' as const, evidence: `${note} Before: ${c.evidence}`, fix: undefined };
    });
    if (cleared > 0) this.setChecks(checks);
    return cleared;
  }

  recordRun(record: RunRecord): void {
    this.runs = [record, ...this.runs].slice(0, 50);
    // Sweep rows can be many; keep the persisted list small.
    void this.context.workspaceState.update('heat.runs', this.runs.map((r) => ({ ...r, rows: r.rows.slice(0, 500) })));
    this.onDidRecordRun.fire(record);
  }

  /** Folder for a new run's output, under `.heat-lens/` of the workspace folder. */
  runFolder(kind: string): string | undefined {
    const folder = activeFolder();
    if (!folder) return undefined;
    const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
    return path.join(folder.uri.fsPath, '.heat-lens', `${kind}-${stamp}`);
  }

  private engineLog(level: string, message: string): void {
    switch (level) {
      case 'error': this.log.error(message); break;
      case 'warn': this.log.warn(message); break;
      case 'debug': this.log.debug(message); break;
      default: this.log.info(message);
    }
  }

  private updateStatus(state: EngineState): void {
    const icon = { stopped: '$(circle-outline)', starting: '$(loading~spin)', idle: '$(flame)', busy: '$(sync~spin)', crashed: '$(error)' }[state];
    const provider = this.provider ? ` · ${this.provider}` : '';
    this.statusItem.text = `${icon} HEAT${provider}`;
    this.statusItem.tooltip = `HEAT engine: ${state}${this.provider ? `, execution provider ${this.provider}` : ''}. Click to show the log.`;
    this.statusItem.backgroundColor = state === 'crashed' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
  }

  dispose(): void {
    this.engine.dispose();
    this.statusItem.dispose();
    this.log.dispose();
    this.onDidScore.dispose();
    this.onDidCheck.dispose();
    this.onDidRecordRun.dispose();
  }
}

function describeJob(job: EngineJob): string {
  switch (job.kind) {
    case 'score': return `${job.images.length} image(s)`;
    case 'sweep': return `grid keys ${Object.keys(job.grid).join(', ') || 'none'}`;
    case 'ablation': return `ablation ${job.ablation}`;
    case 'checklist': return job.phase ? `phase ${job.phase}` : 'all phases';
    case 'inspect': return job.model;
    default: return job.kind;
  }
}
