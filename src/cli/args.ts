import { HeatError } from '../core/errors';

/** Parsed command line: positional arguments and `--name value` / `--flag` options. */
export interface ParsedArgs {
  positional: string[];
  options: Map<string, string | true>;
}

/**
 * Parses `argv` against the option names a command accepts. `valued` options take the next argument;
 * `flags` take none. Unknown options are rejected with the list of known ones.
 */
export function parseArgs(argv: string[], valued: readonly string[], flags: readonly string[] = []): ParsedArgs {
  const positional: string[] = [];
  const options = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) { positional.push(arg); continue; }
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2);
    if (valued.includes(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new HeatError(`Option --${name} needs a value.`);
      // "--out --save-scores" means a forgotten value, not a folder named "--save-scores" (write --out=--x for that).
      if (inline === undefined && value.startsWith('--')) throw new HeatError(`Option --${name} needs a value, but the next argument is the option ${value}.`);
      options.set(name, value);
    } else if (flags.includes(name)) {
      options.set(name, true);
    } else {
      const known = [...valued, ...flags].map((o) => `--${o}`).join(', ');
      throw new HeatError(`Unknown option --${name}.`, known ? `Known options: ${known}.` : 'This command takes no options.');
    }
  }
  return { positional, options };
}

export function optionString(args: ParsedArgs, name: string): string | undefined {
  const value = args.options.get(name);
  return typeof value === 'string' ? value : undefined;
}

/**
 * Throws when a command that takes only options got a bare word, which is usually an option's value given
 * without the option (`heat-lens eval testShifted` for `--split testShifted`). `hint` names the option meant.
 */
export function rejectPositional(args: ParsedArgs, command: string, hint: string): void {
  if (args.positional.length === 0) return;
  throw new HeatError(`heat-lens ${command} takes only options, but got "${args.positional.join(' ')}".`, `${hint} "heat-lens ${command} --help" lists the options.`);
}
