import { loadConfig, type HeatConfig } from '../core/config';
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

/**
 * Loads the settings of `--config FILE`, else of .vscode/settings.json in the working folder. When neither exists
 * it warns, since every later error would otherwise be about a default value (an empty model path or split).
 */
export async function loadCommandConfig(configPath: string | undefined, context: CommandContext): Promise<HeatConfig> {
  const config = await loadConfig(configPath, context.cwd);
  if (config.missingSettings) {
    context.log.warn(`No settings file: ${config.missingSettings} does not exist and no --config was given, so only the defaults are in use.`);
  }
  return config;
}
