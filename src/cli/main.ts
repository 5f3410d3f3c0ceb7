import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { editDistance } from '../core/config';
import { HeatError, CancelledError } from '../core/errors';
import { stderrLogger } from '../core/log';
import { Command, CommandContext } from './context';
import { terminalProgress } from './progress';
import { commands } from './commands';

/** Returns the version in the package.json above this file (dist/cli.js in a build, src/cli/ when run from source). */
function version(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  }
  return 'unknown';
}

function usage(): string {
  const lines = ['Usage: heat-lens <command> [options]', '', 'Commands:'];
  for (const command of commands) lines.push(`  ${command.name.padEnd(10)} ${command.summary}`);
  lines.push('', 'Run "heat-lens <command> --help" for the options of one command, "heat-lens --version" for the version.');
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`heat-lens ${version()}\n`);
    return 0;
  }
  const command: Command | undefined = commands.find((c) => c.name === name);
  if (!command) {
    const nearest = [...commands].sort((a, b) => editDistance(name, a.name) - editDistance(name, b.name))[0];
    const hint = editDistance(name, nearest.name) <= 2 ? ` Did you mean "${nearest.name}"?` : '';
    process.stderr.write(`error: unknown command "${name}".${hint}\n${usage()}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }

  const controller = new AbortController();
  let interrupts = 0;
  process.on('SIGINT', () => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
    process.stderr.write('\nStopping after the current step (press Ctrl-C again to exit at once)...\n');
    controller.abort();
  });

  const context: CommandContext = {
    log: stderrLogger(process.env.HEAT_LENS_VERBOSE === '1'),
    progress: terminalProgress(),
    signal: controller.signal,
    cwd: process.cwd(),
    print: (line) => process.stdout.write(`${line}\n`),
  };
  try {
    return await command.run(rest, context);
  } catch (error) {
    if (error instanceof CancelledError) {
      process.stderr.write(`${error.message}\n`);
      return 130;
    }
    if (error instanceof HeatError) {
      process.stderr.write(`error: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

// A reader that closes the pipe early (heat-lens inspect model.onnx | head) ends the output, which is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (error: unknown) => {
    process.stderr.write(`error: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
