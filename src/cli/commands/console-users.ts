/**
 * Admin commands for an account's console users after their creation (`console-user create` is
 * in ./accounts.ts): `ls`, `reset` (a new password, generated and printed once unless given),
 * `disable`, `enable`, `set-lists` and `rm`, all through src/core/console-users.ts. A user is
 * named by its account and user name, as at the console's sign-in.
 *
 * The account's last enabled user who sees every list cannot be disabled, limited to some lists
 * or removed (exit 1, saying so): the core refuses it, as it does for the console.
 */
import { InvalidArgumentError, type Command } from 'commander';
import {
  deleteConsoleUser, findConsoleUserByName, listConsoleUsers, setConsoleUserEnabled, setConsoleUserLists, setConsoleUserPassword,
  type ConsoleUserRefusal,
} from '../../core/console-users.ts';
import { timeFormat, type TimeFormat } from '../../core/time-format.ts';
import type { Account, ConsoleUser } from '../../model/records.ts';
import type { CliDeps } from '../cli-deps.ts';
import { CliError, details, nonEmptyName, positiveIntegerList, table } from '../output.ts';
import { chosenPassword, SHOWN_ONCE, withPasswordOptions, type PasswordOptions } from '../password-options.ts';

/** The user as `--json` prints it (times as ISO 8601 with the offset of TIME_ZONE). */
function userJson(target: Account, u: ConsoleUser, time: TimeFormat): Record<string, unknown> {
  return { id: u.id, wsUser: target.wsUser, username: u.username, listIds: u.listIds, enabled: u.enabled, createdAt: time.iso(u.createdAt) };
}

const listsText = (u: ConsoleUser): string => (u.listIds === null ? 'all' : u.listIds.length === 0 ? 'none' : u.listIds.join(', '));

/** `all`, or comma-separated list ids. */
function listChoice(value: string): number[] | null {
  if (value.trim().toLowerCase() === 'all') return null;
  try {
    return positiveIntegerList(value);
  } catch {
    throw new InvalidArgumentError('Expected "all" or comma-separated list ids such as 1,2.');
  }
}

function refusal(reason: ConsoleUserRefusal, target: Account, username: string): CliError {
  if (reason === 'not-found') return new CliError(`console user "${username}" does not exist in account ${target.wsUser}`);
  return new CliError(`"${username}" is the last enabled console user of ${target.wsUser} who sees every list, so the account would lose its `
    + `administrator; enable one or create one first ("console-user create ${target.wsUser} <username>")`);
}

export function registerConsoleUserManagement(consoleUser: Command, deps: CliDeps): void {
  const { output } = deps;

  /** The account and its user named on the command line; a CliError when either does not exist. */
  async function named(wsUser: string, username: string): Promise<{ target: Account; user: ConsoleUser }> {
    const target = await deps.account(wsUser);
    const user = await findConsoleUserByName(await deps.store(), target.id, username);
    if (user === null) throw refusal('not-found', target, username);
    return { target, user };
  }

  consoleUser.command('ls').alias('list')
    .description("the account's console users: name, id, lists, enabled, created")
    .argument('<wsUser>', 'the account, such as a1001')
    .action(async (wsUser: string) => {
      const target = await deps.account(wsUser);
      const users = await listConsoleUsers(await deps.store(), target.id);
      const time = timeFormat(deps.config().timeZone);
      output.result(users.map((u) => userJson(target, u, time)), () => table(
        ['username', 'id', 'lists', 'enabled', 'created'],
        users.map((u) => [u.username, u.id, listsText(u), u.enabled, time.text(u.createdAt)]),
        `Account ${target.wsUser} has no console users; create one with "console-user create ${target.wsUser} <username>".`,
      ));
    });

  withPasswordOptions(
    consoleUser.command('reset')
      .description("set or reset a console user's password; the user's sessions end")
      .argument('<wsUser>', 'the account, such as a1001')
      .argument('<username>', 'the user', nonEmptyName),
    'new console password',
  ).action(async (wsUser: string, username: string, options: PasswordOptions) => {
    const { password, generated } = await chosenPassword(options, deps);
    const { target, user } = await named(wsUser, username);
    const outcome = await setConsoleUserPassword(await deps.store(), target.id, user.id, password);
    if (!outcome.ok) throw outcome.reason === 'empty-password' ? new CliError('the password is empty') : refusal(outcome.reason, target, username);
    output.result({ wsUser: target.wsUser, username: user.username, ...(generated ? { password } : {}) }, () => [
      `Password of console user ${user.username} (${target.wsUser}) changed; its sessions have ended.`,
      ...(generated ? [details([['new password', `${password}   ${SHOWN_ONCE}`]])] : []),
    ].join('\n'));
  });

  for (const [name, enabled] of [['enable', true], ['disable', false]] as const) {
    consoleUser.command(name)
      .description(enabled ? 'let a disabled console user sign in again' : 'stop a console user from signing in; its sessions end at once')
      .argument('<wsUser>', 'the account, such as a1001')
      .argument('<username>', 'the user', nonEmptyName)
      .action(async (wsUser: string, username: string) => {
        const { target, user } = await named(wsUser, username);
        const outcome = await setConsoleUserEnabled(await deps.store(), target.id, user.id, enabled);
        if (!outcome.ok) throw refusal(outcome.reason, target, username);
        const state = enabled ? 'enabled' : 'disabled';
        output.result(userJson(target, outcome.user, timeFormat(deps.config().timeZone)), () =>
          user.enabled === enabled ? `Console user ${user.username} (${target.wsUser}) was already ${state}.` : `Console user ${user.username} (${target.wsUser}) is now ${state}.`);
      });
  }

  consoleUser.command('set-lists')
    .description('the lists a console user sees: "all", or comma-separated list ids')
    .argument('<wsUser>', 'the account, such as a1001')
    .argument('<username>', 'the user', nonEmptyName)
    .argument('<lists>', '"all" or list ids such as 1,2', listChoice)
    .action(async (wsUser: string, username: string, listIds: number[] | null) => {
      const { target, user } = await named(wsUser, username);
      const outcome = await setConsoleUserLists(await deps.store(), target.id, user.id, listIds);
      if (!outcome.ok) {
        throw outcome.reason === 'unknown-list' ? new CliError(`list ${outcome.listId} does not exist in account ${target.wsUser}`) : refusal(outcome.reason, target, username);
      }
      output.result(userJson(target, outcome.user, timeFormat(deps.config().timeZone)), () =>
        `Console user ${user.username} (${target.wsUser}) now sees ${outcome.user.listIds === null ? 'every list' : `lists ${listsText(outcome.user)}`}.`);
    });

  consoleUser.command('rm').alias('remove')
    .description('delete a console user; its sessions end')
    .argument('<wsUser>', 'the account, such as a1001')
    .argument('<username>', 'the user', nonEmptyName)
    .action(async (wsUser: string, username: string) => {
      const { target, user } = await named(wsUser, username);
      const outcome = await deleteConsoleUser(await deps.store(), target.id, user.id);
      if (!outcome.ok) throw refusal(outcome.reason, target, username);
      output.result({ wsUser: target.wsUser, username: user.username, id: user.id, deleted: true }, () =>
        `Console user ${user.username} (${target.wsUser}) deleted.`);
    });
}
