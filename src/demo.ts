/**
 * First start with an empty database: a demo account, a list with two groups and a console
 * user, so that a newcomer can call the service at once with any SOAP client.
 */
import type { Store } from './store/store.ts';
import { createAccount, generatePassword } from './operations/accounts.ts';
import { hashPassword } from './operations/passwords.ts';

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
  const list = await store.lists.createList(account.id, 'Newsletter');
  await store.lists.createGroup(list.id, 'Customers');
  await store.lists.createGroup(list.id, 'Prospects');
  const consolePassword = generatePassword();
  await store.accounts.createConsoleUser(account.id, 'admin', await hashPassword(consolePassword));
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
