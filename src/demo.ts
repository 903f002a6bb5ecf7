/**
 * First start with an empty database: a demo account, a list with two groups, a console user and
 * a REST client, so that a newcomer can call the service at once with any SOAP or REST client.
 */
import { createAccount, createConsoleUser, generatePassword } from './core/accounts.ts';
import { createGroup } from './core/groups.ts';
import { setHttpApiIps } from './core/http-api-access.ts';
import { createList, setListCountry } from './core/lists.ts';
import { addRestClient } from './core/rest-clients.ts';
import type { Store } from './store/store.ts';

/**
 * Where the REST API and its token endpoint answer, as MailUp's addresses end (src/rest/ serves
 * them there; a test checks the two agree). Written out here because the demo and src/rest/ are
 * doors on one layer, and doors do not import each other.
 */
const REST_API_PATH = '/API/v1.1/Rest/ConsoleService.svc';
const OAUTH_TOKEN_PATH = '/Authorization/OAuth/Token';

/** The REST API's two addresses, as the start banner prints them. */
export function restDoorLines(baseUrl: string): string[] {
  return [
    `  REST API:      ${baseUrl}${REST_API_PATH}`,
    `  OAuth token:   ${baseUrl}${OAUTH_TOKEN_PATH}`,
  ];
}

/** Where the doors other than SOAP answer: printed on every start without a new demo account (which prints them itself). */
export function describeDoors(baseUrl: string): string {
  return ['', ...restDoorLines(baseUrl), httpApiLine(baseUrl), ''].join('\n');
}

export interface DemoSetup {
  readonly wsUser: string;
  readonly password: string;
  readonly listId: number;
  readonly listGuid: string;
  readonly consoleUser: string;
  readonly consolePassword: string;
  /** The demo account's REST client; its secret is shown only in the start banner. */
  readonly restClientId: string;
  readonly restClientSecret: string;
  /** Who may call the HTTP subscribe API for the demo list: loopback only (left out: the banner does not say). */
  readonly httpApiIps?: readonly string[];
}

/** The HTTP subscribe API's page, as the start banner prints it (src/frontend/ serves it there). */
const HTTP_API_PATH = '/frontend/xmlSubscribe.aspx';

/** The start banner's line for the HTTP subscribe API, with who may call it when known. */
export function httpApiLine(baseUrl: string, allowed?: readonly string[]): string {
  const who = allowed === undefined ? '' : ` (allowed from ${allowed.length === 0 ? 'nobody' : allowed.join(', ')})`;
  return `  HTTP API:      ${baseUrl}${HTTP_API_PATH}${who}`;
}

export async function createDemoIfEmpty(store: Store): Promise<DemoSetup | null> {
  if ((await store.accounts.listAccounts()).length > 0) return null;
  const password = generatePassword();
  const account = await createAccount(store, { name: 'Demo', password });
  const created = await createList(store, account.id, 'Newsletter');
  if (!created.ok) throw new Error(`the demo list could not be created: ${created.reason}`);
  const { list } = created;
  // Italy (+39), as MailUp's demo lists: a mobile number without + or 00 is read as Italian.
  const country = await setListCountry(store, account.id, list.id, 'IT');
  if (!country.ok) throw new Error(`the demo list's country could not be set: ${country.reason}`);
  await createGroup(store, list.id, 'Customers');
  await createGroup(store, list.id, 'Prospects');
  const consolePassword = generatePassword();
  await createConsoleUser(store, account.id, { username: 'admin', password: consolePassword });
  const httpApi = await setHttpApiIps(store, account.id, ['127.0.0.1', '::1']);
  if (!httpApi.ok) throw new Error(`the demo HTTP API allow-list could not be set: ${httpApi.reason}`);
  const rest = await addRestClient(store, account.id, 'demo');
  if (!rest.ok) throw new Error(`the demo REST client could not be created: ${rest.reason}`);
  return {
    wsUser: account.wsUser, password, listId: list.id, listGuid: list.guid, consoleUser: 'admin', consolePassword,
    restClientId: rest.client.clientId, restClientSecret: rest.secret, httpApiIps: httpApi.account.httpApiIps,
  };
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
    ...restDoorLines(baseUrl),
    `  REST client:   id ${demo.restClientId}, secret ${demo.restClientSecret}`,
    `  REST login:    ${demo.wsUser} / ${demo.password}`,
    httpApiLine(baseUrl, demo.httpApiIps),
    '',
  ].join('\n');
}
