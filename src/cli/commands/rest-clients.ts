/**
 * Admin commands for an account's REST clients (the client id and secret a program names itself
 * with at the REST API's token endpoint, before it logs in with the account's WS user and
 * password): add one, list them, remove one. The rules are the core's (src/core/rest-clients.ts).
 *
 * The secret is printed once, when the client is added: only its hash is stored. Removing a
 * client ends the tokens it was given at once.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { isGuid } from '../../core/lists.ts';
import { addRestClient, listRestClients, MAX_REST_CLIENT_NAME, removeRestClient } from '../../core/rest-clients.ts';
import { timeFormat, type TimeFormat } from '../../core/time-format.ts';
import type { RestClient } from '../../store/oauth.ts';
import type { CliDeps } from '../cli-deps.ts';
import { CliError, details, table, UsageError } from '../output.ts';

const SHOWN_ONCE = '(shown only this once)';

function clientId(value: string): string {
  if (!isGuid(value)) throw new InvalidArgumentError('Expected a client id as "rest-client ls" shows it, such as 0b6e7c1a-3f52-4c1e-9d7a-5a8f2e6c4b10.');
  return value.trim().toLowerCase();
}

const clientJson = (wsUser: string, c: RestClient, time: TimeFormat): Record<string, unknown> => ({
  wsUser, clientId: c.clientId, name: c.name, createdAt: time.iso(c.createdAt),
});

export function register(program: Command, deps: CliDeps): void {
  const { output } = deps;
  const restClient = program.command('rest-client').description("an account's REST API clients (OAuth2 client id and secret)");

  restClient.command('add')
    .description('add a REST client to the account; prints its id and secret (the secret only this once)')
    .argument('<wsUser>', 'the account, such as a1001')
    .option('--name <name>', `a label for people, such as "shop" (up to ${MAX_REST_CLIENT_NAME} characters)`, '')
    .action(async (wsUser: string, options: { name: string }) => {
      const account = await deps.account(wsUser);
      const outcome = await addRestClient(await deps.store(), account.id, options.name);
      if (!outcome.ok) {
        throw new UsageError(outcome.reason === 'name-too-long' ? `a client name can have at most ${MAX_REST_CLIENT_NAME} characters` : 'a client name cannot hold control characters');
      }
      const { client, secret } = outcome;
      output.result({ ...clientJson(account.wsUser, client, timeFormat(deps.config().timeZone)), clientSecret: secret }, () => [
        'REST client added.',
        details([
          ['account', account.wsUser], ['client id', client.clientId], ['client secret', `${secret}   ${SHOWN_ONCE}`], ['name', client.name],
          ['log in with', `${account.wsUser} and its WS password`],
        ]),
      ].join('\n'));
    });

  restClient.command('ls').alias('list')
    .description("show the account's REST clients (their secrets cannot be shown again)")
    .argument('<wsUser>', 'the account, such as a1001')
    .action(async (wsUser: string) => {
      const account = await deps.account(wsUser);
      const clients = await listRestClients(await deps.store(), account.id);
      const time = timeFormat(deps.config().timeZone);
      output.result(clients.map((c) => clientJson(account.wsUser, c, time)), () => table(
        ['client id', 'name', 'created'],
        clients.map((c) => [c.clientId, c.name, time.text(c.createdAt)]),
        `Account ${account.wsUser} has no REST clients; add one with "rest-client add ${account.wsUser}".`,
      ));
    });

  restClient.command('rm').alias('remove')
    .description('remove a REST client of the account; the tokens it was given stop working at once')
    .argument('<wsUser>', 'the account, such as a1001')
    .argument('<clientId>', 'the client id, as "rest-client ls" shows it', clientId)
    .action(async (wsUser: string, id: string) => {
      const account = await deps.account(wsUser);
      const outcome = await removeRestClient(await deps.store(), account.id, id);
      if (!outcome.ok) throw new CliError(`REST client ${id} does not exist in account ${account.wsUser}`);
      output.result({ wsUser: account.wsUser, clientId: id, removed: true }, () => `REST client ${id} of ${account.wsUser} removed; its tokens no longer work.`);
    });
}
