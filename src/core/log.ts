/** Logging sink shared by the CLI (stderr), the engine process (messages) and tests (memory). */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug(message: string): void;
}

/** Progress of a long job: `done` of `total` units, with an optional message. */
export interface Progress {
  report(done: number, total: number, message?: string): void;
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {}, debug() {} };
export const noProgress: Progress = { report() {} };

/** Writes log lines to stderr, so that stdout stays free for results. */
export function stderrLogger(verbose = false): Logger {
  return {
    info: (m) => process.stderr.write(`${m}\n`),
    warn: (m) => process.stderr.write(`warning: ${m}\n`),
    error: (m) => process.stderr.write(`error: ${m}\n`),
    debug: (m) => { if (verbose) process.stderr.write(`debug: ${m}\n`); },
  };
}

/** Keeps every line in memory; for tests. */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (m) => lines.push(`info: ${m}`),
    warn: (m) => lines.push(`warn: ${m}`),
    error: (m) => lines.push(`error: ${m}`),
    debug: (m) => lines.push(`debug: ${m}`),
  };
}
