import { Command } from './context';
import { inspectCommand } from './commands/inspect';
import { statsCommand } from './commands/stats';
import { scoreCommand } from './commands/score';
import { evalCommand } from './commands/eval';
import { demoCommand } from './commands/demo';
import { sweepCommand } from './commands/sweep';
import { ablateCommand } from './commands/ablate';
import { checklistCommand } from './commands/checklist';

/** Every `heat-lens` subcommand, in the order `--help` lists them. Each lives in its own file under commands/. */
export const commands: Command[] = [demoCommand, inspectCommand, scoreCommand, statsCommand, evalCommand, sweepCommand, ablateCommand, checklistCommand];
