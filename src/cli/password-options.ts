/**
 * `--password` / `--password-stdin`, shared by every admin command that sets a password (WS
 * accounts, console users). Passwords are only ever printed when the CLI generated them, once; a
 * password given on the command line or on standard input is never echoed.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { generatePassword } from '../core/accounts.ts';
import type { CliDeps } from './cli-deps.ts';
import { UsageError } from './output.ts';

export interface PasswordOptions {
  readonly password?: string;
  readonly passwordStdin?: boolean;
}

export const SHOWN_ONCE = '(generated; shown only this once)';

/** Adds --password and --password-stdin to the command. */
export function withPasswordOptions(command: Command, what: string): Command {
  return command
    .addOption(new Option('--password <password>', `the ${what} (generated and printed once when omitted)`).argParser(nonEmptyPassword))
    .addOption(new Option('--password-stdin', `read the ${what} from standard input (keeps it out of the process list)`).conflicts('password'));
}

function nonEmptyPassword(value: string): string {
  if (value === '') throw new InvalidArgumentError('The password must not be empty.');
  return value;
}

/** The password the options give, or a generated one. */
export async function chosenPassword(options: PasswordOptions, deps: CliDeps): Promise<{ password: string; generated: boolean }> {
  if (options.passwordStdin) {
    // One trailing line break is what `echo` and editors add; it is not part of the password.
    const password = (await deps.readStdin()).replace(/\r?\n$/, '');
    if (password === '') throw new UsageError('no password on standard input');
    return { password, generated: false };
  }
  if (options.password !== undefined) return { password: options.password, generated: false };
  return { password: generatePassword(), generated: true };
}
