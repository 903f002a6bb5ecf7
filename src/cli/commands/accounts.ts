/**
 * Admin commands for WS accounts and console users: create, list, set or reset a password,
 * enable or disable the web service, the IP check and its allow-list.
 *
 * Passwords are only ever printed when the CLI generated them, once; a password given on the
 * command line or on standard input is never echoed.
 */
import { Argument, type Command } from 'commander';
import { changeAccess, createAccount, createConsoleUser, locksOut, MAX_WS_PASSWORD, setWsPassword, type AccessChange } from '../../core/accounts.ts';
import { canonicalAddress } from '../../core/ip-address.ts';
import type { Account } from '../../model/records.ts';
import { timeFormat, type TimeFormat } from '../../core/time-format.ts';
import type { CliDeps } from '../cli-deps.ts';
import { chosenPassword, SHOWN_ONCE, withPasswordOptions, type PasswordOptions } from '../password-options.ts';
import { registerConsoleUserManagement } from './console-users.ts';
import { CliError, details, nonEmptyName, positiveInteger, positiveIntegerList, table, UsageError } from '../output.ts';

export function register(program: Command, deps: CliDeps): void {
  const account = program.command('account').description('WS accounts: create, list, passwords, enable/disable, IP allow-list');
  registerAccountCommands(account, deps);
  const consoleUser = program.command('console-user').description('people who sign in to the console (GetIdUser returns their id)');
  registerConsoleUserCommands(consoleUser, deps);
  registerConsoleUserManagement(consoleUser, deps);
}


/** The account as `--json` prints it (times as ISO 8601 with the offset of TIME_ZONE). */
function accountJson(a: Account, time: TimeFormat): Record<string, unknown> {
  return {
    id: a.id, wsUser: a.wsUser, name: a.name, enabled: a.wsEnabled, ipCheck: a.ipCheck, allowedIps: a.allowedIps,
    createdAt: time.iso(a.createdAt),
  };
}

const onOff = (on: boolean): string => (on ? 'on' : 'off');
const addressList = (ips: readonly string[]): string => (ips.length === 0 ? '(none)' : ips.join(', '));

function registerAccountCommands(account: Command, deps: CliDeps): void {
  const { output } = deps;

  withPasswordOptions(
    account.command('create')
      .description('create a WS account, with its default confirmation message')
      .option('--name <name>', 'a name for the account')
      .option('--id <number>', 'account number; the WS user becomes a<number> (default: the next free one)', positiveInteger),
    'WS password',
  ).action(async (options: PasswordOptions & { name?: string; id?: number }) => {
    const { password, generated } = await chosenPassword(options, deps);
    const store = await deps.store();
    if (options.id !== undefined && (await store.accounts.getAccount(options.id)) !== null) throw new CliError(`account a${options.id} already exists`);
    const created = await createAccount(store, { name: (options.name ?? '').trim(), password, id: options.id });
    output.result({ ...accountJson(created, timeFormat(deps.config().timeZone)), ...(generated ? { password } : {}) }, () => [
      'Account created.',
      details([
        ['WS user', created.wsUser], ['id', created.id], ['name', created.name],
        ['password', generated ? `${password}   ${SHOWN_ONCE}` : '(as given)'],
      ]),
    ].join('\n'));
  });

  account.command('list').alias('ls')
    .description('list every account')
    .action(async () => {
      const accounts = await (await deps.store()).accounts.listAccounts();
      const time = timeFormat(deps.config().timeZone);
      output.result(accounts.map((a) => accountJson(a, time)), () => table(
        ['WS user', 'name', 'enabled', 'IP check', 'allowed IPs'],
        accounts.map((a) => [a.wsUser, a.name, a.wsEnabled, onOff(a.ipCheck), a.allowedIps.join(', ')]),
        'No accounts yet; create one with "account create".',
      ));
    });

  withPasswordOptions(
    account.command('password')
      .description("set or reset an account's WS password; it works at once, also on a running server")
      .argument('<wsUser>', 'the account, such as a1001'),
    'new WS password',
  ).action(async (wsUser: string, options: PasswordOptions) => {
    const { password, generated } = await chosenPassword(options, deps);
    const target = await deps.account(wsUser);
    const changed = await setWsPassword(await deps.store(), target.id, password);
    if (!changed.ok) throw new UsageError(`a WS password has 1 to ${MAX_WS_PASSWORD} characters`);
    output.result({ wsUser: target.wsUser, ...(generated ? { password } : {}) }, () => [
      `Password of ${target.wsUser} changed.`,
      ...(generated ? [details([['new password', `${password}   ${SHOWN_ONCE}`]])] : []),
    ].join('\n'));
  });

  for (const [name, enabled] of [['enable', true], ['disable', false]] as const) {
    account.command(name)
      .description(enabled ? 'let the account call the web service' : 'refuse every web service call of the account (ReturnCode -1006)')
      .argument('<wsUser>', 'the account, such as a1001')
      .action(async (wsUser: string) => {
        const target = await deps.account(wsUser);
        await changed(deps, target, { wsEnabled: enabled });
        const state = enabled ? 'enabled' : 'disabled';
        output.result({ wsUser: target.wsUser, enabled }, () =>
          target.wsEnabled === enabled ? `${target.wsUser} was already ${state}.` : `${target.wsUser} is now ${state}.`);
      });
  }

  account.command('ip-check')
    .description('turn the IP check on or off: when on, calls from addresses outside the allow-list get ReturnCode -1011')
    .argument('<wsUser>', 'the account, such as a1001')
    .addArgument(new Argument('<state>', 'on or off').choices(['on', 'off']))
    .action(async (wsUser: string, state: 'on' | 'off') => {
      const target = await deps.account(wsUser);
      const updated = await changed(deps, target, { ipCheck: state === 'on' });
      if (locksOut(updated)) {
        output.warn(`the allow-list of ${updated.wsUser} is empty, so every call is refused; add addresses with "account allow-ip ${updated.wsUser} add <ip…>"`);
      }
      output.result(ipJson(updated), () => `${updated.wsUser}: IP check ${onOff(updated.ipCheck)}; allowed IPs: ${addressList(updated.allowedIps)}`);
    });

  account.command('allow-ip')
    .description("show or change the account's IP allow-list (IPv4 and IPv6 addresses, one by one)")
    .argument('<wsUser>', 'the account, such as a1001')
    .addArgument(new Argument('<action>', 'add, remove or list').choices(['add', 'remove', 'list']))
    .argument('[ips...]', 'addresses to add or remove')
    .action(async (wsUser: string, action: 'add' | 'remove' | 'list', ips: string[]) => {
      if (action === 'list' && ips.length > 0) throw new UsageError('"allow-ip … list" takes no addresses');
      if (action !== 'list' && ips.length === 0) throw new UsageError(`give at least one IP address to ${action}`);
      // Every address is checked before anything changes.
      const addresses = [...new Set(ips.map(canonicalIp))];
      const target = await deps.account(wsUser);
      let allowed = [...target.allowedIps];
      if (action === 'add') {
        const already = addresses.filter((ip) => allowed.includes(ip));
        if (already.length > 0) output.note(`already allowed: ${already.join(', ')}`);
        allowed = [...allowed, ...addresses.filter((ip) => !allowed.includes(ip))];
      } else if (action === 'remove') {
        const absent = addresses.filter((ip) => !allowed.includes(ip));
        if (absent.length > 0) output.note(`not on the allow-list: ${absent.join(', ')}`);
        allowed = allowed.filter((ip) => !addresses.includes(ip));
      }
      const updated = action === 'list' ? target : await changed(deps, target, { allowedIps: allowed });
      if (action !== 'list' && !updated.ipCheck) {
        output.note(`the IP check of ${updated.wsUser} is off, so the allow-list is not enforced; turn it on with "account ip-check ${updated.wsUser} on"`);
      }
      if (action === 'remove' && locksOut(updated)) {
        output.warn(`the allow-list of ${updated.wsUser} is now empty and its IP check is on, so every call is refused`);
      }
      output.result(ipJson(updated), () => [
        `${updated.wsUser}: IP check ${onOff(updated.ipCheck)}; allowed IPs:`,
        ...(updated.allowedIps.length === 0 ? ['  (none)'] : updated.allowedIps.map((ip) => `  ${ip}`)),
      ].join('\n'));
    });
}

/** The account after a change of its access through the core. */
async function changed(deps: CliDeps, target: Account, change: AccessChange): Promise<Account> {
  const outcome = await changeAccess(await deps.store(), target.id, change);
  if (outcome.ok) return outcome.account;
  if (outcome.reason === 'not-found') throw new CliError(`account ${target.wsUser} does not exist`);
  throw new UsageError(`not an IPv4 or IPv6 address: ${outcome.invalid.join(', ')}`);
}

const ipJson = (a: Account): Record<string, unknown> => ({ wsUser: a.wsUser, ipCheck: a.ipCheck, allowedIps: a.allowedIps });

/** An allow-list entry in the form the server compares (src/core/ip-address.ts). */
export function canonicalIp(input: string): string {
  const ip = canonicalAddress(input);
  if (ip === null) {
    const hint = input.includes('/') ? ' (address ranges are not supported; list each address)' : '';
    throw new UsageError(`"${input}" is not an IPv4 or IPv6 address${hint}`);
  }
  return ip;
}

function registerConsoleUserCommands(consoleUser: Command, deps: CliDeps): void {
  withPasswordOptions(
    consoleUser.command('create')
      .description('create a console user of an account')
      .argument('<wsUser>', 'the account, such as a1001')
      .argument('<username>', 'the name the user signs in with', nonEmptyName)
      .option('--lists <ids>', 'comma-separated ids of the lists the user may see (default: every list)', positiveIntegerList),
    'console password',
  ).action(async (wsUser: string, username: string, options: PasswordOptions & { lists?: number[] }) => {
    const { password, generated } = await chosenPassword(options, deps);
    const target = await deps.account(wsUser);
    const outcome = await createConsoleUser(await deps.store(), target.id, { username, password, listIds: options.lists ?? null });
    if (!outcome.ok) {
      throw outcome.reason === 'unknown-list' ? new CliError(`list ${outcome.listId} does not exist in account ${target.wsUser}`)
        : outcome.reason === 'name-taken' ? new CliError(`console user "${username}" already exists in account ${target.wsUser}`)
        : new UsageError(outcome.reason === 'empty-name' ? 'the username is empty'
          : outcome.reason === 'invalid-name' ? 'a username cannot hold control characters' : 'the password is empty');
    }
    const { user } = outcome;
    deps.output.result(
      { id: user.id, wsUser: target.wsUser, username: user.username, listIds: user.listIds, ...(generated ? { password } : {}) },
      () => [
        'Console user created.',
        details([
          ['account', target.wsUser], ['username', user.username], ['id', `${user.id}   (the IdUser of GetIdUser)`],
          ['lists', user.listIds === null ? 'all' : user.listIds.join(', ')],
          ['password', generated ? `${password}   ${SHOWN_ONCE}` : '(as given)'],
        ]),
      ].join('\n'),
    );
  });
}
