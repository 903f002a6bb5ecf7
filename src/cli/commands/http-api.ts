/**
 * `account http-api-ips <wsUser> [entries]`: the addresses and CIDR ranges allowed to call the
 * HTTP subscribe API (`/frontend/xmlSubscribe.aspx` and its siblings) for the account's lists.
 * Entries are comma (or space) separated and replace the whole list; '' or `none` clears it
 * (nobody may call); without entries the list is shown. The rules are the core's
 * (src/core/http-api-access.ts).
 *
 * It is a subcommand of `account`, registered after src/cli/commands/accounts.ts made that command.
 */
import type { Command } from 'commander';
import { MAX_HTTP_API_ENTRIES, setHttpApiIps } from '../../core/http-api-access.ts';
import type { Account } from '../../model/records.ts';
import type { CliDeps } from '../cli-deps.ts';
import { CliError, UsageError } from '../output.ts';

export function register(program: Command, deps: CliDeps): void {
  const account = program.commands.find((c) => c.name() === 'account');
  if (account === undefined) throw new Error('the account command must be registered before http-api-ips');
  account.command('http-api-ips')
    .description("show or set who may call the HTTP subscribe API (/frontend/…) for the account's lists: IPv4/IPv6 addresses and CIDR ranges, comma separated; '' or none clears (nobody)")
    .argument('<wsUser>', 'the account, such as a1001')
    .argument('[entries]', 'e.g. 203.0.113.7,198.51.100.0/24,2001:db8::/32; none to clear; omitted to show')
    .action(async (wsUser: string, entries: string | undefined) => {
      const target = await deps.account(wsUser);
      let updated: Account = target;
      if (entries !== undefined) {
        const list = entries.trim().toLowerCase() === 'none' ? [] : entries.split(/[\s,;]+/);
        const outcome = await setHttpApiIps(await deps.store(), target.id, list);
        if (!outcome.ok) {
          if (outcome.reason === 'not-found') throw new CliError(`account ${target.wsUser} does not exist`);
          throw new UsageError(outcome.reason === 'too-many'
            ? `at most ${MAX_HTTP_API_ENTRIES} entries`
            : `not an IPv4 or IPv6 address or CIDR range: ${outcome.invalid.join(', ')}`);
        }
        updated = outcome.account;
      }
      deps.output.result({ wsUser: updated.wsUser, httpApiIps: updated.httpApiIps }, () => [
        `${updated.wsUser}: HTTP subscribe API allowed from:`,
        ...(updated.httpApiIps.length === 0 ? ['  (nobody: every call gets -1011)'] : updated.httpApiIps.map((e) => `  ${e}`)),
      ].join('\n'));
    });
}
