/**
 * What every admin command module gets from the program (src/cli/admin.ts): the output, lazy
 * access to the store, the account a command names, standard input and the configuration.
 */
import type { Command } from 'commander';
import type { Config } from '../config.ts';
import type { Account } from '../model/records.ts';
import type { Store } from '../store/store.ts';
import type { Output } from './output.ts';

/** What a command module gets: the output and lazy access to the store. */
export interface CliDeps {
  readonly output: Output;
  /** The store, opened on first use, so `--help` and usage errors never touch a database. */
  store(): Promise<Store>;
  /**
   * The account a command names by its WS user (`a1001`, any case). A malformed name is a usage
   * error; a well-formed one that does not exist is a CliError ("account a9999 does not exist").
   */
  account(wsUser: string): Promise<Account>;
  /** Standard input to its end, for `--password-stdin`. */
  readStdin(): Promise<string>;
  /** The configuration, from the same environment as the server's (SMTP_URL, PUBLIC_URL for Send Now). */
  config(): Config;
}

export interface CommandModule {
  register(program: Command, deps: CliDeps): void;
}
