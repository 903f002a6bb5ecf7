/**
 * The console's pages through fastify.inject(): sign-in and sessions, CSRF, cross-account and
 * restricted-user access, lists and groups, settings (a new WS password is refused at once over
 * SOAP), Send Now. The console runs on the store of a real test service, which also answers the
 * SOAP calls; a second console app on the same context has a clock the tests move. Runs on the
 * store TEST_STORE names (npm test runs it on both).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify';
import { hashPassword } from '../../src/core/passwords.ts';
import { LoginThrottle } from '../../src/core/login-throttle.ts';
import { callSoap, feedXml, resultFields, startTestService, type TestAccount, type TestService } from '../helpers/service.ts';
import { consoleRoutes } from '../../src/console/console-routes.ts';
import { hashSessionId } from '../../src/console/session.ts';

/** A minimal browser over inject(): keeps cookies, reads the CSRF token of the last page. */
class Client {
  readonly cookies = new Map<string, string>();
  last: LightMyRequestResponse | null = null;
  private token: string | null = null;

  /** `remoteAddress`: where the requests come from (inject's default is 127.0.0.1). */
  constructor(readonly app: FastifyInstance, private readonly remoteAddress?: string) {}

  async request(method: 'GET' | 'POST', url: string, form?: Record<string, string>, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await this.app.inject({
      method, url,
      headers: {
        ...(cookie ? { cookie } : {}),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        ...headers,
      },
      ...(form ? { payload: new URLSearchParams(form).toString() } : {}),
      ...(this.remoteAddress ? { remoteAddress: this.remoteAddress } : {}),
    });
    for (const c of ([] as string[]).concat((res.headers['set-cookie'] as string | string[] | undefined) ?? [])) {
      const [pair] = c.split(';');
      const [name, value] = [pair!.slice(0, pair!.indexOf('=')), pair!.slice(pair!.indexOf('=') + 1)];
      if (/Max-Age=0/.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    this.last = res;
    const token = /name="_csrf" value="([^"]+)"/.exec(res.body)?.[1];
    if (token !== undefined) this.token = token;
    return res;
  }

  get = (url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> => this.request('GET', url, undefined, headers);

  /** The CSRF token of the last page that had one. */
  get csrf(): string {
    if (this.token === null) throw new Error('no page with a CSRF token yet');
    return this.token;
  }

  /** Posts a form of the last page, with its CSRF token. */
  post = (url: string, form: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> =>
    this.request('POST', url, { _csrf: this.csrf, ...form }, headers);

  /** Signs in; a session cookie the client already holds is sent with the form (and must be replaced). */
  async signIn(account: string, username: string, password: string): Promise<LightMyRequestResponse> {
    const session = this.cookies.get('console_session');
    this.cookies.delete('console_session');
    await this.get('/console/sign-in');
    if (session !== undefined) this.cookies.set('console_session', session);
    return this.post('/console/sign-in', { account, username, password, next: '/console/imports' });
  }
}

let svc: TestService;
let a: TestAccount;
let b: TestAccount;
let clock = Date.now();
let app: FastifyInstance;
let otherListOfA: number;
let processOfA: number;
const PASSWORD = 'console-secret-1';

async function importInto(acc: TestAccount, rows: Parameters<typeof feedXml>[0], flags: Record<string, boolean> = {}): Promise<number> {
  const auth = { User: acc.user, Password: acc.password };
  const start = await callSoap(svc.endpoint, 'StartImportProcesses', {
    listsIDs: acc.list.id, listsGUIDs: acc.list.guid, groupsIDs: acc.groups[0]!.id, xmlDoc: feedXml(rows),
    importType: 3, mobileInputType: 1, asPending: false, ConfirmEmail: false, asOptOut: false, forceOptIn: false, replaceGroups: false, ...flags,
  }, auth);
  assert.equal(start.returnCode, 0, start.body);
  const id = Number(/<processID>(\d+)<\/processID>/.exec(start.result!)![1]);
  for (;;) {
    const reply = await callSoap(svc.endpoint, 'GetProcessDetails', { idList: acc.list.id, listGUID: acc.list.guid, idProcess: id }, auth);
    if (['3', '4'].includes(resultFields(reply.result!).StatusCode!)) return id;
    await new Promise((r) => setTimeout(r, 50));
  }
}

before(async () => {
  svc = await startTestService();
  a = await svc.addAccount({ listName: 'Alpha news' });
  b = await svc.addAccount({ listName: 'Beta news' });
  const store = svc.service.store;
  await store.accounts.createConsoleUser(a.account.id, 'alice', await hashPassword(PASSWORD));
  await store.accounts.createConsoleUser(b.account.id, 'bob', await hashPassword(PASSWORD));
  otherListOfA = (await store.lists.createList(a.account.id, 'Alpha offers')).id;
  await store.accounts.createConsoleUser(a.account.id, 'carol', await hashPassword(PASSWORD), [otherListOfA]);
  processOfA = await importInto(a, [{ email: 'anna@example.com', fields: ['Anna'] }, { email: 'broken' }, { email: 'ben@example.com', Number: '+39 333 1234567' }],
    { ConfirmEmail: true });
  app = Fastify({ routerOptions: { caseSensitive: false } });
  await app.register(consoleRoutes, { ctx: svc.service.context, prefix: '/console', now: () => new Date(clock) });
  await app.ready();
});

after(async () => {
  await app?.close();
  await svc?.close();
});

describe('signing in', () => {
  test('an anonymous visitor is sent to the sign-in page, htmx requests get HX-Redirect', async () => {
    const c = new Client(app);
    const page = await c.get('/console/lists?x=1');
    assert.equal(page.statusCode, 303);
    assert.equal(page.headers.location, '/console/sign-in?next=%2Fconsole%2Flists%3Fx%3D1');
    const fragment = await c.get('/console/imports/live', { 'hx-request': 'true' });
    assert.equal(fragment.statusCode, 401);
    assert.equal(fragment.headers['hx-redirect'], '/console/sign-in?notice=session-ended');
    assert.equal((await c.request('POST', '/console/lists', { name: 'x' })).statusCode, 303);
    assert.equal((await svc.service.store.lists.listLists(a.account.id)).length, 2);
  });

  test('a session starts with a fresh id, stored only as its hash, in an HttpOnly SameSite=Lax cookie', async () => {
    const c = new Client(app);
    const res = await c.signIn(a.user, 'alice', PASSWORD);
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/console/imports');
    const cookie = ([] as string[]).concat(res.headers['set-cookie'] as string[]).find((s) => s.startsWith('console_session='))!;
    assert.match(cookie, /; Path=\/console; HttpOnly; SameSite=Lax$/);
    const id = c.cookies.get('console_session')!;
    assert.equal(Buffer.from(id, 'base64url').length, 32);
    const rows = await svc.db.query<{ id_hash: string }>('SELECT id_hash FROM console_session');
    assert.ok(rows.some((r) => r.id_hash === hashSessionId(id)));
    assert.ok(!rows.some((r) => r.id_hash === id));
    const page = await c.get('/console/imports');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<span class="user">alice<\/span>/);
    assert.equal(page.headers['cache-control'], 'no-store');
    assert.match(String(page.headers['content-security-policy']), /script-src 'self'/);

    // Signing in again (fixation: the visitor may have planted the cookie) replaces the session.
    await c.signIn(a.user, 'alice', PASSWORD);
    assert.notEqual(c.cookies.get('console_session'), id);
    const stale = new Client(app);
    stale.cookies.set('console_session', id);
    assert.equal((await stale.get('/console/imports')).statusCode, 303);
  });

  test('wrong password, unknown user or account: one answer, no session; the sign-in form needs its token', async () => {
    for (const [account, user, password] of [[a.user, 'alice', 'wrong'], [a.user, 'nobody', PASSWORD], ['a999999', 'alice', PASSWORD], [b.user, 'alice', PASSWORD]]) {
      const c = new Client(app);
      const res = await c.signIn(account!, user!, password!);
      assert.equal(res.statusCode, 401);
      assert.match(res.body, /The account, user name or password is not right\./);
      assert.ok(!c.cookies.has('console_session'));
    }
    const c = new Client(app);
    await c.get('/console/sign-in');
    c.cookies.delete('console_sign_in');
    const res = await c.post('/console/sign-in', { account: a.user, username: 'alice', password: PASSWORD });
    assert.equal(res.statusCode, 403);
    assert.ok(!c.cookies.has('console_session'));
  });

  test('a user name with a NUL character is an unknown user, answered as any other', async () => {
    for (const username of ['alice\u0000', 'ali\u0000ce']) {
      const c = new Client(app);
      const res = await c.signIn(a.user, username, PASSWORD);
      assert.equal(res.statusCode, 401, JSON.stringify(username));
      assert.match(res.body, /The account, user name or password is not right\./);
      assert.ok(!c.cookies.has('console_session'));
    }
  });

  test('repeated failures slow sign-in down for that user and that address; nobody is refused', async () => {
    // Its own app and throttle, with a delay long enough to tell apart from a slow machine.
    const DELAY = 1500;
    const throttle = new LoginThrottle({ freeAttempts: 3, baseDelayMs: DELAY, maxDelayMs: 2 * DELAY, forgetAfterMs: 60_000, maxKeys: 1000 });
    const local = Fastify({ routerOptions: { caseSensitive: false } });
    await local.register(consoleRoutes, { ctx: svc.service.context, prefix: '/console', now: () => new Date(clock), throttle });
    await local.ready();
    try {
      await svc.service.store.accounts.createConsoleUser(a.account.id, 'tess', await hashPassword(PASSWORD));
      const timed = async (client: Client, account: string, username: string, password: string): Promise<[number, number]> => {
        const started = performance.now();
        const res = await client.signIn(account, username, password);
        return [res.statusCode, performance.now() - started];
      };
      const c = new Client(local);
      for (let i = 0; i < 3; i++) assert.equal((await c.signIn(a.user, 'tess', `wrong-${i}`)).statusCode, 401);
      const [status, waited] = await timed(c, a.user, 'tess', PASSWORD);
      assert.equal(status, 303, 'the right password still signs in');
      assert.ok(waited >= DELAY, `the fourth attempt waited ${waited.toFixed(0)} ms`);
      // The success cleared the user, not the address: another user from it is slowed too.
      const [bobStatus, bobWaited] = await timed(new Client(local), b.user, 'bob', PASSWORD);
      assert.equal(bobStatus, 303);
      assert.ok(bobWaited >= DELAY, `a user from the guessing address waited ${bobWaited.toFixed(0)} ms`);
      // From another address, the user whose count was cleared is not slowed.
      const [elsewhere, elsewhereWaited] = await timed(new Client(local, '10.9.8.7'), a.user, 'tess', PASSWORD);
      assert.equal(elsewhere, 303);
      assert.ok(elsewhereWaited < DELAY, `tess from another address waited ${elsewhereWaited.toFixed(0)} ms`);
      // Guessing one user from many addresses slows that user everywhere.
      for (let i = 0; i < 3; i++) assert.equal((await new Client(local, `10.0.0.${i + 1}`).signIn(a.user, 'alice', 'wrong')).statusCode, 401);
      const [, aliceWaited] = await timed(new Client(local, '10.0.0.99'), a.user, 'alice', PASSWORD);
      assert.ok(aliceWaited >= DELAY, `alice from a fresh address waited ${aliceWaited.toFixed(0)} ms`);
    } finally {
      await local.close();
    }
  });

  test('sessions end after 12 idle hours, and at sign-out', async () => {
    const c = new Client(app);
    await c.signIn(a.user, 'alice', PASSWORD);
    clock += 11 * 3600_000;
    assert.equal((await c.get('/console/imports')).statusCode, 200);
    clock += 11 * 3600_000;
    assert.equal((await c.get('/console/imports')).statusCode, 200);
    clock += 12 * 3600_000 + 1000;
    assert.equal((await c.get('/console/imports')).statusCode, 303);

    await c.signIn(a.user, 'alice', PASSWORD);
    const id = c.cookies.get('console_session')!;
    await c.get('/console/imports');
    const out = await c.post('/console/sign-out');
    assert.equal(out.statusCode, 303);
    assert.equal(out.headers.location, '/console/sign-in?notice=signed-out');
    assert.ok(!c.cookies.has('console_session'));
    const replay = new Client(app);
    replay.cookies.set('console_session', id);
    assert.equal((await replay.get('/console/imports')).statusCode, 303);
  });

  test('CONSOLE_SECURE_COOKIES=1 marks the cookies Secure', async () => {
    const secure = Fastify();
    await secure.register(consoleRoutes, { ctx: svc.service.context, prefix: '/console', secureCookies: true });
    try {
      const c = new Client(secure);
      const form = await c.get('/console/sign-in');
      assert.match(String(form.headers['set-cookie']), /; Secure$/);
      const res = await c.signIn(a.user, 'alice', PASSWORD);
      assert.match(([] as string[]).concat(res.headers['set-cookie'] as string[]).find((s) => s.startsWith('console_session='))!, /; Secure$/);
    } finally {
      await secure.close();
    }
  });
});

describe('CSRF', () => {
  test('a state-changing request without the session token, with a wrong one, or from another site changes nothing', async () => {
    const c = new Client(app);
    await c.signIn(a.user, 'alice', PASSWORD);
    await c.get('/console/lists');
    const token = c.csrf;
    const before = (await svc.service.store.lists.listLists(a.account.id)).length;
    for (const [form, headers] of [
      [{ name: 'No token' }, {}],
      [{ name: 'Wrong token', _csrf: 'x'.repeat(token.length) }, {}],
      [{ name: 'Other session token', _csrf: await otherSessionToken() }, {}],
      [{ name: 'Cross site', _csrf: token }, { origin: 'https://evil.example' }],
      [{ name: 'Cross site fetch', _csrf: token }, { 'sec-fetch-site': 'cross-site' }],
    ] as const) {
      const res = await c.request('POST', '/console/lists', form, headers);
      assert.equal(res.statusCode, 403, JSON.stringify(form));
      assert.match(res.body, /Request refused/);
    }
    for (const url of ['/console/settings/password', '/console/settings/access', `/console/send/${processOfA}`, '/console/sign-out']) {
      assert.equal((await c.request('POST', url, { newPassword: 'x'.repeat(12), confirmPassword: 'x'.repeat(12), currentPassword: PASSWORD })).statusCode, 403, url);
    }
    assert.equal((await svc.service.store.lists.listLists(a.account.id)).length, before);
    assert.equal((await c.get('/console/imports')).statusCode, 200, 'still signed in');
    // The right token, in the form or in the header htmx sends, is accepted from this site.
    assert.equal((await c.request('POST', '/console/lists', { name: 'With token', _csrf: token }, { origin: 'http://localhost:80' })).statusCode, 303);
    assert.equal((await c.request('POST', '/console/lists', { name: 'With header' }, { 'x-csrf-token': token })).statusCode, 303);
    assert.equal((await svc.service.store.lists.listLists(a.account.id)).length, before + 2);
  });
});

async function otherSessionToken(): Promise<string> {
  const other = new Client(app);
  await other.signIn(b.user, 'bob', PASSWORD);
  await other.get('/console/lists');
  return other.csrf;
}

describe('accounts are kept apart', () => {
  test("another account's process, list, recipient and messages are not found, and cannot be changed", async () => {
    const c = new Client(app);
    await c.signIn(b.user, 'bob', PASSWORD);
    const anna = (await svc.service.store.queries.searchRecipients(a.account.id, { emailPrefix: 'anna@' }, { limit: 1 })).items[0]!;
    for (const url of [
      `/console/imports/${processOfA}`, `/console/imports/${processOfA}/progress`, `/console/imports/${processOfA}/rejects`,
      `/console/imports/${processOfA}/rejects.csv`, `/console/lists/${a.list.id}`, `/console/lists/${a.list.id}/export.csv`,
      `/console/lists/${a.list.id}/stats`, `/console/lists/${a.list.id}/row`,
      `/console/recipients/${anna.id}`,
    ]) {
      const res = await c.get(url);
      assert.equal(res.statusCode, 404, url);
      assert.doesNotMatch(res.body, /anna@example\.com|Alpha news|broken/, url);
    }
    const search = await c.get(`/console/recipients?q=anna&list=${a.list.id}`);
    assert.doesNotMatch(search.body, /anna@example\.com/);
    const processes = await c.get('/console/imports');
    assert.doesNotMatch(processes.body, new RegExp(`/console/imports/${processOfA}"`));
    await c.get('/console/lists');
    for (const [url, form] of [
      [`/console/lists/${a.list.id}/rename`, { name: 'Taken over' }],
      [`/console/lists/${a.list.id}/groups`, { name: 'Intruders' }],
      [`/console/lists/${a.list.id}/groups/${a.groups[0]!.id}/rename`, { name: 'Intruders' }],
      [`/console/lists/${b.list.id}/groups/${a.groups[0]!.id}/rename`, { name: 'Intruders' }],
      [`/console/send/${processOfA}`, {}],
    ] as const) {
      assert.equal((await c.post(url, form)).statusCode, 404, url);
    }
    const listA = (await svc.service.store.lists.listLists(a.account.id, [a.list.id]))[0]!;
    assert.equal(listA.name, 'Alpha news');
    assert.deepEqual(listA.groups.map((g) => g.name), ['Group A', 'Group B']);
    const details = await callSoap(svc.endpoint, 'GetProcessDetails', { idList: a.list.id, listGUID: a.list.guid, idProcess: processOfA }, { User: a.user, Password: a.password });
    assert.equal(resultFields(details.result!).ConfirmationSent, 'False');
  });

  test('a user limited to some lists sees only those, and not the account-wide settings', async () => {
    const c = new Client(app);
    await c.signIn(a.user, 'carol', PASSWORD);
    const lists = await c.get('/console/lists');
    assert.match(lists.body, /Alpha offers/);
    assert.doesNotMatch(lists.body, /Alpha news/);
    assert.doesNotMatch(lists.body, /New list/);
    assert.equal((await c.get(`/console/lists/${a.list.id}`)).statusCode, 404);
    assert.equal((await c.get(`/console/imports/${processOfA}`)).statusCode, 404);
    assert.doesNotMatch((await c.get('/console/imports')).body, new RegExp(`#${processOfA}<`));
    assert.doesNotMatch((await c.get(`/console/recipients?q=anna`)).body, /anna@example\.com/);
    assert.equal((await c.get('/console/settings')).statusCode, 403);
    assert.equal((await c.get('/console/settings/endpoint')).statusCode, 403);
    await c.get('/console/lists');
    assert.equal((await c.post('/console/settings/password', { newPassword: 'carol-took-over', confirmPassword: 'carol-took-over', currentPassword: PASSWORD })).statusCode, 403);
    assert.equal((await callSoap(svc.endpoint, 'GetNlLists', {}, { User: a.user, Password: a.password })).returnCode, 0);
  });
});

describe('pages', () => {
  test('import status: the process table, the live panel, the process page with every GetProcessDetails field and the reject report', async () => {
    const c = new Client(app);
    await c.signIn(a.user, 'alice', PASSWORD);
    const list = await c.get('/console/imports');
    assert.match(list.body, new RegExp(`href="/console/imports/${processOfA}">#${processOfA}</a>`));
    const live = await c.get('/console/imports/live?state=stale');
    assert.equal(live.headers['hx-trigger'], 'imports-changed');
    const state = /\/console\/imports\/live\?state=([\d.]+)/.exec(live.body)![1]!;
    assert.equal((await c.get(`/console/imports/live?state=${state}`)).headers['hx-trigger'], undefined);
    assert.match(live.body, /100 %/);

    const page = await c.get(`/console/imports/${processOfA}`);
    assert.equal(page.statusCode, 200);
    for (const name of ['StartDate', 'EndDate', 'TotalContacts', 'NewMobile', 'NewEmail', 'OptOutMobile', 'OptOutEmail', 'ExistingMobile',
      'ExistingEmail', 'StatusCode', 'IsRunning', 'ConfirmationEmail', 'ConfirmationSent']) {
      assert.match(page.body, new RegExp(`<dt>${name}</dt>`), name);
    }
    assert.match(page.body, /<dt>TotalContacts<\/dt><dd>3<\/dd>/);
    assert.match(page.body, /<dt>ConfirmEmail<\/dt><dd>yes<\/dd>/);
    assert.match(page.body, /<td class="num">2<\/td><td>invalid e-mail address<\/td>/);

    const csv = await c.get(`/console/imports/${processOfA}/rejects.csv`);
    assert.equal(csv.headers['content-type'], 'text/csv; charset=utf-8');
    assert.match(String(csv.headers['content-disposition']), new RegExp(`attachment; filename="import-${processOfA}-rejects.csv"`));
    // A UTF-8 byte-order mark, then the row number, the reason and the row as sent, in its columns.
    assert.deepEqual([...csv.rawPayload.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
    assert.equal(csv.rawPayload.subarray(3).toString('utf8'), 'row,reason,email,Prefix,Number,Name\r\n2,invalid e-mail address,broken,,,\r\n');
    // The counters of each channel in their own columns: anna and ben new by e-mail, ben new by SMS.
    assert.match(list.body, /<td class="num">2<\/td><td class="num">0<\/td><td class="num">0<\/td>\s*<td class="num">1<\/td><td class="num">0<\/td><td class="num">0<\/td>/);
  });

  test('a reject page past the last rejected row is an empty page', async () => {
    const c = new Client(app);
    await c.signIn(a.user, 'alice', PASSWORD);
    for (const after of ['3', '2147483648', '999999999999999']) {
      const res = await c.get(`/console/imports/${processOfA}/rejects?after=${after}`);
      assert.equal(res.statusCode, 200, `after=${after}`);
      assert.doesNotMatch(res.body, /invalid e-mail address/, `after=${after}`);
    }
  });

  test('process pages come newest first, 25 at a time, with links to older and newer ones', async () => {
    const acc = await svc.addAccount({ listName: 'Paging' });
    await svc.service.store.accounts.createConsoleUser(acc.account.id, 'pat', await hashPassword(PASSWORD));
    const ids: number[] = [];
    for (let i = 0; i < 27; i++) {
      const r = await callSoap(svc.endpoint, 'NewImportProcess', {
        idList: acc.list.id, listGUID: acc.list.guid, xmlDoc: feedXml([{ email: `p${i}@example.com` }]), idGroups: '', importType: 3,
        mobileInputType: 1, asPending: false, ConfirmEmail: false, asOptOut: false, forceOptIn: false, replaceGroups: false, idConfirmNL: 0,
      }, { User: acc.user, Password: acc.password });
      ids.push(r.returnCode!);
    }
    const c = new Client(app);
    await c.signIn(acc.user, 'pat', PASSWORD);
    const shown = (body: string): number[] => [...body.matchAll(/href="\/console\/imports\/(\d+)">#/g)].map((m) => Number(m[1]));
    const first = await c.get('/console/imports?status=waiting');
    assert.deepEqual(shown(first.body), ids.slice(2).reverse());
    const older = /href="([^"]+)" rel="next"/.exec(first.body)![1]!.replace(/&amp;/g, '&');
    const second = await c.get(older);
    assert.deepEqual(shown(second.body), [ids[1], ids[0]]);
    assert.doesNotMatch(second.body, /rel="next"/);
    const newer = /href="([^"]+)" rel="prev"/.exec(second.body)![1]!.replace(/&amp;/g, '&');
    assert.deepEqual(shown((await c.get(newer)).body), ids.slice(2).reverse());
    assert.deepEqual(shown((await c.get('/console/imports?status=completed')).body), []);
    // Runs, 10 a page: each process never started is a run of its own, newest first.
    const runsOf = (body: string): number[] => [...body.matchAll(/data-testid="run-(\d+)"/g)].map((m) => Number(m[1]));
    assert.deepEqual(runsOf(first.body), ids.slice(-10).reverse());
    const olderRuns = /href="([^"]+)">Older runs/.exec(first.body)![1]!.replace(/&amp;/g, '&');
    assert.deepEqual(runsOf((await c.get(olderRuns)).body), ids.slice(-20, -10).reverse());
    assert.deepEqual(runsOf((await c.get('/console/imports?runs=20')).body), ids.slice(0, 7).reverse());
  });

  test('lists and groups: create, rename, duplicates and bad names refused, counts by channel and status', async () => {
    const c = new Client(app);
    await c.signIn(a.user, 'alice', PASSWORD);
    await c.get('/console/lists');
    assert.equal((await c.post('/console/lists', { name: '   ' })).statusCode, 400);
    const created = await c.post('/console/lists', { name: '  Gamma <news>  ' });
    assert.equal(created.statusCode, 303);
    const listId = Number(/\/console\/lists\/(\d+)\?notice=list-created/.exec(created.headers.location!)![1]);
    const page = await c.get(created.headers.location!);
    assert.match(page.body, /<h1>Gamma &lt;news&gt;<\/h1>/);
    assert.match(page.body, /The list was created\./);
    assert.equal((await c.post(`/console/lists/${listId}/rename`, { name: 'Gamma' })).statusCode, 303);
    assert.equal((await c.post(`/console/lists/${listId}/groups`, { name: '   ' })).statusCode, 400);
    assert.equal((await c.post(`/console/lists/${listId}/groups`, { name: 'VIP' })).headers.location, `/console/lists/${listId}?notice=group-created`);
    assert.equal((await c.post(`/console/lists/${listId}/groups`, { name: 'vip' })).headers.location, `/console/lists/${listId}?notice=group-exists`);
    await c.post(`/console/lists/${listId}/groups`, { name: 'Staff' });
    const [gamma] = await svc.service.store.lists.listLists(a.account.id, [listId]);
    assert.equal(gamma!.name, 'Gamma');
    const [vip, staff] = gamma!.groups;
    await c.get(`/console/lists/${listId}`);
    const clash = await c.post(`/console/lists/${listId}/groups/${staff!.id}/rename`, { name: 'VIP' });
    assert.equal(clash.statusCode, 409);
    assert.match(clash.body, /already has a group of that name/);
    assert.equal((await c.post(`/console/lists/${listId}/groups/${vip!.id}/rename`, { name: 'V.I.P.' })).statusCode, 303);
    assert.deepEqual((await svc.service.store.lists.getGroups(listId)).map((g) => g.name), ['V.I.P.', 'Staff']);

    // The page comes first, its counts follow (or come at once with ?counts=1, for browsers without scripts).
    const alpha = await c.get(`/console/lists/${a.list.id}`);
    assert.match(alpha.body, new RegExp(`hx-get="/console/lists/${a.list.id}/stats" hx-trigger="load"`));
    const counts = (body: string): string[] => [...body.matchAll(/<span class="n">([\d,]+)<\/span><span class="l">([^<]+)<\/span>/g)].map((m) => `${m[2]}=${m[1]}`);
    // anna and ben are pending on e-mail (ConfirmEmail); ben's mobile is subscribed on SMS.
    const expected = ['recipients in the list=2', 'E-mail subscribed=0', 'E-mail pending=2', 'E-mail unsubscribed=0',
      'SMS subscribed=1', 'SMS pending=0', 'SMS unsubscribed=0'];
    const fragment = await c.get(`/console/lists/${a.list.id}/stats`);
    assert.doesNotMatch(fragment.body, /<html/);
    assert.deepEqual(counts(fragment.body), expected);
    assert.deepEqual(counts((await c.get(`/console/lists/${a.list.id}?counts=1`)).body), expected);
    // Group A has both; Group B nobody.
    assert.match(fragment.body, /Group A<\/a><\/td>\s*<td class="num">\d+<\/td>\s*<td class="num">2<\/td>\s*<td class="num">0<\/td><td class="num">2<\/td><td class="num">0<\/td><td class="num">1<\/td>/);
    const row = await c.get(`/console/lists/${a.list.id}/row`);
    assert.match(row.body, /^<tr>/);
    assert.match(row.body, /<td class="num">2<\/td><td class="num">0<\/td><td class="num">2<\/td><td class="num">0<\/td><td class="num">1<\/td>/);
    const exported = await c.get(`/console/lists/${a.list.id}/export.csv`);
    assert.deepEqual([...exported.rawPayload.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'a UTF-8 byte-order mark, for Excel');
    const lines = exported.rawPayload.subarray(3).toString('utf8').trimEnd().split('\r\n');
    assert.equal(lines[0], 'email,mobile,name,email_status,sms_status,campo1,created,updated');
    // Times as ISO 8601 with the offset of TIME_ZONE.
    assert.match(lines[1]!, /^anna@example\.com,,,pending,,Anna,\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d,\d{4}-/);
    assert.match(lines[2]!, /^ben@example\.com,\+393331234567,,pending,subscribed,,\d{4}-/);
    assert.equal(lines.length, 3);
  });

  test('recipients: search, filter, and a recipient page with subscriptions, groups and history', async () => {
    const c = new Client(app);
    await c.signIn(a.user, 'alice', PASSWORD);
    const byEmail = await c.get('/console/recipients?q=ANNA');
    assert.match(byEmail.body, /anna@example\.com/);
    assert.doesNotMatch(byEmail.body, /ben@example\.com/);
    const byMobile = await c.get(`/console/recipients?q=${encodeURIComponent('0039 333 12')}`);
    assert.match(byMobile.body, /ben@example\.com/);
    assert.doesNotMatch(byMobile.body, /anna@example\.com/);
    const sms = await c.get(`/console/recipients?list=${a.list.id}&channel=sms&status=subscribed`);
    assert.match(sms.body, /ben@example\.com/);
    assert.doesNotMatch(sms.body, /anna@example\.com/);
    const ben = /href="\/console\/recipients\/(\d+)">ben@example\.com/.exec(sms.body)![1];
    const page = await c.get(`/console/recipients/${ben}`);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<dt>Mobile<\/dt><dd class="mono">\+393331234567<\/dd>/);
    assert.match(page.body, /Group A/);
    assert.match(page.body, new RegExp(`href="/console/imports/${processOfA}">import #${processOfA}</a>`));
    assert.match(page.body, /<h3>Confirmation requests<\/h3>[\s\S]*queued/);
  });

  test('a search for text no address starts with finds nothing, whatever characters it holds (a NUL included)', async () => {
    const c = new Client(app);
    await c.signIn(a.user, 'alice', PASSWORD);
    for (const q of ['anna\u0000', '\u0000', 'ann%']) {
      const res = await c.get(`/console/recipients?q=${encodeURIComponent(q)}`);
      assert.equal(res.statusCode, 200, JSON.stringify(q));
      assert.doesNotMatch(res.body, /anna@example\.com/, JSON.stringify(q));
    }
  });

  test('every page renders, and a fragment request gets a fragment', async () => {
    const c = new Client(app);
    await c.signIn(a.user, 'alice', PASSWORD);
    for (const url of ['/console', '/console/imports', `/console/imports/${processOfA}/rejects`, '/console/lists', '/console/recipients',
      '/console/send', '/console/send/outbox', '/console/settings', '/console/settings/endpoint']) {
      const res = await c.get(url);
      assert.ok(res.statusCode === 200 || (url === '/console' && res.statusCode === 303), `${url}: ${res.statusCode}`);
    }
    assert.doesNotMatch((await c.get('/console/send/live')).body, /<html/);
    assert.equal((await c.get('/console/no-such-page')).statusCode, 404);
    const css = await c.get('/console/assets/console.css');
    assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');
    assert.equal((await c.get('/console/assets/console.css', { 'if-none-match': String(css.headers.etag) })).statusCode, 304);
    assert.match((await c.get('/console/assets/htmx.min.js')).body, /htmx/);
  });
});

describe('web-service settings', () => {
  test('a new WS password works at once over SOAP and the old one is refused; a wrong console password changes nothing', async () => {
    const acc = await svc.addAccount({ listName: 'Settings' });
    await svc.service.store.accounts.createConsoleUser(acc.account.id, 'sam', await hashPassword(PASSWORD));
    const old = { User: acc.user, Password: acc.password };
    // The credential cache now holds the old password.
    assert.equal((await callSoap(svc.endpoint, 'GetNlLists', {}, old)).returnCode, 0);
    const c = new Client(app);
    await c.signIn(acc.user, 'sam', PASSWORD);
    await c.get('/console/settings');
    const refused = [
      { newPassword: 'short', confirmPassword: 'short', currentPassword: PASSWORD },
      { newPassword: 'long-enough-1', confirmPassword: 'long-enough-2', currentPassword: PASSWORD },
      { newPassword: 'long-enough-1', confirmPassword: 'long-enough-1', currentPassword: 'not-mine' },
    ];
    for (const form of refused) assert.equal((await c.post('/console/settings/password', form)).statusCode, 400);
    assert.equal((await callSoap(svc.endpoint, 'GetNlLists', {}, old)).returnCode, 0);
    await c.get('/console/settings');
    const changed = await c.post('/console/settings/password', { newPassword: 'fresh-WS-pass-9', confirmPassword: 'fresh-WS-pass-9', currentPassword: PASSWORD });
    assert.equal(changed.headers.location, '/console/settings?notice=password-changed');
    assert.equal((await callSoap(svc.endpoint, 'GetNlLists', {}, old)).returnCode, -1002);
    assert.equal((await callSoap(svc.endpoint, 'GetNlLists', {}, { User: acc.user, Password: 'fresh-WS-pass-9' })).returnCode, 0);
    // The real server serves the same console: the HTTP POST binding next to it still reads its own form bodies.
    const binding = await fetch(new URL('/Services/WSMailUpImport.asmx/GetNlLists', svc.endpoint), {
      method: 'POST', body: '',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${acc.user}:fresh-WS-pass-9`).toString('base64')}` },
    });
    assert.match(await binding.text(), /ReturnCode&gt;0&lt;/);
  });

  test('enabled, IP check and allowed addresses take effect over SOAP; bad addresses are refused', async () => {
    const acc = await svc.addAccount({ listName: 'Access' });
    await svc.service.store.accounts.createConsoleUser(acc.account.id, 'ivy', await hashPassword(PASSWORD));
    const auth = { User: acc.user, Password: acc.password };
    const c = new Client(app);
    await c.signIn(acc.user, 'ivy', PASSWORD);
    await c.get('/console/settings');
    const bad = await c.post('/console/settings/access', { enabled: '1', ipCheck: '1', allowedIps: '10.0.0.1\n192.168.0.0/24' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /Not an IPv4 or IPv6 address: 192\.168\.0\.0\/24\..*ranges are not supported/);
    assert.equal((await c.post('/console/settings/access', { enabled: '1', ipCheck: '1', allowedIps: '' })).statusCode, 400);
    assert.equal((await c.post('/console/settings/access', { ipCheck: '1', allowedIps: '127.0.0.1' })).statusCode, 303);
    assert.equal((await callSoap(svc.endpoint, 'GetNlLists', {}, auth)).returnCode, -1006);
    await c.get('/console/settings');
    await c.post('/console/settings/access', { enabled: '1', ipCheck: '1', allowedIps: '10.1.2.3, 2001:DB8:0:0::1' });
    assert.deepEqual((await svc.service.store.accounts.getAccount(acc.account.id))!.allowedIps, ['10.1.2.3', '2001:db8::1']);
    assert.equal((await callSoap(svc.endpoint, 'GetNlLists', {}, auth)).returnCode, -1011);
    await c.get('/console/settings');
    await c.post('/console/settings/access', { enabled: '1', ipCheck: '1', allowedIps: '::ffff:127.0.0.1\n10.1.2.3' });
    assert.equal((await callSoap(svc.endpoint, 'GetNlLists', {}, auth)).returnCode, 0);
    const endpoint = await c.get('/console/settings/endpoint');
    assert.match(endpoint.body, new RegExp(`&lt;ws:User&gt;${acc.user}&lt;/ws:User&gt;`));
    assert.match(endpoint.body, /\/Services\/WSMailupImport\.asmx\?WSDL/);
  });
});

describe('Send Now', () => {
  test('sends the queued requests of a process, and ConfirmationSent becomes True over SOAP', async () => {
    const acc = await svc.addAccount({ listName: 'Double opt-in' });
    await svc.service.store.accounts.createConsoleUser(acc.account.id, 'dora', await hashPassword(PASSWORD));
    const id = await importInto(acc, [{ email: 'x1@example.com' }, { email: 'x2@example.com' }], { ConfirmEmail: true });
    const auth = { User: acc.user, Password: acc.password };
    const sent = async (): Promise<string> =>
      resultFields((await callSoap(svc.endpoint, 'GetProcessDetails', { idList: acc.list.id, listGUID: acc.list.guid, idProcess: id }, auth)).result!).ConfirmationSent!;
    assert.equal(await sent(), 'False');
    const c = new Client(app);
    await c.signIn(acc.user, 'dora', PASSWORD);
    const before = await c.get('/console/send');
    assert.match(before.body, new RegExp(`Send Now<span class="visually-hidden"> for import ${id}</span>`));
    const res = await c.post(`/console/send/${id}`);
    assert.equal(res.headers.location, '/console/send?notice=send-started');
    const deadline = Date.now() + 30_000;
    while ((await sent()) !== 'True') {
      assert.ok(Date.now() < deadline, 'ConfirmationSent did not become True');
      await new Promise((r) => setTimeout(r, 50));
    }
    let page = await c.get('/console/send');
    while (!/data-testid="send-report"/.test(page.body)) {
      assert.ok(Date.now() < deadline, 'the Send Now report did not appear');
      await new Promise((r) => setTimeout(r, 50));
      page = await c.get('/console/send');
    }
    assert.match(page.body, /2 written to the outbox,\s+0 failed/);
    assert.match(page.body, new RegExp(`data-testid="confirmation-sent-${id}"><span class="badge badge-ok">True`));
    const outbox = /href="\/console\/send\/outbox\/(\d+)">x2@example\.com/.exec(page.body)![1];
    const message = await c.get(`/console/send/outbox/${outbox}`);
    assert.match(message.body, /\/confirm\//);
    // Another account's user cannot read it.
    const other = new Client(app);
    await other.signIn(b.user, 'bob', PASSWORD);
    assert.equal((await other.get(`/console/send/outbox/${outbox}`)).statusCode, 404);
  });
});
