/**
 * Test harness: a real service (on the store TEST_STORE names: a SQLite file in a temporary
 * folder by default, or a fresh PostgreSQL database; HTTP on a free port, the in-process worker)
 * and a minimal hand-written SOAP caller, so protocol tests see exactly the bytes a client would.
 */
import pino from 'pino';
import { loadConfig, type Config } from '../../src/config.ts';
import { createAccount } from '../../src/core/accounts.ts';
import { createService, type Service, type ServiceOptions } from '../../src/service.ts';
import type { Account, Group, MailingList } from '../../src/model/records.ts';
import { escapeText } from '../../src/xml/escape.ts';
import { createTestDatabase, type TestDatabase } from './test-database.ts';

export { createTestDatabase, TEST_STORE, type TestDatabase, type TestStoreKind } from './test-database.ts';

export interface TestAccount {
  readonly account: Account;
  readonly user: string;
  readonly password: string;
  readonly list: MailingList;
  readonly groups: readonly Group[];
}

export interface TestService {
  readonly service: Service;
  readonly url: string;
  /** The SOAP endpoint, as the WSDL spells it. */
  readonly endpoint: string;
  readonly dataDir: string;
  readonly config: Config;
  /** The store's database, to look at what the service wrote (SQL both engines accept). */
  readonly db: TestDatabase;
  /** Environment that points another process (the admin CLI, a second server) at the same store. */
  readonly storeEnv: Readonly<Record<string, string>>;
  /** A fresh account with one list and two groups. */
  addAccount(options?: { password?: string; listName?: string }): Promise<TestAccount>;
  close(): Promise<void>;
}

/**
 * With `env.DATA_DIR`, the service runs on that folder (e.g. a second service after a restart)
 * and leaves it in place on close: whoever made it removes it. With PostgreSQL that folder maps
 * to one database, so a restarted service finds its data. Otherwise a fresh temporary folder
 * (and a fresh database) is made and removed on close.
 */
export async function startTestService(env: Record<string, string> = {}, options: ServiceOptions = {}): Promise<TestService> {
  const db = await createTestDatabase(env.DATA_DIR === undefined ? {} : { dataDir: env.DATA_DIR });
  const dataDir = db.dataDir;
  const storeEnv = db.env;
  // Every test client comes from 127.0.0.1: tests of wrong passwords must not slow the others
  // (test/security/login-throttle.test.ts sets its own limit). Likewise the REST API's calls per
  // second: tests call faster than any client (test/rest/resources.test.ts sets its own limit).
  const config = loadConfig({
    PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', POLL_MS: '50', LOGIN_FREE_ATTEMPTS: '1000', REST_MAX_CALLS_PER_SECOND: '0', ...storeEnv, ...env,
  });
  const service = await createService(config, { logger: pino({ level: 'silent' }), ...options });
  const url = await service.listen();
  let n = 0;
  return {
    service, url, endpoint: `${url}/Services/WSMailupImport.asmx`, dataDir, config, db, storeEnv,
    async addAccount(opts = {}) {
      n++;
      const password = opts.password ?? `pw-${n}-S3cret!`;
      const account = await createAccount(service.store, { name: `Test ${n}`, password });
      const list = await service.store.lists.createList(account.id, opts.listName ?? `List ${n}`);
      const groups = [(await service.store.lists.createGroup(list.id, 'Group A')).group, (await service.store.lists.createGroup(list.id, 'Group B')).group];
      return { account, user: account.wsUser, password, list, groups };
    },
    async close() {
      await service.close();
      await db.drop();
    },
  };
}

export type SoapParams = Record<string, string | number | boolean | null | undefined>;

export interface SoapAuth {
  readonly User?: string;
  readonly Password?: string;
  readonly encType?: string;
}

export const SOAP11 = 'http://schemas.xmlsoap.org/soap/envelope/';
export const SOAP12 = 'http://www.w3.org/2003/05/soap-envelope';

/** A request envelope as MailUp's documentation writes it (prefixed `ws:` elements). */
export function soapEnvelope(operation: string, params: SoapParams, auth: SoapAuth | null, version: '1.1' | '1.2' = '1.1'): string {
  const header = auth
    ? `<soapenv:Header><ws:Authentication>${Object.entries(auth).map(([k, v]) => `<ws:${k}>${escapeText(String(v))}</ws:${k}>`).join('')}</ws:Authentication></soapenv:Header>`
    : '';
  const body = Object.entries(params)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => (v === null ? `<ws:${k}/>` : `<ws:${k}>${escapeText(String(v))}</ws:${k}>`))
    .join('');
  return `<soapenv:Envelope xmlns:soapenv="${version === '1.1' ? SOAP11 : SOAP12}" xmlns:ws="http://ws.mailupnet.it/">` +
    `${header}<soapenv:Body><ws:${operation}>${body}</ws:${operation}></soapenv:Body></soapenv:Envelope>`;
}

export interface SoapReply {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  /** The decoded `<OpResult>` text (the mailupMessage document), or null for a fault. */
  readonly result: string | null;
  /** The first ReturnCode of the result, or null. */
  readonly returnCode: number | null;
}

const unescape = (s: string): string => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');

export async function postSoap(
  endpoint: string, body: string | Buffer, headers: Record<string, string> = {},
): Promise<{ status: number; contentType: string; body: string }> {
  const res = await fetch(endpoint, { method: 'POST', body, headers });
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', body: await res.text() };
}

export async function callSoap(
  endpoint: string, operation: string, params: SoapParams, auth: SoapAuth | null, version: '1.1' | '1.2' = '1.1',
): Promise<SoapReply> {
  const headers: Record<string, string> = version === '1.1'
    ? { 'content-type': 'text/xml; charset=utf-8', soapaction: `"http://ws.mailupnet.it/${operation}"` }
    : { 'content-type': `application/soap+xml; charset=utf-8; action="http://ws.mailupnet.it/${operation}"` };
  const reply = await postSoap(endpoint, soapEnvelope(operation, params, auth, version), headers);
  const m = new RegExp(`<${operation}Result>([\\s\\S]*)</${operation}Result>`).exec(reply.body);
  const result = m ? unescape(m[1]!) : null;
  const code = result ? /<ReturnCode>(-?\d+)<\/ReturnCode>/.exec(result) : null;
  return { ...reply, result, returnCode: code ? Number(code[1]) : null };
}

/** Polls GetProcessDetails until the process reaches status 3 or 4. */
export async function waitForProcess(
  endpoint: string, auth: SoapAuth, idList: number, listGUID: string, idProcess: number, timeoutMs = 30_000,
): Promise<SoapReply> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reply = await callSoap(endpoint, 'GetProcessDetails', { idList, listGUID, idProcess }, auth);
    const status = /<StatusCode>(\d)<\/StatusCode>/.exec(reply.result ?? '')?.[1];
    if (status === '3' || status === '4') return reply;
    if (Date.now() > deadline) throw new Error(`process ${idProcess} did not finish: ${reply.result}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A subscribers feed with the documented structure. */
export function feedXml(subscribers: readonly { email?: string; Prefix?: string; Number?: string; Name?: string; fields?: readonly string[] }[]): string {
  return `<subscribers>${subscribers.map((s) =>
    `<subscriber email="${escapeText(s.email ?? '')}" Prefix="${escapeText(s.Prefix ?? '')}" Number="${escapeText(s.Number ?? '')}" Name="${escapeText(s.Name ?? '')}">` +
    (s.fields ?? []).map((f, i) => `<campo${i + 1}>${escapeText(f)}</campo${i + 1}>`).join('') + '</subscriber>').join('')}</subscribers>`;
}

/** Reads the inner elements of a result document as a name → text map (first occurrence). */
export function resultFields(result: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of result.matchAll(/<([A-Za-z]+)(?: [^>]*)?>([^<]*)<\/\1>/g)) if (!(m[1]! in out)) out[m[1]!] = m[2]!;
  return out;
}
