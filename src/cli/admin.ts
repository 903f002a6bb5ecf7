/**
 * The operators' admin CLI (`npm run admin -- <command>`, or `mailup-import-admin <command>`):
 * WS accounts, passwords, IP allow-lists, console users, lists and groups. It writes to the very
 * store the server uses, found from the same environment (DATA_DIR / DATABASE_URL), so it works
 * while the server runs.
 *
 * Each file in ./commands registers its commands on the program through `register(program,
 * deps)`; adding a module is one line in COMMAND_MODULES. Exit codes: 0 success, 1 the data said
 * no (unknown account or list), 2 the command line is wrong (see ./output.ts).
 */
import { Command, CommanderError } from 'commander';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import { openStore, storeExists } from '../store/open-store.ts';
import type { Store } from '../store/store.ts';
import type { CliDeps, CommandModule } from './cli-deps.ts';
import * as accountCommands from './commands/accounts.ts';
import * as confirmationCommands from './commands/confirmations.ts';
import * as httpApiCommands from './commands/http-api.ts';
import * as importCommands from './commands/imports.ts';
import * as listCommands from './commands/lists.ts';
import * as restClientCommands from './commands/rest-clients.ts';
import * as webhookCommands from './commands/webhooks.ts';
import { CliError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, Output, UsageError, type Streams } from './output.ts';

/** The command modules, in the order their commands appear in `--help`. */
const COMMAND_MODULES: readonly CommandModule[] = [accountCommands, httpApiCommands, listCommands, importCommands, confirmationCommands, restClientCommands, webhookCommands];

export interface AdminIo extends Streams {
  readonly env: NodeJS.ProcessEnv;
  readonly readStdin: () => Promise<string>;
}

const ENVIRONMENT_HELP = `
Environment (the same as the server's):
  DATA_DIR       folder of the SQLite database mailup.db (default ./data)
  DATABASE_URL   sqlite:/path/to/file.db instead of DATA_DIR, or postgres://user:password@host:5432/db

Exit codes: 0 success, 1 the data does not allow it (e.g. unknown account), 2 bad command line.`;

const WS_USER = /^a\d+$/;

/** Runs one admin command line (without the node and script arguments); resolves to the exit code. */
export async function runAdmin(args: readonly string[], io: AdminIo = processIo()): Promise<number> {
  let opened: Promise<Store> | null = null;
  const program = new Command('mailup-import-admin');
  const output = new Output(io, () => program.opts<{ json?: boolean }>().json === true);
  // The adapter is chosen by openStore (src/store/open-store.ts), as for the server.
  const store = (): Promise<Store> => (opened ??= openExisting(loadConfig(io.env), program.opts<{ create?: boolean }>().create === true));
  const deps: CliDeps = {
    output,
    store,
    async account(wsUser) {
      const user = wsUser.trim().toLowerCase();
      if (!WS_USER.test(user)) throw new UsageError(`"${wsUser}" is not a WS user; expected "a" and the account number, such as a1001`);
      const account = await (await store()).accounts.findAccountByWsUser(user);
      if (account === null) throw new CliError(`account ${user} does not exist`);
      return account;
    },
    readStdin: io.readStdin,
    config: () => loadConfig(io.env),
  };

  // Set before any command is added, so every subcommand inherits them.
  program
    .description('Administer the WSMailUpImport service: accounts, passwords, IP allow-lists, console users, lists and groups.')
    .option('--json', 'print the result as JSON')
    .option('--create', 'create the database when it does not exist yet (otherwise the CLI refuses to work on a new, empty one)')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', ENVIRONMENT_HELP);
  for (const module of COMMAND_MODULES) module.register(program, deps);

  try {
    await program.parseAsync(args, { from: 'user' });
    return EXIT_OK;
  } catch (err) {
    // Commander has already printed its own message (or the help text).
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    if (err instanceof UsageError) {
      output.error(err.message);
      output.note('(add --help for usage)');
      return EXIT_USAGE;
    }
    if (err instanceof ConfigError) {
      output.error(`configuration: ${err.message}`);
      return EXIT_USAGE;
    }
    if (err instanceof CliError) {
      output.error(err.message);
      return EXIT_FAILURE;
    }
    // Not an expected failure: keep the stack, it is what a bug report needs.
    output.error(`unexpected failure: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return EXIT_FAILURE;
  } finally {
    const open = await (opened as Promise<Store> | null)?.catch(() => null);
    await open?.close();
  }
}

/** The store the environment names; unless `create`, only when it exists already. */
async function openExisting(config: Config, create: boolean): Promise<Store> {
  const where = config.store === 'postgres' ? `PostgreSQL database ${redactedUrl(config.databaseUrl!)}` : `SQLite database ${config.databasePath}`;
  try {
    if (!create && !(await storeExists(config))) {
      throw new CliError(`there is no ${where} yet: set DATA_DIR or DATABASE_URL as for the server, or pass --create to make an empty one`);
    }
    return await openStore(config, { applicationName: 'mailup-import-admin' });
  } catch (err) {
    if (err instanceof CliError || err instanceof ConfigError) throw err;
    throw new CliError(`cannot open the store: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** A database URL without its password, for messages. */
function redactedUrl(url: string): string {
  return url.replace(/:[^:@/]*@/, ':***@');
}

function processIo(): AdminIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    async readStdin() {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
  };
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

// `node --import tsx src/cli/admin.ts …` runs the CLI; bin/admin.js imports runAdmin instead.
if (isEntryPoint()) process.exitCode = await runAdmin(process.argv.slice(2));
