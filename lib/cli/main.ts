#!/usr/bin/env node
// The `safebind` command: parses arguments and hands each command to its own module. Bad usage
// exits 2 with one clear line and never a stack trace.
//
// Start-up matters (a pre-start check runs on every service start): this module loads only commander
// and the command definitions; each command's implementation is imported when it runs
// (commands.ts), and the version is written into the build (tsup.config.ts). bench/cli-startup.mjs
// measures it.
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { benchCommand, doctorCommand, exporterCommand, preflightCommand } from './commands.js';
import { printable } from '../diagnose/shell.js';
import { UsageError } from './usage-error.js';

/** The package's version, set by the build; undefined when this file runs unbundled. */
declare const __SAFEBIND_VERSION__: string | undefined;

function version(): string {
  if (typeof __SAFEBIND_VERSION__ === 'string') return __SAFEBIND_VERSION__;
  // dist/cli/main.js and lib/cli/main.ts both sit two folders below the package root.
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
}

export function buildProgram(): Command {
  const program = new Command('safebind')
    .description(
      'Bind and connect reliably on Linux: explain EADDRNOTAVAIL and its kin with evidence from the host.',
    )
    .version(version(), '-V, --version')
    // -V and --version belong before the command: after it, `preflight --bind -V` is not the version.
    .enablePositionalOptions()
    .exitOverride();
  program.addCommand(doctorCommand());
  program.addCommand(preflightCommand());
  program.addCommand(benchCommand());
  program.addCommand(exporterCommand());
  oneLineErrors(program);
  return program;
}

/**
 * Commander prints its own errors over several lines without our prefix; they go through main()'s
 * one `safebind:` line instead. An option's value that is itself an option (`--bind -V`) is a
 * usage error, not a value: negative numbers still pass.
 */
function oneLineErrors(command: Command): void {
  command.configureOutput({ outputError: () => {} });
  for (const option of command.options) {
    if (!option.required) continue;
    const parse = option.parseArg;
    option.argParser((value: string, previous: unknown) => {
      if (/^-(?!\d)/.test(value)) throw new InvalidArgumentError(`It needs a value; ${value} is an option.`);
      return parse ? parse(value, previous) : value;
    });
  }
  for (const sub of command.commands) oneLineErrors(sub);
}

/** The longest error line printed: enough for any reason, never a value pasted whole into it. */
const MAX_ERROR_LINE = 400;

/**
 * `safebind: …` on one line: control characters escaped (no newline, no escape sequence), cut short.
 * Library messages that already start with `safebind:` keep one prefix.
 */
function errorLine(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const text = printable(message.startsWith('safebind: ') ? message.slice('safebind: '.length) : message);
  return `safebind: ${text.length > MAX_ERROR_LINE ? `${text.slice(0, MAX_ERROR_LINE)}…` : text}\n`;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version arrive here too, with exit code 0.
      if (e.exitCode === 0) return 0;
      // 'error: unknown option …\n(Did you mean --wait?)' becomes one line; commander.help… has
      // already printed the help it was asked for.
      if (!e.code.startsWith('commander.help'))
        process.stderr.write(
          errorLine(
            `${e.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ')} (run with --help for usage)`,
          ),
        );
      return 2;
    }
    if (e instanceof UsageError) {
      process.stderr.write(errorLine(e));
      return 2;
    }
    process.stderr.write(errorLine(e));
    return 1;
  }
}

/**
 * Output that cannot be written ends the command without a stack trace: a reader that went away
 * (`safebind doctor | head`: EPIPE) ends it quietly with 141, the status a shell gives a command
 * SIGPIPE killed; any other failure (a full disk: ENOSPC) with one line on stderr and status 1.
 */
function guardOutput(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(141);
    process.stderr.write(errorLine(`cannot write the output: ${e.code ?? e.message}`));
    process.exit(1);
  });
  // Nowhere left to say it: end with the status the command had, or 1.
  process.stderr.on('error', () => process.exit(typeof process.exitCode === 'number' ? process.exitCode : 1));
}

guardOutput();
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(errorLine(e));
    process.exitCode = 1;
  },
);
