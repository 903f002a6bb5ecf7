/**
 * Steps the double opt-in tests share: an import over SOAP, GetProcessDetails read as fields,
 * the Send Now endpoint, confirm links taken from received messages, and the stored subscription
 * read straight from the store's database (the service has no operation that shows it).
 */
import { readFileSync } from 'node:fs';
import type { ReceivedMail } from '../helpers/smtp-sink.ts';
import { api, type ApiReply } from '../helpers/json-api.ts';
import { callSoap, feedXml, waitForProcess, type TestAccount, type TestService } from '../helpers/service.ts';

export interface ImportFlags {
  asPending?: boolean;
  ConfirmEmail?: boolean;
  asOptOut?: boolean;
  forceOptIn?: boolean;
  idConfirmNL?: number;
}

export type Subscriber = { email: string; fields?: readonly string[] };

const auth = (acc: TestAccount) => ({ User: acc.user, Password: acc.password });

/** NewImportProcess, then StartProcess; answers the ReturnCode of NewImportProcess when it fails. */
export async function runImport(svc: TestService, acc: TestAccount, subscribers: readonly Subscriber[], flags: ImportFlags = {}): Promise<number> {
  const created = await callSoap(svc.endpoint, 'NewImportProcess', {
    idList: acc.list.id, listGUID: acc.list.guid, xmlDoc: feedXml(subscribers), idGroups: '', importType: 3, mobileInputType: 1,
    asPending: flags.asPending ?? false, ConfirmEmail: flags.ConfirmEmail ?? false, asOptOut: flags.asOptOut ?? false,
    forceOptIn: flags.forceOptIn ?? false, replaceGroups: false, idConfirmNL: flags.idConfirmNL ?? 0,
  }, auth(acc));
  if (created.returnCode === null || created.returnCode < 0) return created.returnCode ?? -1;
  const id = created.returnCode;
  const started = await callSoap(svc.endpoint, 'StartProcess', { idList: acc.list.id, listGUID: acc.list.guid, idProcess: id }, auth(acc));
  if (started.returnCode !== 0) throw new Error(`StartProcess ${id}: ${started.body}`);
  await waitForProcess(svc.endpoint, auth(acc), acc.list.id, acc.list.guid, id);
  return id;
}

/** The ImportProcess element's children, in document order, as [name, text] pairs. */
export function processElements(result: string): [string, string][] {
  const inner = /<ImportProcess idProcess="\d+">([\s\S]*)<\/ImportProcess>/.exec(result)?.[1];
  if (inner === undefined) throw new Error(`no ImportProcess in ${result}`);
  return [...inner.replace(/<!--[\s\S]*?-->/g, '').matchAll(/<([A-Za-z]+)>([^<]*)<\/\1>/g)].map((m) => [m[1]!, m[2]!]);
}

export async function processDetails(svc: TestService, acc: TestAccount, idProcess: number): Promise<[string, string][]> {
  const reply = await callSoap(svc.endpoint, 'GetProcessDetails', { idList: acc.list.id, listGUID: acc.list.guid, idProcess }, auth(acc));
  if (reply.returnCode !== 0) throw new Error(`GetProcessDetails ${idProcess}: ${reply.body}`);
  return processElements(reply.result!);
}

/** The three documented GetProcessDetails samples of the seed page: A (no confirmation), B (queued), C (sent). */
export function seedVariants(): { A: [string, string][]; B: [string, string][]; C: [string, string][] } {
  const seed = readFileSync(new URL('../fixtures/GetProcessDetails.seed.txt', import.meta.url), 'utf8');
  // The SOAP response samples; the Ruby example's abbreviated one (`...`) has no fields.
  const samples = [...seed.matchAll(/<mailupMessage>[\s\S]*?<\/mailupMessage>/g)]
    .filter((m) => m[0].includes('<StatusCode>')).map((m) => processElements(m[0]));
  if (samples.length !== 3) throw new Error(`expected 3 samples in the seed page, found ${samples.length}`);
  return { A: samples[0]!, B: samples[1]!, C: samples[2]! };
}

export interface SendNowJson {
  queued: number;
  sent: number;
  written_to_outbox: number;
  failed: number;
  cancelled: number;
  requests: number;
  confirmationSent: number[];
  claimedElsewhere: number;
  failures: { processId: number; listId: number; email: string; error: string; permanent: boolean; attempts: number; nextAttemptAt: string | null }[];
}

export const sendNow = (svc: TestService, acc: TestAccount, body: object = {}): Promise<ApiReply<SendNowJson>> =>
  api<SendNowJson>(svc, acc, 'POST', '/api/confirmations/send-now', body);

/** The confirm link of a received message (from the text part), checked against the HTML part. */
export function confirmLinkOf(received: ReceivedMail): string {
  const text = received.mail.text ?? '';
  const link = /(http:\/\/\S+\/confirm\/[A-Za-z0-9_.-]+)/.exec(text)?.[1];
  if (!link) throw new Error(`no confirm link in ${text}`);
  if (!(received.mail.html || '').includes(`href="${link}"`)) throw new Error('the HTML part does not carry the same link');
  return link;
}

export async function openLink(link: string, method: 'GET' | 'HEAD' = 'GET'): Promise<{ status: number; body: string }> {
  const res = await fetch(link, { method });
  return { status: res.status, body: await res.text() };
}

export interface StoredSubscription {
  status: string;
  confirmed_at: string | null;
  reason: string | null;
}

export async function subscriptionOf(svc: TestService, email: string, listId: number): Promise<StoredSubscription | null> {
  const [row] = await svc.db.query<StoredSubscription>(`
    SELECT s.status, s.confirmed_at, s.reason FROM subscription_channel s JOIN recipient r ON r.id = s.recipient_id
    WHERE r.email = ? AND s.list_id = ? AND s.channel = 'email'`, [email, listId]);
  return row ?? null;
}
