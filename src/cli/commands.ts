import { Command } from './context';

/** Every `heat-lens` subcommand, in the order `--help` lists them. Each lives in its own file under commands/. */
export const commands: Command[] = [];
