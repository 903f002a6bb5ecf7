/**
 * What the REST recipient tests share: calls sent exactly as mailupy sends them, the account's
 * recipients read straight from the store's database (to show a refused call changed nothing),
 * and the account's confirmation outbox.
 */
import { api } from '../helpers/json-api.ts';
import type { TestAccount, TestService } from '../helpers/service.ts';
import { REST_BASE, type RestAnswer } from '../helpers/rest.ts';

export interface Envelope<T> {
  IsPaginated: boolean;
  Items: T[];
  PageNumber: number;
  PageSize: number;
  Skipped: number;
  TotalElementsCount: number;
}

export interface RestField {
  Description: string;
  Id: number;
  Value: string;
}

export interface RestRecipient {
  Email: string | null;
  Fields: RestField[];
  MobileNumber: string | null;
  MobilePrefix: string | null;
  Name: string;
  idRecipient: number;
}

export interface RestOptin {
  Email: string | null;
  Optin_Date: string;
  Optin_Request_Date: string;
  Optin_Request_IP: string | null;
  Optout_Date: string;
  Optout_MsgID: null;
  Optout_Subtype: null;
  Optout_Type: string | null;
  Status: string;
  idRecipient: number;
}

/**
 * A call as mailupy's client makes it: `Content-type: application/json` on every request (with
 * or without a body), the bearer token, the payload as json.dumps writes it.
 */
export async function mailupyCall<T = unknown>(svc: TestService, token: string, method: string, pathAndQuery: string, payload?: unknown): Promise<RestAnswer<T>> {
  const res = await fetch(`${svc.url}${REST_BASE}/Console${pathAndQuery}`, {
    method,
    headers: { 'Content-type': 'application/json', Authorization: `Bearer ${token}` },
    ...(payload === undefined ? {} : { body: pythonJson(payload) }),
  });
  const text = await res.text();
  let body: unknown = null;
  if (text !== '') {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  return { status: res.status, body: body as T, text, headers: res.headers };
}

/** json.dumps's default output: ", " and ": " separators, non-ASCII escaped as \uXXXX. */
export function pythonJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value).map(([k, v]) => `${pythonJson(k)}: ${pythonJson(v)}`).join(', ')}}`;
  }
  return JSON.stringify(value).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** mailupy's query string of a filter and an order (`_parse_filter_ordering`: quote_plus of each value). */
export function mailupyQuery(options: { filter_by?: string; order_by?: readonly string[] }): string {
  const quotePlus = (v: string): string => encodeURIComponent(v).replace(/%20/g, '+').replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const parts: string[] = [];
  if (options.filter_by !== undefined) parts.push(`filterby=${quotePlus(options.filter_by)}`);
  if (options.order_by !== undefined) parts.push(`orderby=${quotePlus(options.order_by.join(';'))}`);
  return parts.join('&');
}

/** Every item of a collection, read page by page as mailupy's _download_all_pages reads it. */
export async function allPagesAsMailupy<T>(svc: TestService, token: string, url: string): Promise<{ items: T[]; calls: number }> {
  const items: T[] = [];
  let total = 1;
  let current = 0;
  let paginated = true;
  let calls = 0;
  const spacer = url.includes('?') ? '&' : '?';
  while (total - current && paginated) {
    const page = await mailupyCall<Envelope<T>>(svc, token, 'GET', `${url}${spacer}pageNumber=${current}`);
    calls++;
    if (page.status !== 200) throw new Error(`${url} page ${current}: ${page.status} ${page.text}`);
    const data = page.body;
    if (data.PageSize && data.Items.length > 0) total = Math.ceil(data.TotalElementsCount / data.PageSize);
    paginated = data.IsPaginated;
    items.push(...data.Items);
    current++;
  }
  return { items, calls };
}

/** The account's recipients, subscriptions and group memberships as stored, to compare before and after a refused call. */
export async function storedState(svc: TestService, accountId: number): Promise<string> {
  const recipients = await svc.db.query('SELECT id, email, mobile, name, fields FROM recipient WHERE account_id = ? ORDER BY id', [accountId]);
  const subscriptions = await svc.db.query(`SELECT s.recipient_id, s.list_id, s.channel, s.status, s.reason FROM subscription_channel s
    JOIN recipient r ON r.id = s.recipient_id WHERE r.account_id = ? ORDER BY s.recipient_id, s.list_id, s.channel`, [accountId]);
  const groups = await svc.db.query(`SELECT m.recipient_id, m.group_id FROM membership m
    JOIN recipient r ON r.id = m.recipient_id WHERE r.account_id = ? ORDER BY m.recipient_id, m.group_id`, [accountId]);
  return JSON.stringify({ recipients, subscriptions, groups });
}

/** A recipient's e-mail subscription status on a list, as stored (null: not on it). */
export async function emailStatus(svc: TestService, recipientId: number, listId: number): Promise<string | null> {
  const [row] = await svc.db.query<{ status: string }>(
    "SELECT status FROM subscription_channel WHERE recipient_id = ? AND list_id = ? AND channel = 'email'", [recipientId, listId]);
  return row?.status ?? null;
}

export interface OutboxEntry {
  recipient: string;
  sender: string;
  subject: string;
  html: string;
  text: string;
  requestId: number;
}

/** The account's confirmation outbox (`GET /api/confirmations/outbox`, HTTP Basic with the WS user), newest first. */
export async function outboxOf(svc: TestService, account: TestAccount): Promise<OutboxEntry[]> {
  const answer = await api<{ messages: OutboxEntry[] }>(svc, account, 'GET', '/api/confirmations/outbox');
  if (answer.status !== 200) throw new Error(`outbox: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body.messages;
}

/** `yyyy-MM-dd HH:mm:ss.fff`, MailUp's REST date. */
export const REST_DATE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$/;
