import { Logger, Progress } from '../core/log';

/** What every CLI command receives besides its arguments. */
export interface CommandContext {
  log: Logger;
  /** Terminal progress line on stderr. */
  progress: Progress;
  /** Fires on Ctrl-C; commands stop at the next unit of work and leave no partial output. */
  signal: AbortSignal;
  cwd: string;
  /** Writes a result line to stdout. */
  print(line: string): void;
}

/** A `heat-lens` subcommand. Returns the process exit code. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(argv: string[], context: CommandContext): Promise<number>;
}
