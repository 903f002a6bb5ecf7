/**
 * What the REST bulk-import tests share: sending a body, polling `GET Import/{id}` as a client
 * does, and reading a recipient's state on a list straight from the store's tables.
 */
import assert from 'node:assert/strict';
import type { ChildServer } from '../helpers/child-server.ts';
import type { TestService } from '../helpers/service.ts';
import { callRest, TOKEN_PATH } from '../helpers/rest.ts';
import type { RestImportStatus } from '../../src/rest/import-status.ts';

export interface RestRecipient {
  readonly idRecipient?: number;
  readonly Name?: string | null;
  readonly Email?: string | null;
  readonly MobileNumber?: string | null;
  readonly MobilePrefix?: string | null;
  readonly Fields?: readonly { readonly Id: number; readonly Value: string | null; readonly Description?: string }[];
}

/** What `GET Import/{id}` answers, as the server writes it. */
export type ImportStatus = RestImportStatus;

/** POSTs `recipients` to `path` (`/List/1/Recipients?…`) and answers the import id; fails the test otherwise. */
export async function bulkImport(svc: TestService, token: string, path: string, recipients: readonly RestRecipient[]): Promise<number> {
  const answer = await callRest(svc, token, 'POST', path, recipients);
  assert.equal(answer.status, 200, answer.text);
  assert.equal(typeof answer.body, 'number', answer.text);
  return answer.body as number;
}

export async function importStatus(svc: TestService, token: string, id: number): Promise<ImportStatus> {
  const answer = await callRest<ImportStatus>(svc, token, 'GET', `/Import/${id}`);
  assert.equal(answer.status, 200, answer.text);
  return answer.body;
}

/** Polls `GET Import/{id}` until Completed. */
export async function waitForImport(svc: TestService, token: string, id: number, timeoutMs = 60_000): Promise<ImportStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await importStatus(svc, token, id);
    if (status.Completed) return status;
    if (Date.now() > deadline) throw new Error(`import ${id} did not complete: ${JSON.stringify(status)}`);
    await new Promise((r) => setTimeout(r, 30));
  }
}

export interface RecipientState {
  readonly mobile: string | null;
  readonly name: string | null;
  readonly fields: Record<string, string>;
  /** Status on the list per channel; null when not on it. */
  readonly email: string | null;
  readonly sms: string | null;
  /** Groups of the list the recipient is in, by id. */
  readonly groups: number[];
}

/** The recipient of `email` as the store keeps it, on `listId`; throws when there is none. */
export async function recipientState(svc: TestService, email: string, listId: number): Promise<RecipientState> {
  const [r] = await svc.db.query<{ id: number; mobile: string | null; name: string | null; fields: string }>(
    'SELECT id, mobile, name, fields FROM recipient WHERE email = ?', [email]);
  if (!r) throw new Error(`no recipient ${email}`);
  const subs = await svc.db.query<{ channel: string; status: string }>(
    'SELECT channel, status FROM subscription_channel WHERE recipient_id = ? AND list_id = ?', [r.id, listId]);
  const groups = await svc.db.query<{ group_id: number }>(
    'SELECT m.group_id FROM membership m JOIN "group" g ON g.id = m.group_id WHERE m.recipient_id = ? AND g.list_id = ? ORDER BY m.group_id', [r.id, listId]);
  const fields = typeof r.fields === 'string' ? JSON.parse(r.fields) as Record<string, string> : r.fields as Record<string, string>;
  return {
    mobile: r.mobile, name: r.name, fields: Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== '')),
    email: subs.find((s) => s.channel === 'email')?.status ?? null,
    sms: subs.find((s) => s.channel === 'sms')?.status ?? null,
    groups: groups.map((g) => Number(g.group_id)),
  };
}

/** An access token for a child server's demo account, with the REST client and login its start banner printed. */
export async function demoToken(server: ChildServer): Promise<string> {
  const out = server.output();
  const client = /REST client: +id (\S+), secret (\S+)/.exec(out);
  const user = /REST login: +(\S+) \/ (\S+)/.exec(out);
  assert.ok(client && user, `the banner names the REST client and login:\n${out}`);
  const res = await fetch(`${server.url}${TOKEN_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', client_id: client[1]!, client_secret: client[2]!, username: user[1]!, password: user[2]! }).toString(),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as { access_token: string }).access_token;
}
