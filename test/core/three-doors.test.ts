/**
 * One subscriber, three doors, one core (issue 18, "Done when"): the same recipient reached
 * through SOAP (NewImportProcess + StartProcess), the HTTP subscribe API (xmlSubscribe.aspx and
 * its siblings, from 127.0.0.1 once the admin CLI has put it on the account's HTTP-API
 * allow-list) and the REST API (POST List/{id}/Recipient with a real token) is one recipient row
 * in one state, which every door reads back the same way, and the console lists it once. Each
 * door alone, given the same subscriber, leaves the same state; an unsubscribe through one door
 * holds in the others as their own rules say. Runs on the store TEST_STORE names (npm test runs
 * it on both).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createConsoleUser } from '../../src/core/accounts.ts';
import { runAdminProcess } from '../helpers/admin-process.ts';
import { ConsoleBrowser } from '../helpers/console-browser.ts';
import { callRest, login, restClientOf } from '../helpers/rest.ts';
import { callSoap, feedXml, startTestService, waitForProcess, type TestAccount, type TestService } from '../helpers/service.ts';
import { callFrontend } from '../frontend/frontend-client.ts';

let svc: TestService;
let a: TestAccount;
let token: string;
let browser: ConsoleBrowser;
const CONSOLE_PASSWORD = 'three-doors-secret-1';

before(async () => {
  svc = await startTestService();
  a = await svc.addAccount({ listName: 'Doors' });
  token = (await login(svc, a, await restClientOf(svc, a))).access_token;
  const allowed = await runAdminProcess(['account', 'http-api-ips', a.user, '127.0.0.1', '--json'], svc.storeEnv);
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.deepEqual(JSON.parse(allowed.stdout).httpApiIps, ['127.0.0.1']);
  assert.equal((await createConsoleUser(svc.service.store, a.account.id, { username: 'owner', password: CONSOLE_PASSWORD })).ok, true);
  browser = new ConsoleBrowser(svc.url);
  await browser.signIn(a.user, 'owner', CONSOLE_PASSWORD);
});
after(() => svc.close());

// The three doors, as their clients call them

interface Subscriber {
  readonly email: string;
  /** Fields by number. */
  readonly fields?: Readonly<Record<number, string>>;
  /** Country code and national number, each door writing them its own way. */
  readonly mobile?: { readonly prefix: string; readonly number: string };
}

/** A SOAP import of one row (importType 3, the mobile's prefix in Prefix: mobileInputType 2). */
async function viaSoap(s: Subscriber, flags: { ConfirmEmail?: boolean } = {}): Promise<void> {
  const auth = { User: a.user, Password: a.password };
  const highest = Math.max(0, ...Object.keys(s.fields ?? {}).map(Number));
  const fields = Array.from({ length: highest }, (_, i) => s.fields?.[i + 1] ?? '');
  const created = await callSoap(svc.endpoint, 'NewImportProcess', {
    idList: a.list.id, listGUID: a.list.guid, idGroups: '', importType: 3, mobileInputType: 2,
    xmlDoc: feedXml([{ email: s.email, Prefix: s.mobile ? `+${s.mobile.prefix}` : '', Number: s.mobile?.number ?? '', fields }]),
    asPending: false, ConfirmEmail: flags.ConfirmEmail ?? false, asOptOut: false, forceOptIn: false, replaceGroups: false, idConfirmNL: 0,
  }, auth);
  assert.ok(created.returnCode !== null && created.returnCode > 0, created.body);
  const started = await callSoap(svc.endpoint, 'StartProcess', { idList: a.list.id, listGUID: a.list.guid, idProcess: created.returnCode }, auth);
  assert.equal(started.returnCode, 0, started.body);
  const details = await waitForProcess(svc.endpoint, auth, a.list.id, a.list.guid, created.returnCode);
  assert.match(details.result!, /<StatusCode>3<\/StatusCode>/);
}

/** A frontend page from 127.0.0.1 with retCode=1 (as the shop plugins call it); its bare code. */
async function viaHttp(page: string, params: Record<string, string | number>): Promise<string> {
  const reply = await callFrontend(svc, `${page}?${new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]))}`);
  assert.equal(reply.status, 200, reply.body);
  return reply.body;
}

const csv = (fields: Readonly<Record<number, string>> = {}) => ({
  csvFldNames: Object.keys(fields).map((n) => `campo${n}`).join(';'), csvFldValues: Object.values(fields).join(';'),
});

/** xmlSubscribe.aspx as the shop plugins send it (Confirm=0: at once; 1: double opt-in). */
const httpSubscribe = (s: Subscriber, confirm = 0): Promise<string> => viaHttp('xmlSubscribe.aspx', {
  List: a.list.id, ListGuid: a.list.guid, Email: s.email, ...(s.mobile ? { Sms: `+${s.mobile.prefix}${s.mobile.number}` } : {}),
  Confirm: confirm, retCode: 1, ...csv(s.fields),
});

/** POST List/{id}/Recipient; the recipient id it answers. */
async function viaRest(s: Subscriber, query = ''): Promise<number> {
  const answer = await callRest(svc, token, 'POST', `/List/${a.list.id}/Recipient${query}`, {
    Email: s.email, Name: '', ...(s.mobile ? { MobilePrefix: `00${s.mobile.prefix}`, MobileNumber: s.mobile.number } : {}),
    Fields: Object.entries(s.fields ?? {}).map(([id, value]) => ({ Id: Number(id), Value: value })),
  });
  assert.equal(answer.status, 200, answer.text);
  assert.match(answer.text, /^\d+$/);
  return answer.body as number;
}

// What is stored, and what each door reads

interface StoredState {
  readonly rows: number;
  readonly id: number;
  readonly mobile: string | null;
  readonly name: string | null;
  readonly fields: Record<string, string>;
  readonly subscriptions: string[];
  readonly groups: number[];
}

/** The recipients with this address (any case) and the one's data, subscriptions and groups, read from the database. */
async function storedState(email: string): Promise<StoredState> {
  const rows = await svc.db.query<{ id: number; mobile: string | null; name: string | null; fields: string }>(
    'SELECT id, mobile, name, fields FROM recipient WHERE account_id = ? AND lower(email) = ?', [a.account.id, email.toLowerCase()]);
  assert.ok(rows.length > 0, `no recipient ${email}`);
  const r = rows[0]!;
  const subscriptions = await svc.db.query<{ list_id: number; channel: string; status: string; reason: string | null }>(
    'SELECT list_id, channel, status, reason FROM subscription_channel WHERE recipient_id = ? ORDER BY list_id, channel', [r.id]);
  const groups = await svc.db.query<{ group_id: number }>('SELECT group_id FROM membership WHERE recipient_id = ? ORDER BY group_id', [r.id]);
  return {
    rows: rows.length, id: Number(r.id), mobile: r.mobile, name: r.name, fields: JSON.parse(r.fields) as Record<string, string>,
    subscriptions: subscriptions.map((s) => `${s.list_id}:${s.channel}:${s.status}${s.reason ? `:${s.reason}` : ''}`),
    groups: groups.map((g) => Number(g.group_id)),
  };
}

/** What Xmlchksubscriber answers: 2 subscribed, 3 unsubscribed, 4 pending, 1 not on the list. */
const httpCheck = (email: string): Promise<string> => viaHttp('Xmlchksubscriber.aspx', { List: a.list.id, ListGuid: a.list.guid, Email: email });

/** The REST by-state item of the address (EmailOptins, as mailupy's get_recipient_from_list reads it) and its fields. */
async function restView(email: string): Promise<{ status: string; id: number; fields: Record<number, string>; mobile: string | null }> {
  const filter = encodeURIComponent(`Email=='${email}'`);
  const optins = await callRest<{ Items: { Status: string; idRecipient: number }[] }>(svc, token, 'GET', `/List/${a.list.id}/Recipients/EmailOptins?filterby=${filter}`);
  assert.equal(optins.body.Items.length, 1, optins.text);
  const item = optins.body.Items[0]!;
  const state = item.Status === 'OPTIN' ? 'Subscribed' : item.Status === 'OPTOUT' ? 'Unsubscribed' : 'Pending';
  const detail = await callRest<{ Items: { Fields: { Id: number; Value: string }[]; MobilePrefix: string | null; MobileNumber: string | null }[] }>(
    svc, token, 'GET', `/List/${a.list.id}/Recipients/${state}?filterby=${filter}`);
  assert.equal(detail.body.Items.length, 1, detail.text);
  const r = detail.body.Items[0]!;
  return {
    status: item.Status, id: item.idRecipient,
    fields: Object.fromEntries(r.Fields.filter((f) => f.Value !== '').map((f) => [f.Id, f.Value])),
    mobile: r.MobileNumber === null ? null : `${r.MobilePrefix}${r.MobileNumber}`,
  };
}

/** The recipient ids the console's recipient search lists for `q`. */
async function consoleSearch(q: string): Promise<number[]> {
  const page = await browser.get(`/console/recipients?q=${encodeURIComponent(q)}`);
  assert.equal(page.status, 200);
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(page.body)?.[1] ?? '';
  return [...body.matchAll(/href="\/console\/recipients\/(\d+)"/g)].map((m) => Number(m[1]));
}

/** One recipient, subscribed on the list with `fields`, read so by every door; the console lists it once. */
async function assertOneSubscriber(email: string, fields: Record<number, string>): Promise<number> {
  const state = await storedState(email);
  assert.equal(state.rows, 1, 'one recipient row');
  assert.deepEqual(state.subscriptions, [`${a.list.id}:email:subscribed`]);
  assert.deepEqual(state.fields, Object.fromEntries(Object.entries(fields).map(([k, v]) => [String(k), v])));
  assert.equal(await httpCheck(email.toUpperCase()), '2', 'Xmlchksubscriber: subscribed');
  const rest = await restView(email);
  assert.deepEqual({ status: rest.status, id: rest.id, fields: rest.fields }, { status: 'OPTIN', id: state.id, fields });
  assert.deepEqual(await consoleSearch(email), [state.id], 'the console lists it once');
  const page = await browser.get(`/console/recipients/${state.id}`);
  for (const value of Object.values(fields)) assert.ok(page.body.includes(value), `the console shows ${value}`);
  return state.id;
}

test('SOAP, then HTTP, then REST: one recipient, subscribed, with the fields last written; every door and the console agree', async () => {
  const email = 'walker@example.com';
  await viaSoap({ email: 'Walker@Example.com', fields: { 1: 'Soap one', 2: 'Soap two' } });
  const id = await assertOneSubscriber(email, { 1: 'Soap one', 2: 'Soap two' });

  // xmlSubscribe of a subscribed recipient: "already subscribed" (3), nothing written (spec 1.2).
  assert.equal(await httpSubscribe({ email: 'WALKER@example.com', fields: { 1: 'Http one' } }), '3');
  await assertOneSubscriber(email, { 1: 'Soap one', 2: 'Soap two' });
  // XmlUpdSubscriber writes the data.
  assert.equal(await viaHttp('XmlUpdSubscriber.aspx', { List: a.list.id, ListGuid: a.list.guid, Email: email, ...csv({ 3: 'Http three' }) }), '0');
  await assertOneSubscriber(email, { 1: 'Soap one', 2: 'Soap two', 3: 'Http three' });

  assert.equal(await viaRest({ email: 'walker@EXAMPLE.com', fields: { 1: 'Rest one' } }), id, 'REST finds the same recipient');
  assert.equal(await assertOneSubscriber(email, { 1: 'Rest one', 2: 'Soap two', 3: 'Http three' }), id);
});

test('the reverse order, REST, then HTTP, then SOAP, ends the same way', async () => {
  const email = 'reverse@example.com';
  const id = await viaRest({ email, fields: { 1: 'Rest one', 2: 'Rest two' } });
  assert.equal(await assertOneSubscriber(email, { 1: 'Rest one', 2: 'Rest two' }), id);
  assert.equal(await httpSubscribe({ email: 'Reverse@Example.com' }), '3');
  assert.equal(await viaHttp('XmlUpdSubscriber.aspx', { List: a.list.id, Email: email, ...csv({ 2: 'Http two' }) }), '0');
  await viaSoap({ email: 'REVERSE@example.com', fields: { 1: 'Soap one' } });
  assert.equal(await assertOneSubscriber(email, { 1: 'Soap one', 2: 'Http two' }), id);
});

test('the same subscriber through each door alone, subscribed at once or with double opt-in, leaves the same state', async () => {
  const doors = {
    soap: (s: Subscriber, confirm: boolean) => viaSoap(s, { ConfirmEmail: confirm }),
    http: async (s: Subscriber, confirm: boolean) => assert.equal(await httpSubscribe(s, confirm ? 1 : 0), '0'),
    rest: async (s: Subscriber, confirm: boolean) => void (await viaRest(s, confirm ? '?ConfirmEmail=true' : '')),
  };
  for (const confirm of [false, true]) {
    const states: Record<string, unknown> = {};
    let n = 0;
    for (const [door, subscribe] of Object.entries(doors)) {
      n++;
      const number = `33300${confirm ? 1 : 0}000${n}`;
      const subscriber: Subscriber = { email: `same.${door}.${confirm}@example.com`, fields: { 1: 'Same', 2: 'Subscriber', 5: '00100' }, mobile: { prefix: '39', number } };
      await subscribe(subscriber, confirm);
      const { id, mobile, ...state } = await storedState(subscriber.email);
      assert.equal(mobile, `+39${number}`, `${door}: the same number, written its own way`);
      states[door] = state;
      const rest = await restView(subscriber.email);
      assert.equal(rest.mobile, `+39${number}`, `${door}: REST answers the number split and whole again`);
      assert.equal(rest.status, confirm ? 'PENDING' : 'OPTIN');
      assert.equal(await httpCheck(subscriber.email), confirm ? '4' : '2');
      assert.deepEqual(await consoleSearch(subscriber.email), [id]);
    }
    assert.deepEqual(states.http, states.soap, `HTTP and SOAP (${confirm ? 'double opt-in' : 'at once'})`);
    assert.deepEqual(states.rest, states.soap, `REST and SOAP (${confirm ? 'double opt-in' : 'at once'})`);
    assert.deepEqual((states.soap as StoredState).subscriptions,
      [`${a.list.id}:email:${confirm ? 'pending' : 'subscribed'}`, `${a.list.id}:sms:subscribed`]);
  }
});

test('an unsubscribe through one door holds in the others, each by its own rule', async () => {
  const email = 'leaver@example.com';
  const id = await viaRest({ email, fields: { 1: 'Leaver' } });
  assert.equal(await viaHttp('xmlUnSubscribe.aspx', { List: a.list.id, ListGuid: a.list.guid, Email: email }), '0');
  assert.equal((await restView(email)).status, 'OPTOUT');
  assert.deepEqual((await storedState(email)).subscriptions, [`${a.list.id}:email:unsubscribed:user`]);

  // REST's POST …/Recipient and a SOAP import without forceOptIn keep it unsubscribed.
  assert.equal(await viaRest({ email, fields: { 1: 'Leaver again' } }), id);
  await viaSoap({ email, fields: { 2: 'Imported' } });
  assert.equal(await httpCheck(email), '3');
  assert.deepEqual((await storedState(email)).subscriptions, [`${a.list.id}:email:unsubscribed:user`]);
  assert.deepEqual((await storedState(email)).fields, { 1: 'Leaver again', 2: 'Imported' });

  // The visitor subscribing again through the HTTP form comes back; REST then reads it subscribed.
  assert.equal(await httpSubscribe({ email }), '0');
  assert.equal(await assertOneSubscriber(email, { 1: 'Leaver again', 2: 'Imported' }), id);
  // And REST unsubscribes it for SOAP's and HTTP's eyes.
  assert.equal((await callRest(svc, token, 'DELETE', `/List/${a.list.id}/Unsubscribe/${id}`)).status, 200);
  assert.equal(await httpCheck(email), '3');
  assert.deepEqual(await consoleSearch(email), [id]);
});
