/**
 * The engine's message loop, independent of how messages arrive: `main.ts` binds it to process IPC, tests
 * bind it to an in-memory port or a forked fake engine. One AbortController per running job makes cancel
 * reach core's `signal` checks.
 */
import type { HeatConfig } from '../core/config';
import type { Logger, Progress } from '../core/log';
import type { CheckResult, SweepRow } from '../core/api';
import {
  EngineJob, EngineToHost, HostToEngine, JobKind, JobResults, isHostToEngine, toWireError,
} from '../protocol/engine';

/** Context passed to a handler besides the configuration and the job. */
export interface JobContext {
  id: number;
  log: Logger;
  progress: Progress;
  signal: AbortSignal;
  /** Streams a sweep or ablation row to the host. */
  onRow(row: SweepRow): void;
  /** Streams a finished checklist result to the host. */
  onCheck(result: CheckResult): void;
  /** Tells the host which execution provider onnxruntime uses. */
  setProvider(provider: string): void;
}

export type JobHandler<K extends JobKind> = (config: HeatConfig, job: Extract<EngineJob, { kind: K }>, context: JobContext) => Promise<JobResults[K]>;

export type EngineHandlers = { [K in JobKind]: JobHandler<K> } & {
  /** Drops cached sessions; called when the host reports a settings change. */
  invalidate?(): void;
};

/** Minimum milliseconds between two progress messages of one job; the last one is always sent. */
const PROGRESS_INTERVAL_MS = 100;

export class EngineServer {
  private readonly running = new Map<number, AbortController>();

  constructor(private readonly send: (message: EngineToHost) => void, private readonly handlers: EngineHandlers) {}

  /** Handles one incoming message; unknown messages are logged and ignored. */
  receive(message: unknown, exit: () => void = () => undefined): void {
    if (!isHostToEngine(message)) {
      this.send({ type: 'log', level: 'warn', message: `Engine ignored an unknown message: ${JSON.stringify(message)?.slice(0, 200)}` });
      return;
    }
    this.dispatch(message, exit);
  }

  private dispatch(message: HostToEngine, exit: () => void): void {
    switch (message.type) {
      case 'run':
        void this.run(message.id, message.config, message.job);
        break;
      case 'cancel':
        this.running.get(message.id)?.abort();
        break;
      case 'invalidate':
        this.handlers.invalidate?.();
        break;
      case 'shutdown':
        for (const controller of this.running.values()) controller.abort();
        exit();
        break;
    }
  }

  private async run(id: number, config: HeatConfig, job: EngineJob): Promise<void> {
    const controller = new AbortController();
    this.running.set(id, controller);
    const context = this.context(id, controller.signal);
    try {
      const handler = this.handlers[job.kind] as JobHandler<JobKind>;
      const result = await handler(config, job as never, context);
      // A job that finished although a cancel arrived has written its whole output, so its result is sent.
      this.send({ type: 'result', id, result });
    } catch (error) {
      // The core's own CancelledError message states what was kept (finished folders, finished configurations).
      const stopped = controller.signal.aborted && !(error instanceof Error && error.name === 'CancelledError') ? cancelled(job.kind) : error;
      const wire = toWireError(stopped);
      this.send({ type: 'error', id, error: wire });
    } finally {
      this.running.delete(id);
    }
  }

  private context(id: number, signal: AbortSignal): JobContext {
    const send = this.send;
    let lastProgress = 0;
    return {
      id,
      signal,
      log: {
        info: (message) => send({ type: 'log', id, level: 'info', message }),
        warn: (message) => send({ type: 'log', id, level: 'warn', message }),
        error: (message) => send({ type: 'log', id, level: 'error', message }),
        debug: (message) => send({ type: 'log', id, level: 'debug', message }),
      },
      progress: {
        report(done, total, message) {
          const now = Date.now();
          if (done < total && now - lastProgress < PROGRESS_INTERVAL_MS) return;
          lastProgress = now;
          send({ type: 'progress', id, done, total, message });
        },
      },
      onRow: (row) => send({ type: 'row', id, row }),
      onCheck: (result) => send({ type: 'check', id, result }),
      setProvider: (provider) => send({ type: 'provider', provider }),
    };
  }
}

function cancelled(kind: string): Error {
  const error = new Error(`The ${kind} job was cancelled.`);
  error.name = 'CancelledError';
  return error;
}
