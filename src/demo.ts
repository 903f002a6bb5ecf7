/**
 * First start with an empty database: a demo account, a list with two groups and a console
 * user, so that a newcomer can call the service at once with any SOAP client.
 */
import { createAccount, createConsoleUser, generatePassword } from './core/accounts.ts';
import { createGroup } from './core/groups.ts';
import { createList } from './core/lists.ts';
import type { Store } from './store/store.ts';

export interface DemoSetup {
  readonly wsUser: string;
  readonly password: string;
  readonly listId: number;
  readonly listGuid: string;
  readonly consoleUser: string;
  readonly consolePassword: string;
}

export async function createDemoIfEmpty(store: Store): Promise<DemoSetup | null> {
  if ((await store.accounts.listAccounts()).length > 0) return null;
  const password = generatePassword();
  const account = await createAccount(store, { name: 'Demo', password });
  const created = await createList(store, account.id, 'Newsletter');
  if (!created.ok) throw new Error(`the demo list could not be created: ${created.reason}`);
  const { list } = created;
  await createGroup(store, list.id, 'Customers');
  await createGroup(store, list.id, 'Prospects');
  const consolePassword = generatePassword();
  await createConsoleUser(store, account.id, { username: 'admin', password: consolePassword });
  return { wsUser: account.wsUser, password, listId: list.id, listGuid: list.guid, consoleUser: 'admin', consolePassword };
}

export function describeDemo(demo: DemoSetup, baseUrl: string): string {
  const endpoint = `${baseUrl}/Services/WSMailUpImport.asmx`;
  return [
    '',
    'Demo account created (shown once; keep it):',
    `  WS user:       ${demo.wsUser}`,
    `  WS password:   ${demo.password}`,
    `  list:          idList ${demo.listId}, listGUID ${demo.listGuid}`,
    `  console user:  ${demo.consoleUser} / ${demo.consolePassword}`,
    `  endpoint:      ${endpoint}`,
    `  WSDL:          ${endpoint}?WSDL`,
    `  console:       ${baseUrl}/console  (account ${demo.wsUser}, user ${demo.consoleUser})`,
    '',
  ].join('\n');
}
