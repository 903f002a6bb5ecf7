/**
 * Calls of the JSON API over real HTTP, as a client sends them: HTTP Basic with the account's WS
 * credentials, JSON or a feed body; the answer's status, headers and body (JSON when it is JSON).
 */
import { callSoap, waitForProcess, type TestAccount, type TestService } from '../helpers/service.ts';

export interface ApiAnswer<T> {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly body: T;
}

export type Caller = TestAccount | { user: string; password: string } | null;

export async function call<T = Record<string, unknown>>(
  svc: TestService, acc: Caller, method: 'GET' | 'POST', path: string,
  options: { body?: string; contentType?: string; accept?: string } = {},
): Promise<ApiAnswer<T>> {
  const headers: Record<string, string> = {};
  if (acc) headers.authorization = `Basic ${Buffer.from(`${acc.user}:${acc.password}`).toString('base64')}`;
  if (options.contentType) headers['content-type'] = options.contentType;
  if (options.accept) headers.accept = options.accept;
  const res = await fetch(`${svc.url}${path}`, { method, headers, ...(options.body === undefined ? {} : { body: options.body }) });
  // Kept whole: a CSV's byte-order mark is part of what is checked.
  const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(await res.arrayBuffer());
  const json = (res.headers.get('content-type') ?? '').includes('json');
  return { status: res.status, headers: res.headers, text, body: (json ? JSON.parse(text) : undefined) as T };
}

const FLAGS = { importType: 3, mobileInputType: 1, asPending: false, ConfirmEmail: false, asOptOut: false, forceOptIn: false, replaceGroups: false, idConfirmNL: 0 };

/** NewImportProcess: a process prepared and not started. */
export async function prepareImport(svc: TestService, acc: TestAccount, xmlDoc: string): Promise<number> {
  const reply = await callSoap(svc.endpoint, 'NewImportProcess', { idList: acc.list.id, listGUID: acc.list.guid, xmlDoc, idGroups: '', ...FLAGS }, { User: acc.user, Password: acc.password });
  if (reply.returnCode === null || reply.returnCode <= 0) throw new Error(`NewImportProcess: ${reply.body}`);
  return reply.returnCode;
}

/** NewImportProcess then StartProcess, waiting for the end. */
export async function runImport(svc: TestService, acc: TestAccount, xmlDoc: string): Promise<number> {
  const id = await prepareImport(svc, acc, xmlDoc);
  const auth = { User: acc.user, Password: acc.password };
  const started = await callSoap(svc.endpoint, 'StartProcess', { idList: acc.list.id, listGUID: acc.list.guid, idProcess: id }, auth);
  if (started.returnCode !== 0) throw new Error(`StartProcess ${id}: ${started.body}`);
  await waitForProcess(svc.endpoint, auth, acc.list.id, acc.list.guid, id);
  return id;
}
