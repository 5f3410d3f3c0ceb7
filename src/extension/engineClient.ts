/**
 * Host side of the engine process. Forks `dist/engine.js` lazily on the first job, matches replies to
 * requests by id, and survives the engine dying: pending jobs fail with a clear error and the next job
 * starts a fresh process. Cancel sends a stop request first. A job still running after the grace period
 * is ended by killing the process, so the UI does not wait on a blocked engine. This file has no `vscode`
 * import, so tests drive it against a real forked process.
 */
import { ChildProcess, fork } from 'node:child_process';
import type { CheckResult, SweepRow } from '../core/api';
import type { HeatConfig } from '../core/config';
import {
  EngineError, EngineJob, EngineToHost, HostToEngine, JobKind, JobResults, LogLevel, isEngineToHost,
} from '../protocol/engine';

export type EngineState = 'stopped' | 'starting' | 'idle' | 'busy' | 'crashed';

export interface EngineClientOptions {
  enginePath: string;
  /** Node flags for the engine, for example a larger heap or a TypeScript loader in tests. */
  execArgv?: string[];
  /** Milliseconds a cancelled job may keep running before the engine is killed. */
  cancelGraceMs?: number;
  onLog?(level: LogLevel, message: string, jobId?: number): void;
  onProvider?(provider: string): void;
  onState?(state: EngineState): void;
  /** The engine stopped while jobs were running; `reason` names the exit code or signal. */
  onCrash?(reason: string): void;
}

export interface RunOptions {
  onProgress?(done: number, total: number, message?: string): void;
  onRow?(row: SweepRow): void;
  onCheck?(result: CheckResult): void;
  signal?: AbortSignal;
}

interface Pending {
  kind: JobKind;
  options: RunOptions;
  resolve(value: unknown): void;
  reject(error: Error): void;
  cancelTimer?: NodeJS.Timeout;
}

export class EngineClient {
  private child?: ChildProcess;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private state: EngineState = 'stopped';
  /** Reason for a deliberate kill of the current process, so that its exit is not reported as a crash. */
  private killReason?: string;

  constructor(private readonly options: EngineClientOptions) {}

  get engineState(): EngineState {
    return this.state;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Runs one job in the engine and resolves with its result. Rejects with EngineError (cancelled or failed). */
  run<K extends JobKind>(config: HeatConfig, job: Extract<EngineJob, { kind: K }>, options: RunOptions = {}): Promise<JobResults[K]> {
    if (options.signal?.aborted) return Promise.reject(cancelledError(job.kind));
    const child = this.ensureStarted();
    const id = this.nextId++;
    return new Promise<JobResults[K]>((resolve, reject) => {
      const entry: Pending = { kind: job.kind, options, resolve: resolve as (value: unknown) => void, reject };
      this.pending.set(id, entry);
      options.signal?.addEventListener('abort', () => this.cancel(id), { once: true });
      this.post(child, { type: 'run', id, config, job });
      this.setState('busy');
    });
  }

  /** Tells the engine that settings changed, so cached sessions are dropped. */
  invalidate(): void {
    if (this.child?.connected) this.post(this.child, { type: 'invalidate' });
  }

  /** Kills the engine; pending jobs fail with `reason`. Used on cancel timeout, by tests and on dispose. */
  kill(reason = 'The engine was stopped.'): void {
    if (!this.child) return;
    this.killReason = reason;
    this.child.kill('SIGKILL');
  }

  dispose(): void {
    if (this.child?.connected) this.post(this.child, { type: 'shutdown' });
    this.kill('The extension was deactivated.');
  }

  private ensureStarted(): ChildProcess {
    if (this.child) return this.child;
    this.setState('starting');
    const child = fork(this.options.enginePath, [], {
      serialization: 'advanced',
      execArgv: this.options.execArgv ?? [],
      // Inside VS Code process.execPath is Electron; this makes it behave as plain Node.
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.child = child;
    this.killReason = undefined;
    child.stdout?.on('data', (chunk: Buffer) => this.options.onLog?.('info', chunk.toString().trimEnd()));
    // onnxruntime and Node print warnings on stderr; real failures arrive as error messages or an exit.
    child.stderr?.on('data', (chunk: Buffer) => this.options.onLog?.('warn', chunk.toString().trimEnd()));
    child.on('message', (message) => this.receive(message));
    child.on('error', (error) => this.options.onLog?.('error', `Engine process error: ${error.message}`));
    child.on('exit', (code, signal) => this.exited(child, code, signal));
    return child;
  }

  private post(child: ChildProcess, message: HostToEngine): void {
    child.send(message, (error) => {
      if (error) this.options.onLog?.('error', `Could not send ${message.type} to the engine: ${error.message}`);
    });
  }

  private receive(message: unknown): void {
    if (!isEngineToHost(message)) return;
    this.handle(message);
  }

  private handle(message: EngineToHost): void {
    switch (message.type) {
      case 'ready':
        this.options.onLog?.('info', `Engine started (pid ${message.pid}, Node ${message.node}).`);
        if (this.pending.size === 0) this.setState('idle');
        break;
      case 'log':
        this.options.onLog?.(message.level, message.message, message.id);
        break;
      case 'provider':
        this.options.onProvider?.(message.provider);
        break;
      case 'progress':
        this.pending.get(message.id)?.options.onProgress?.(message.done, message.total, message.message);
        break;
      case 'row':
        this.pending.get(message.id)?.options.onRow?.(message.row);
        break;
      case 'check':
        this.pending.get(message.id)?.options.onCheck?.(message.result);
        break;
      case 'result':
        this.settle(message.id, (entry) => entry.resolve(message.result));
        break;
      case 'error':
        this.settle(message.id, (entry) => entry.reject(new EngineError(message.error)));
        break;
    }
  }

  private settle(id: number, finish: (entry: Pending) => void): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    this.pending.delete(id);
    clearTimeout(entry.cancelTimer);
    finish(entry);
    if (this.pending.size === 0 && this.child) this.setState('idle');
  }

  private cancel(id: number): void {
    const entry = this.pending.get(id);
    if (!entry || !this.child) return;
    this.post(this.child, { type: 'cancel', id });
    entry.cancelTimer = setTimeout(() => {
      if (!this.pending.has(id)) return;
      this.options.onLog?.('warn', `The ${entry.kind} job did not stop within ${this.grace()} ms of cancel; restarting the engine.`);
      this.settle(id, (e) => e.reject(cancelledError(e.kind)));
      this.kill(`The engine was restarted to cancel a ${entry.kind} job.`);
    }, this.grace());
  }

  private grace(): number {
    return this.options.cancelGraceMs ?? 1000;
  }

  private exited(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = undefined;
    const planned = this.killReason;
    const reason = planned ?? `The engine process stopped unexpectedly (${signal ? `signal ${signal}` : `exit code ${code}`}).`;
    const hadJobs = this.pending.size > 0;
    for (const [id, entry] of [...this.pending]) {
      this.settle(id, (e) => e.reject(new EngineError({
        name: 'EngineCrashed', message: `${reason} The ${entry.kind} job did not finish; it runs in a fresh engine when started again.`, cancelled: false,
      })));
    }
    this.setState(planned ? 'stopped' : 'crashed');
    if (!planned) {
      this.options.onLog?.('error', reason);
      if (hadJobs || code !== 0) this.options.onCrash?.(reason);
    }
  }

  private setState(state: EngineState): void {
    if (state === this.state) return;
    this.state = state;
    this.options.onState?.(state);
  }
}

function cancelledError(kind: string): EngineError {
  return new EngineError({ name: 'CancelledError', message: `The ${kind} job was cancelled.`, cancelled: true });
}
