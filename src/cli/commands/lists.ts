/**
 * Admin commands for an account's lists and groups: create and rename lists, show them with
 * their groups, create groups. Names follow the core's rules (src/core/lists.ts,
 * src/core/groups.ts), the same as the SOAP service's and the console's: a group name is trimmed
 * and cut to 50 characters, and a name that differs from a group's only in case gives back that
 * group.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { createGroup, groupName, MAX_GROUP_NAME } from '../../core/groups.ts';
import { createList, isGuid, MAX_LIST_NAME, renameList, setListCountry, type ListNameRefusal } from '../../core/lists.ts';
import type { Account, MailingList } from '../../model/records.ts';
import type { CliDeps } from '../cli-deps.ts';
import { CliError, details, nonEmptyName, positiveInteger, table, UsageError } from '../output.ts';

export function register(program: Command, deps: CliDeps): void {
  registerListCommands(program.command('list').description("an account's mailing lists"), deps);
  registerGroupCommands(program.command('group').description('groups of a list'), deps);
}

function guid(value: string): string {
  if (!isGuid(value)) throw new InvalidArgumentError('Expected a GUID of 36 hexadecimal characters and dashes, such as 0b6e7c1a-3f52-4c1e-9d7a-5a8f2e6c4b10.');
  return value.trim().toLowerCase();
}

const NAME_REFUSALS: Record<ListNameRefusal, string> = {
  'empty-name': 'the list name is empty',
  'name-too-long': `a list name can have at most ${MAX_LIST_NAME} characters`,
  'control-character': 'a list name cannot hold control characters',
};

async function listOf(deps: CliDeps, account: Account, listId: number): Promise<MailingList> {
  const list = await (await deps.store()).lists.getList(account.id, listId);
  if (list === null) throw new CliError(`list ${listId} does not exist in account ${account.wsUser}`);
  return list;
}

const listJson = (l: MailingList): Record<string, unknown> => ({ id: l.id, guid: l.guid, name: l.name });

function registerListCommands(list: Command, deps: CliDeps): void {
  const { output } = deps;

  list.command('create')
    .description('create a list (its id and GUID are what clients pass as idList and listGUID)')
    .argument('<wsUser>', 'the account, such as a1001')
    .argument('<name>', 'the list name', nonEmptyName)
    .option('--guid <guid>', 'the list GUID (default: a new random one)', guid)
    .action(async (wsUser: string, name: string, options: { guid?: string }) => {
      const account = await deps.account(wsUser);
      const outcome = await createList(await deps.store(), account.id, name, options.guid);
      if (!outcome.ok) {
        if (outcome.reason === 'guid-taken') throw new CliError(`a list with GUID ${options.guid} already exists`);
        throw new UsageError(outcome.reason === 'invalid-guid' ? `"${options.guid}" is not a GUID` : NAME_REFUSALS[outcome.reason]);
      }
      const created = outcome.list;
      output.result({ wsUser: account.wsUser, ...listJson(created) }, () => [
        'List created.',
        details([['account', account.wsUser], ['idList', created.id], ['listGUID', created.guid], ['name', created.name]]),
      ].join('\n'));
    });

  list.command('rename')
    .description('rename a list')
    .argument('<wsUser>', 'the account, such as a1001')
    .argument('<listId>', 'the list id', positiveInteger)
    .argument('<name>', 'the new name', nonEmptyName)
    .action(async (wsUser: string, listId: number, name: string) => {
      const account = await deps.account(wsUser);
      const before = await listOf(deps, account, listId);
      const outcome = await renameList(await deps.store(), account.id, listId, name);
      if (!outcome.ok) {
        if (outcome.reason === 'not-found') throw new CliError(`list ${listId} does not exist in account ${account.wsUser}`);
        throw new UsageError(NAME_REFUSALS[outcome.reason]);
      }
      const renamed = outcome.list;
      output.result({ wsUser: account.wsUser, ...listJson(renamed) }, () => `List ${renamed.id} renamed from "${before.name}" to "${renamed.name}".`);
    });

  list.command('set-country')
    .description("set a list's default country: a mobile number without + or 00 is read as a national number of it (docs/behaviour.md, \"Mobile numbers\")")
    .argument('<wsUser>', 'the account, such as a1001')
    .argument('<listId>', 'the list id', positiveInteger)
    .argument('<country>', 'an ISO 3166 alpha-2 country code, such as IT or DE; "none" clears it (such numbers are then rejected)')
    .action(async (wsUser: string, listId: number, given: string) => {
      const account = await deps.account(wsUser);
      await listOf(deps, account, listId);
      const outcome = await setListCountry(await deps.store(), account.id, listId, given.trim().toLowerCase() === 'none' ? '' : given);
      if (!outcome.ok) {
        if (outcome.reason === 'not-found') throw new CliError(`list ${listId} does not exist in account ${account.wsUser}`);
        throw new UsageError(`"${given}" is not an ISO 3166 alpha-2 country code with a numbering plan, such as IT or DE`);
      }
      const { country } = outcome;
      output.result({ wsUser: account.wsUser, id: listId, country }, () => country === null
        ? `List ${listId} has no default country now: mobile numbers without + or 00 will be rejected.`
        : `List ${listId} now reads mobile numbers without + or 00 as numbers of ${country}.`);
    });

  list.command('ls').alias('list')
    .description("show an account's lists with their default country and their groups")
    .argument('<wsUser>', 'the account, such as a1001')
    .action(async (wsUser: string) => {
      const account = await deps.account(wsUser);
      const store = await deps.store();
      const lists = await store.lists.listLists(account.id);
      output.result(
        lists.map((l) => ({ ...listJson(l), country: l.country, groups: l.groups.map((g) => ({ id: g.id, name: g.name })) })),
        () => table(
          ['idList', 'listGUID', 'name', 'country', 'groups (id name)'],
          lists.map((l) => [l.id, l.guid, l.name, l.country ?? '-', l.groups.map((g) => `${g.id} ${g.name}`).join(', ')]),
          `Account ${account.wsUser} has no lists; create one with "list create ${account.wsUser} <name>".`,
        ),
      );
    });
}

function registerGroupCommands(group: Command, deps: CliDeps): void {
  group.command('create')
    .description(`create a group in a list; as CreateGroup does, the name is trimmed and cut to ${MAX_GROUP_NAME} characters, and an existing group of that name is given back`)
    .argument('<wsUser>', 'the account, such as a1001')
    .argument('<listId>', 'the list id', positiveInteger)
    .argument('<name>', 'the group name', nonEmptyName)
    .action(async (wsUser: string, listId: number, givenName: string) => {
      const account = await deps.account(wsUser);
      const list = await listOf(deps, account, listId);
      const outcome = await createGroup(await deps.store(), list.id, givenName);
      if (!outcome.ok) throw new UsageError(outcome.reason === 'empty-name' ? 'the group name is empty' : 'a group name cannot hold control characters');
      const { group: g, created, cut } = outcome;
      if (cut) deps.output.warn(`the name was cut to ${MAX_GROUP_NAME} characters: "${groupName(givenName).name}"`);
      deps.output.result({ wsUser: account.wsUser, id: g.id, listId: g.listId, name: g.name, created }, () => created
        ? `Group created.\n${details([['account', account.wsUser], ['list', list.id], ['idGroup', g.id], ['name', g.name]])}`
        : `Group "${g.name}" already exists in list ${list.id} with id ${g.id}; nothing was created.`);
    });
}
