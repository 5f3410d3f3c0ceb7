/**
 * Messages between the extension host and the engine process (`dist/engine.js`), declared once.
 * The channel is Node's IPC with `serialization: 'advanced'`, so typed arrays and Maps travel as such.
 * Every request carries an id; progress, log lines, sweep rows and the final reply name the same id.
 */
import type { CheckResult, ModelInspection, ScoredImage, ScoreFailure, SweepRow } from '../core/api';
import type { HeatConfig } from '../core/config';
import type { EvaluationResult } from '../core/pipeline/evaluate';
import type { StatisticsReport } from '../core/stats';
import type { AblationKind, SweepResult } from '../core/sweep';

export type { AblationKind };
/** Ablations the engine can run: which part of the method is switched off or varied. */
export const ABLATION_KINDS: readonly AblationKind[] = ['components', 'normalization', 'layers'];

/** One unit of work, tagged by `kind`. */
export type EngineJob =
  | { kind: 'score'; images: string[]; outDir?: string }
  | { kind: 'statistics'; split?: 'train' | 'val'; out?: string }
  | { kind: 'evaluate'; split?: 'test' | 'testShifted' | 'val'; outDir?: string; saveScores?: boolean }
  | { kind: 'sweep'; grid: Record<string, unknown[]>; outDir?: string }
  | { kind: 'ablation'; ablation: AblationKind; outDir?: string }
  | { kind: 'checklist'; phase?: number }
  | { kind: 'inspect'; model: string };

export type JobKind = EngineJob['kind'];

/** Result type of each job kind. */
export interface JobResults {
  score: { results: ScoredImage[]; failures: ScoreFailure[] };
  statistics: StatisticsReport;
  evaluate: EvaluationResult;
  sweep: SweepResult;
  ablation: SweepResult;
  checklist: CheckResult[];
  inspect: ModelInspection;
}

export type JobResult<K extends JobKind = JobKind> = JobResults[K];

/** An error as it crosses the process boundary; `fix` is HeatError's advice. */
export interface WireError {
  name: string;
  message: string;
  fix?: string;
  subject?: string;
  stack?: string;
  /** True when the job stopped because it was cancelled. */
  cancelled: boolean;
}

export type LogLevel = 'info' | 'warn' | 'error' | 'debug';

// ---- host → engine ----

/** Starts a job with a validated configuration. */
export interface RunRequest { type: 'run'; id: number; config: HeatConfig; job: EngineJob }
/** Request to stop job `id`. The engine replies with an error whose `cancelled` is true. */
export interface CancelRequest { type: 'cancel'; id: number }
/** Settings changed: drop cached sessions and statistics. */
export interface InvalidateRequest { type: 'invalidate' }
/** Asks the engine to exit after its current replies. */
export interface ShutdownRequest { type: 'shutdown' }

export type HostToEngine = RunRequest | CancelRequest | InvalidateRequest | ShutdownRequest;

// ---- engine → host ----

/** Sent once when the engine has loaded and listens. */
export interface ReadyMessage { type: 'ready'; pid: number; node: string }
/** Progress of job `id`: `done` of `total` units. */
export interface ProgressMessage { type: 'progress'; id: number; done: number; total: number; message?: string }
/** A log line, tied to a job when `id` is set. */
export interface LogMessage { type: 'log'; id?: number; level: LogLevel; message: string }
/** A sweep or ablation row, sent as soon as it is measured. */
export interface RowMessage { type: 'row'; id: number; row: SweepRow }
/** A checklist result, sent as soon as its check finishes. */
export interface CheckMessage { type: 'check'; id: number; result: CheckResult }
/** The execution provider onnxruntime actually used for the last session. */
export interface ProviderMessage { type: 'provider'; provider: string }
/** Job `id` finished. */
export interface ResultMessage { type: 'result'; id: number; result: JobResult }
/** Job `id` failed or was cancelled. */
export interface ErrorMessage { type: 'error'; id: number; error: WireError }

export type EngineToHost = ReadyMessage | ProgressMessage | LogMessage | RowMessage | CheckMessage | ProviderMessage | ResultMessage | ErrorMessage;

/** Narrows an unknown IPC message to a host→engine message. */
export function isHostToEngine(message: unknown): message is HostToEngine {
  const type = (message as { type?: unknown } | null)?.type;
  return type === 'run' || type === 'cancel' || type === 'invalidate' || type === 'shutdown';
}

/** Narrows an unknown IPC message to an engine→host message. */
export function isEngineToHost(message: unknown): message is EngineToHost {
  const type = (message as { type?: unknown } | null)?.type;
  const types = ['ready', 'progress', 'log', 'row', 'check', 'provider', 'result', 'error'];
  return typeof type === 'string' && types.includes(type);
}

/** Converts any thrown value to its wire form, keeping HeatError's fix. */
export function toWireError(error: unknown): WireError {
  if (error instanceof Error) {
    const extra = error as Error & { fix?: string; subject?: string };
    return {
      name: error.name,
      message: error.message,
      fix: extra.fix,
      subject: extra.subject,
      stack: error.stack,
      cancelled: error.name === 'CancelledError' || error.name === 'AbortError',
    };
  }
  return { name: 'Error', message: String(error), cancelled: false };
}

/** Error rebuilt on the host side from a WireError. */
export class EngineError extends Error {
  readonly fix?: string;
  readonly subject?: string;
  readonly cancelled: boolean;

  constructor(wire: WireError) {
    super(wire.message);
    this.name = wire.name;
    this.fix = wire.fix;
    this.subject = wire.subject;
    this.cancelled = wire.cancelled;
    if (wire.stack) this.stack = wire.stack;
  }
}
