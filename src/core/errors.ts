/**
 * An error caused by the user's input (a file, a setting, a model) rather than by a bug.
 * `message` says what failed and on which value; `fix` says what to do next.
 */
export class HeatError extends Error {
  constructor(message: string, readonly fix?: string, readonly subject?: string) {
    super(fix ? `${message} ${fix}` : message);
    this.name = 'HeatError';
  }
}

/** Raised when a long job stops because its AbortSignal fired. `detail` describes what was kept, if anything. */
export class CancelledError extends Error {
  constructor(what = 'The job', detail?: string) {
    super(`${what} was cancelled${detail ? ` ${detail}` : ''}.`);
    this.name = 'CancelledError';
  }
}

/** Throws CancelledError when the signal has fired. Call between units of work. */
export function throwIfCancelled(signal: AbortSignal | undefined, what?: string): void {
  if (signal?.aborted) throw new CancelledError(what);
}
