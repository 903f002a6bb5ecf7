/**
 * The REST API's recipient listings over real HTTP with a real token, on the store TEST_STORE
 * names (npm test runs it on both): `List/{id}/Recipients/{Subscribed|Unsubscribed|Pending}`,
 * `…/EmailOptins` in the by-state shape with its dates in the configured time zone, and
 * `Group/{id}/Recipients`; MailUp's envelope read page by page as mailupy reads it, `filterby`
 * as mailupy sends it (Email=='a@b.c'), Name.Contains(...), `orderby`, paths and parameter
 * names in any case, and a 400 naming the part not understood.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertMailUpError, callRest, login, restClientOf } from '../helpers/rest.ts';
import { startTestService, type TestAccount, type TestService } from '../helpers/service.ts';
import {
  allPagesAsMailupy, mailupyCall, mailupyQuery, REST_DATE, type Envelope, type RestOptin, type RestRecipient,
} from './recipient-helpers.ts';

const TIME_ZONE = 'America/New_York';
const SUBSCRIBED = 45;
let svc: TestService;
let a: TestAccount;
let token: string;
/** Ids by e-mail. */
const ids = new Map<string, number>();
const subscribedEmails: string[] = [];
const unsubscribedEmails = ['u1@example.com', 'u2@example.com', 'u3@example.com'];
const pendingEmails = ['p1@example.com', 'p2@example.com'];

const pad = (n: number): string => String(n).padStart(2, '0');

before(async () => {
  svc = await startTestService({ TIME_ZONE });
  a = await svc.addAccount({ listName: 'Listed' });
  token = (await login(svc, a, await restClientOf(svc, a))).access_token;
  const post = async (email: string, name: string, query = ''): Promise<number> => {
    const answer = await callRest(svc, token, 'POST', `/List/${a.list.id}/Recipient${query}`, { Email: email, Name: name, Fields: [{ Id: 1, Value: name }] });
    assert.equal(answer.status, 200, answer.text);
    ids.set(email, answer.body as number);
    return answer.body as number;
  };
  for (let i = 0; i < SUBSCRIBED; i++) {
    // Names out of id order, a third of them with "News" in them.
    const email = `s${pad(i)}@example.com`;
    await post(email, `${i % 3 === 0 ? 'News reader' : 'Reader'} ${pad((i * 7) % SUBSCRIBED)}`);
    subscribedEmails.push(email);
  }
  for (const email of unsubscribedEmails) {
    const id = await post(email, 'Gone');
    assert.equal((await callRest(svc, token, 'DELETE', `/List/${a.list.id}/Unsubscribe/${id}`)).status, 200);
  }
  for (const email of pendingEmails) await post(email, 'Waiting', '?ConfirmEmail=true');
  for (const email of subscribedEmails.slice(0, 25)) {
    assert.equal((await callRest(svc, token, 'POST', `/Group/${a.groups[0]!.id}/Subscribe/${ids.get(email)}`)).status, 200);
  }
  await callRest(svc, token, 'POST', `/Group/${a.groups[0]!.id}/Subscribe/${ids.get('u1@example.com')}`);
});
after(() => svc.close());

const subscribedPath = () => `/List/${a.list.id}/Recipients/Subscribed`;

describe('paging', () => {
  test("mailupy's _download_all_pages reads every subscribed recipient, in id order, in three pages of 20", async () => {
    const { items, calls } = await allPagesAsMailupy<RestRecipient>(svc, token, subscribedPath());
    assert.equal(calls, 3);
    assert.deepEqual(items.map((r) => r.Email), subscribedEmails);
    assert.deepEqual(items.map((r) => r.idRecipient), subscribedEmails.map((e) => ids.get(e)));
    assert.deepEqual(Object.keys(items[0]!), ['Email', 'Fields', 'MobileNumber', 'MobilePrefix', 'Name', 'idRecipient']);
    assert.equal(items[0]!.Fields.length, 39);
    assert.deepEqual(items[0]!.Fields[0], { Description: 'nome', Id: 1, Value: items[0]!.Name });
  });

  test('each page is an envelope: IsPaginated on every page of a collection that takes several, Skipped, the total', async () => {
    for (const [pageNumber, count] of [[0, 20], [1, 20], [2, 5], [3, 0]] as const) {
      const page = await callRest<Envelope<RestRecipient>>(svc, token, 'GET', `${subscribedPath()}?pageNumber=${pageNumber}`);
      assert.equal(page.status, 200);
      assert.deepEqual(Object.keys(page.body), ['IsPaginated', 'Items', 'PageNumber', 'PageSize', 'Skipped', 'TotalElementsCount']);
      assert.deepEqual({ ...page.body, Items: page.body.Items.length }, {
        IsPaginated: true, Items: count, PageNumber: pageNumber, PageSize: 20, Skipped: pageNumber * 20, TotalElementsCount: SUBSCRIBED,
      });
    }
    const seven = await allPagesAsMailupy<RestRecipient>(svc, token, `${subscribedPath()}?pageSize=7`);
    assert.equal(seven.calls, Math.ceil(SUBSCRIBED / 7));
    assert.deepEqual(seven.items.map((r) => r.Email), subscribedEmails);
    const whole = await callRest<Envelope<RestRecipient>>(svc, token, 'GET', `${subscribedPath()}?pageSize=1000`);
    assert.equal(whole.body.IsPaginated, false);
    assert.equal(whole.body.Items.length, SUBSCRIBED);
  });

  test('paths and parameter names in any case', async () => {
    const page = await callRest<Envelope<RestRecipient>>(svc, token, 'GET',
      `/list/${a.list.id}/recipients/subscribed?PageSize=5&PageNumber=1&FilterBy=${encodeURIComponent("name.Contains('News')")}&OrderBy=IDRECIPIENT%20desc`);
    assert.equal(page.status, 200, page.text);
    const news = subscribedEmails.filter((_, i) => i % 3 === 0).reverse();
    assert.deepEqual(page.body.Items.map((r) => r.Email), news.slice(5, 10));
    assert.equal(page.body.TotalElementsCount, news.length);
  });
});

describe('filterby and orderby', () => {
  test("mailupy's get_subscribed_recipient_from_list: Email=='…' finds the one, in any case of the address; none is an empty page", async () => {
    for (const email of ['s07@example.com', 'S07@Example.COM']) {
      const page = await mailupyCall<Envelope<RestRecipient>>(svc, token, 'GET', `${subscribedPath()}?${mailupyQuery({ filter_by: `Email=='${email}'` })}`);
      assert.equal(page.status, 200, page.text);
      assert.deepEqual(page.body.Items.map((r) => r.idRecipient), [ids.get('s07@example.com')]);
      assert.equal(page.body.TotalElementsCount, 1);
      assert.equal(page.body.IsPaginated, false);
    }
    const none = await mailupyCall<Envelope<RestRecipient>>(svc, token, 'GET', `${subscribedPath()}?${mailupyQuery({ filter_by: "Email=='nobody@example.com'" })}`);
    assert.deepEqual(none.body, { IsPaginated: false, Items: [], PageNumber: 0, PageSize: 20, Skipped: 0, TotalElementsCount: 0 });
    // An unsubscribed recipient is not among the subscribed ones.
    const gone = await mailupyCall<Envelope<RestRecipient>>(svc, token, 'GET', `${subscribedPath()}?${mailupyQuery({ filter_by: "Email=='u1@example.com'" })}`);
    assert.equal(gone.body.TotalElementsCount, 0);
  });

  test("Name.Contains('…') (quoted as a whole or not, case-sensitive), and, idRecipient==N", async () => {
    const news = subscribedEmails.filter((_, i) => i % 3 === 0);
    for (const filter of [`"Name.Contains('News')"`, "Name.Contains('News')"]) {
      const { items } = await allPagesAsMailupy<RestRecipient>(svc, token, `${subscribedPath()}?${mailupyQuery({ filter_by: filter })}`);
      assert.deepEqual(items.map((r) => r.Email), news);
    }
    const lower = await callRest<Envelope<RestRecipient>>(svc, token, 'GET', `${subscribedPath()}?filterby=${encodeURIComponent("Name.Contains('news')")}`);
    assert.equal(lower.body.TotalElementsCount, 0, 'case-sensitive');
    const id = ids.get(news[2]!)!;
    const both = await callRest<Envelope<RestRecipient>>(svc, token, 'GET',
      `${subscribedPath()}?filterby=${encodeURIComponent(`Name.Contains('News') and idRecipient==${id}`)}`);
    assert.deepEqual(both.body.Items.map((r) => r.idRecipient), [id]);
  });

  test("orderby as mailupy joins it ('Name desc;idRecipient asc'), and the default id order", async () => {
    const all = (await callRest<Envelope<RestRecipient>>(svc, token, 'GET', `${subscribedPath()}?pageSize=1000`)).body.Items;
    const byName = [...all].sort((x, y) => (x.Name < y.Name ? 1 : x.Name > y.Name ? -1 : x.idRecipient - y.idRecipient));
    const { items } = await allPagesAsMailupy<RestRecipient>(svc, token, `${subscribedPath()}?${mailupyQuery({ order_by: ['Name desc', 'idRecipient asc'] })}`);
    assert.deepEqual(items.map((r) => r.idRecipient), byName.map((r) => r.idRecipient));
    const byEmailDesc = await callRest<Envelope<RestRecipient>>(svc, token, 'GET', `${subscribedPath()}?orderby=Email%20desc&pageSize=3`);
    assert.deepEqual(byEmailDesc.body.Items.map((r) => r.Email), ['s44@example.com', 's43@example.com', 's42@example.com']);
  });

  test('anything outside the subset: 400 naming the part not understood', async () => {
    const refused = async (query: string, description: RegExp, path = subscribedPath()): Promise<void> =>
      assertMailUpError(await callRest(svc, token, 'GET', `${path}?${query}`), 400, description);
    await refused(`filterby=${encodeURIComponent("MobileNumber=='333'")}`, /unknown field "MobileNumber"; the fields of this resource are Email, Name, idRecipient/);
    await refused(`filterby=${encodeURIComponent("Email=='a@b.it' or Email=='c@d.it'")}`, /expected "and" or the end of the filter/);
    await refused(`filterby=${encodeURIComponent("Email!='a@b.it'")}`, /expected == or \.Contains\(/);
    await refused(`filterby=${encodeURIComponent("idRecipient=='7'")}`, /idRecipient is a number/);
    await refused(`filterby=${encodeURIComponent("Email.StartsWith('a')")}`, /the method "StartsWith"/);
    await refused(`orderby=${encodeURIComponent('Name sideways')}`, /"sideways" is not asc or desc/);
    await refused(`orderby=${encodeURIComponent('Optin_Date desc')}`, /unknown field "Optin_Date"/);
    await refused('pageSize=0', /pageSize must be a whole number from 1 to 1000/);
    await refused('pageSize=1001', /pageSize must be a whole number from 1 to 1000/);
    await refused('pageNumber=-1', /pageNumber must be a whole number/);
    await refused('pageSize=5&PAGESIZE=6', /given 2 times/);
    await refused(`filterby=${encodeURIComponent("Status=='OPTIN'")}`, /unknown field "Status"/);
  });
});

describe('by state', () => {
  test('Unsubscribed and Pending list only theirs, in the recipient shape', async () => {
    const unsubscribed = await callRest<Envelope<RestRecipient>>(svc, token, 'GET', `/List/${a.list.id}/Recipients/Unsubscribed`);
    assert.deepEqual(unsubscribed.body.Items.map((r) => r.Email), unsubscribedEmails);
    assert.equal(unsubscribed.body.TotalElementsCount, 3);
    const pending = await callRest<Envelope<RestRecipient>>(svc, token, 'GET', `/List/${a.list.id}/Recipients/Pending`);
    assert.deepEqual(pending.body.Items.map((r) => r.Email), pendingEmails);
    assert.deepEqual(Object.keys(pending.body.Items[0]!), ['Email', 'Fields', 'MobileNumber', 'MobilePrefix', 'Name', 'idRecipient']);
  });

  test("EmailOptins (mailupy's get_recipients_from_list): every state, MailUp's by-state shape, dates in the configured time zone", async () => {
    const { items } = await allPagesAsMailupy<RestOptin>(svc, token, `/List/${a.list.id}/Recipients/EmailOptins`);
    const all = [...subscribedEmails, ...unsubscribedEmails, ...pendingEmails];
    assert.deepEqual(items.map((r) => r.Email), all);
    assert.deepEqual(Object.keys(items[0]!), [
      'Email', 'Optin_Date', 'Optin_Request_Date', 'Optin_Request_IP', 'Optout_Date', 'Optout_MsgID', 'Optout_Subtype', 'Optout_Type', 'Status', 'idRecipient',
    ]);
    const byEmail = new Map(items.map((r) => [r.Email, r]));
    const stored = async (email: string) => (await svc.db.query<{ updated_at: string }>(
      "SELECT s.updated_at FROM subscription_channel s WHERE s.recipient_id = ? AND s.list_id = ? AND s.channel = 'email'", [ids.get(email), a.list.id]))[0]!.updated_at;
    // The oracle: the stored instant written in New York's time by Intl's Swedish format (yyyy-MM-dd HH:mm:ss).
    const inNewYork = (iso: string): string => {
      const d = new Date(iso);
      return `${d.toLocaleString('sv-SE', { timeZone: TIME_ZONE })}.${String(d.getUTCMilliseconds()).padStart(3, '0')}`;
    };

    const subscribed = byEmail.get('s00@example.com')!;
    assert.equal(subscribed.Status, 'OPTIN');
    assert.match(subscribed.Optin_Date, REST_DATE);
    assert.equal(subscribed.Optin_Date, inNewYork(await stored('s00@example.com')));
    assert.deepEqual([subscribed.Optin_Request_Date, subscribed.Optin_Request_IP, subscribed.Optout_Date, subscribed.Optout_MsgID, subscribed.Optout_Subtype, subscribed.Optout_Type],
      ['', null, '', null, null, null]);
    assert.equal(subscribed.idRecipient, ids.get('s00@example.com'));

    const gone = byEmail.get('u1@example.com')!;
    assert.deepEqual([gone.Status, gone.Optin_Date, gone.Optout_Type], ['OPTOUT', '', 'user']);
    assert.equal(gone.Optout_Date, inNewYork(await stored('u1@example.com')));

    const waiting = byEmail.get('p1@example.com')!;
    assert.deepEqual([waiting.Status, waiting.Optin_Date, waiting.Optout_Date], ['PENDING', '', '']);
    assert.match(waiting.Optin_Request_Date, REST_DATE);
  });

  test("EmailOptins takes Status=='OPTIN'|'OPTOUT'|'PENDING' and Email, and refuses the rest with 400", async () => {
    const path = `/List/${a.list.id}/Recipients/EmailOptins`;
    const states = async (filter: string) => (await callRest<Envelope<RestOptin>>(svc, token, 'GET', `${path}?pageSize=1000&filterby=${encodeURIComponent(filter)}`)).body;
    assert.deepEqual((await states("Status=='OPTOUT'")).Items.map((r) => r.Email), unsubscribedEmails);
    assert.deepEqual((await states("Status=='PENDING'")).Items.map((r) => r.Email), pendingEmails);
    assert.equal((await states("Status=='OPTIN'")).TotalElementsCount, SUBSCRIBED);
    assert.deepEqual((await states("Status=='OPTOUT' and Email.Contains('u2')")).Items.map((r) => r.Email), ['u2@example.com']);
    assert.deepEqual((await mailupyCall<Envelope<RestOptin>>(svc, token, 'GET', `${path}?${mailupyQuery({ filter_by: "Email=='p2@example.com'" })}`)).body.Items.map((r) => r.Status), ['PENDING']);
    const refused = async (query: string, description: RegExp): Promise<void> =>
      assertMailUpError(await callRest(svc, token, 'GET', `${path}?${query}`), 400, description);
    await refused(`filterby=${encodeURIComponent("Status.Contains('OPT')")}`, /Status takes == only/);
    await refused(`filterby=${encodeURIComponent("Status=='SUBSCRIBED'")}`, /Status "SUBSCRIBED" is not OPTIN, OPTOUT or PENDING/);
    await refused(`filterby=${encodeURIComponent("Status=='OPTIN' and Status=='OPTOUT'")}`, /two different states/);
    await refused('orderby=Status', /Status cannot be ordered by/);
    await refused(`filterby=${encodeURIComponent("Name=='x'")}`, /unknown field "Name"; the fields of this resource are Email, Status, idRecipient/);
  });

  test("Group/{id}/Recipients (mailupy's get_recipient(s)_from_group): the members in any state, paged, filtered", async () => {
    const path = `/Group/${a.groups[0]!.id}/Recipients`;
    const { items, calls } = await allPagesAsMailupy<RestRecipient>(svc, token, path);
    assert.equal(calls, 2);
    assert.deepEqual(items.map((r) => r.Email), [...subscribedEmails.slice(0, 25), 'u1@example.com']);
    const one = await mailupyCall<Envelope<RestRecipient>>(svc, token, 'GET', `${path}?${mailupyQuery({ filter_by: "Email=='s03@example.com'" })}`);
    assert.deepEqual(one.body.Items.map((r) => r.idRecipient), [ids.get('s03@example.com')]);
    const empty = await mailupyCall<Envelope<RestRecipient>>(svc, token, 'GET', `/Group/${a.groups[1]!.id}/Recipients`);
    assert.deepEqual(empty.body, { IsPaginated: false, Items: [], PageNumber: 0, PageSize: 20, Skipped: 0, TotalElementsCount: 0 }, "mailupy's fixture");
  });
});
